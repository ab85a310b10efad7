"""How the blind sets were split: pool both writers, group by label, deal alternately.

Usage (as run once, from the project root): python tests/data/blind-briefs/split.py safety
/tmp/blind/safety_A.yaml /tmp/blind/safety_B.yaml
"""

import random
import sys
from pathlib import Path

import yaml

kind, files = sys.argv[1], sys.argv[2:]
items = []
for f in files:
    writer = f.rsplit("_", 1)[1].split(".")[0]
    for it in yaml.safe_load(Path(f).read_text(encoding="utf-8")):
        items.append({**it, "writer": writer})
rng = random.Random(20261127)
groups: dict[tuple[str, str], list[dict[str, object]]] = {}
for it in items:
    groups.setdefault((it["expect"], it.get("lang", "en")), []).append(it)
tune: list[dict[str, object]] = []
sealed: list[dict[str, object]] = []
flip = 0
for key in sorted(groups):
    group = groups[key]
    rng.shuffle(group)
    for it in group:
        (tune if flip % 2 == 0 else sealed).append(it)
        flip += 1
print(kind, "total", len(items), "tune", len(tune), "sealed", len(sealed))
for name, part in (("tune", tune), ("sealed", sealed)):
    with open(f"tests/data/blind-{kind}-{name}.yaml", "w", encoding="utf-8") as fh:
        fh.write(f"# Blind {kind} set, {name} half. See tests/data/BLIND.md.\n")
        yaml.safe_dump(part, fh, allow_unicode=True, sort_keys=False, width=100)
