"""Split blind sets: combine writers, stratify by label, half to tune, half sealed."""
import random
import sys

import yaml

kind, files = sys.argv[1], sys.argv[2:]
items = []
for f in files:
    writer = f.rsplit('_', 1)[1].split('.')[0]
    for it in yaml.safe_load(open(f)):
        it = dict(it); it['writer'] = writer; items.append(it)
rng = random.Random(20261127)
by = {}
for it in items:
    key = (it['expect'], it.get('lang', 'en'))
    by.setdefault(key, []).append(it)
tune, sealed = [], []
flip = 0
for key in sorted(by):
    group = by[key]; rng.shuffle(group)
    for it in group:
        (tune if flip % 2 == 0 else sealed).append(it); flip += 1
print(kind, 'total', len(items), 'tune', len(tune), 'sealed', len(sealed))
for name, part in (('tune', tune), ('sealed', sealed)):
    with open(f'/work/main/tests/data/blind-{kind}-{name}.yaml', 'w') as fh:
        fh.write(f'# Blind {kind} set, {name} half. See tests/data/BLIND.md for how it was written.\n')
        yaml.safe_dump(part, fh, allow_unicode=True, sort_keys=False, width=100)
