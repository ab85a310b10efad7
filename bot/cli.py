"""Command line: run (the Telegram bot), console, ask, check, eval.

Thin: parse arguments, call into `bot/`. Telegram is imported only by `run`, so `ask`, `check`
and `eval` start fast. Every failure a user can cause is a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from bot.answering.engine import Engine
from bot.answering.knowledge import Knowledge, KnowledgeError, check_knowledge, load_knowledge
from bot.config import ConfigError, Settings, load_dotenv, project_root

PROG = "run_bot.py"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {PROG} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Remedial massage & back pain FAQ bot.")
    parser.add_argument(
        "--knowledge",
        type=Path,
        default=None,
        help="knowledge directory (default: $KNOWLEDGE_DIR or knowledge/)",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run the Telegram bot (the default)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Run the Telegram bot: long polling, or a webhook with --webhook-url. "
        "'python run_bot.py [options]' is the same as 'python run_bot.py run [options]'.",
    )
    run.add_argument(
        "--drop-pending",
        action="store_true",
        help="skip updates that arrived while the bot was down",
    )
    run.add_argument(
        "--webhook-url",
        help="use a webhook at this public HTTPS URL instead of polling (Telegram accepts "
        "ports 443, 80, 88 and 8443); needs TELEGRAM_WEBHOOK_SECRET",
    )
    run.add_argument(
        "--listen", default="127.0.0.1", help="webhook: the local address to listen on"
    )
    run.add_argument("--port", type=int, default=8443, help="webhook: the local port")
    run.add_argument(
        "--url-path",
        default="telegram",
        help="webhook: the local path requests arrive at (the path your proxy forwards to)",
    )

    sub.add_parser("console", help="chat with the bot locally, no Telegram needed")

    ask = sub.add_parser("ask", help="answer one question, or many with --json -")
    ask.add_argument("question", help="the question, or - to read one per line from stdin")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")

    check = sub.add_parser("check", help="validate the knowledge YAML (file:line per problem)")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")

    sub.add_parser(
        "train",
        help="retrain the crisis and emergency signals from crisis-examples.yaml and asked.yaml",
    )

    ev = sub.add_parser("eval", help="score labelled question files")
    ev.add_argument("file", type=Path, nargs="+")
    ev.add_argument(
        "--sweep",
        action="store_true",
        help="score every file under a grid of matching settings and print one table",
    )

    bench = sub.add_parser("bench", help="benchmark the matcher (measures, never fails on time)")
    bench.add_argument(
        "--sizes",
        default="15,1000,10000",
        help="comma-separated knowledge base sizes (default 15,1000,10000)",
    )
    bench.add_argument("--questions", type=int, default=400, help="questions per size")

    report = sub.add_parser("report", help="what users asked that the bot could not answer")
    report.add_argument("--json", action="store_true", help="machine-readable output")
    report.add_argument(
        "--days", type=int, default=None, help="only the last N days (default: everything kept)"
    )
    report.add_argument("--limit", type=int, default=20, help="rows per section (default 20)")
    return parser


def _settings(root: Path) -> Settings:
    load_dotenv(root / ".env")
    return Settings.from_env(root=root)


def _with_default_command(argv: list[str]) -> list[str]:
    """`run_bot.py [--knowledge DIR] [run options]` means `run_bot.py ... run [run options]`."""
    i = 0
    while i < len(argv):
        if argv[i] == "--knowledge":
            i += 2
        elif argv[i].startswith("--knowledge="):
            i += 1
        else:
            break
    if i >= len(argv) or (argv[i].startswith("-") and argv[i] not in ("-h", "--help")):
        return [*argv[:i], "run", *argv[i:]]
    return argv  # a command (or a mistyped one, which argparse names), or --help


def _knowledge_dir(args: argparse.Namespace, settings: Settings) -> Path:
    return args.knowledge if args.knowledge is not None else settings.knowledge_dir


def _load(directory: Path, err: TextIO) -> Knowledge | None:
    try:
        return load_knowledge(directory)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        print(
            f"{PROG}: the knowledge base has {len(exc.problems)} problem(s); run '{PROG} check'",
            file=err,
        )
        return None


def entry(root: Path) -> int:
    """`main` for run_bot.py: output piped into a reader that stops early (`| head`) ends the
    command quietly, without a traceback."""
    try:
        code = main(root=root)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader has gone; send what Python flushes at exit nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    root: Path | None = None,
) -> int:
    """Run one command. `root` is the project folder (run_bot.py's): .env and relative
    KNOWLEDGE_DIR / BOT_DATA_DIR are found there, whatever the current directory."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = _parser().parse_args(_with_default_command(list(sys.argv[1:] if argv is None else argv)))
    try:
        settings = _settings(root or project_root())
    except ConfigError as exc:
        print(f"{PROG}: {exc}", file=err)
        return 2
    command = args.command
    directory = _knowledge_dir(args, settings)

    if command == "check":
        return _check(directory, args.strict, out)
    if command == "train":  # works while the model is missing or stale
        return _train(directory, out, err)
    if command == "bench":
        return _bench(directory, args.sizes, args.questions, out, err)
    if command == "run":
        from bot.telegram.app import run  # only here: keeps Telegram out of the other commands

        return run(settings, directory, args)
    if command == "report":  # works with a broken knowledge base too
        return _report(directory, settings, args, out, err)

    knowledge = _load(directory, err)
    if knowledge is None:
        return 1
    engine = Engine(knowledge)
    if command == "ask":
        return _ask(engine, args.question, args.json, stdin, out)
    if command == "console":
        from bot.console import console

        return console(engine, stdin, out, settings)
    if command == "eval":
        return _eval(engine, args.file, args.sweep, out, err)
    raise AssertionError(command)  # argparse only allows the commands above


def _ask(engine: Engine, question: str, as_json: bool, stdin: TextIO, out: TextIO) -> int:
    questions = (line.rstrip("\r\n") for line in stdin) if question == "-" else iter([question])
    for q in questions:
        reply = engine.answer(q)
        text = engine.render_plain(reply)
        if as_json:
            out.write(json.dumps(reply.as_json(text), ensure_ascii=False) + "\n")
        else:
            out.write(text + "\n")
            if question == "-":
                out.write("\n")
        out.flush()
    return 0


def _train(directory: Path, out: TextIO, err: TextIO) -> int:
    from bot.answering.knowledge import (
        SAFETY_FILE,
        SIGNAL_SECTIONS,
        Positive,
        read_training_pairs,
        skips_for,
        stemming_for,
    )
    from bot.answering.signal import train
    from bot.answering.yamlsource import read_yaml

    safety = read_yaml(directory / SAFETY_FILE, str(directory / SAFETY_FILE))[0]
    signal = safety.value.get("signal") if safety is not None else None
    if not isinstance(signal, dict) or not isinstance(signal.get("model"), str):
        print(f"{PROG}: {directory / SAFETY_FILE} names no crisis model (signal: model:)", file=err)
        return 1
    models: list[tuple[Positive, str]] = []
    for section, positive in SIGNAL_SECTIONS.items():
        raw = safety.value.get(section) if safety is not None else None
        if isinstance(raw, dict) and isinstance(raw.get("model"), str):
            models.append((positive, raw["model"]))
    if len({name for _, name in models}) < len(models):
        print(f"{PROG}: each signal needs a model file of its own", file=err)
        return 1
    examples = []
    for positive, name in models:  # nothing is written unless every model can be trained
        pairs = read_training_pairs(directory, positive)
        count = sum(1 for _, is_positive in pairs if is_positive)
        examples.append((positive, name, pairs, count))
        if not count or count == len(pairs):
            print(
                f"{PROG}: training needs {positive} and other examples ({count} of {len(pairs)})",
                file=err,
            )
            return 1
    for positive, name, pairs, count in examples:
        model = train(pairs, stemming_for(positive), skips_for(positive))
        path = directory / name
        path.write_text(model.to_json(), encoding="utf-8")
        print(
            f"trained on {len(pairs)} messages ({count} {positive}): {len(model.weights)} "
            f"weights written to {path}",
            file=out,
        )
    return _train_entry_model(directory, out, err)


def _train_entry_model(directory: Path, out: TextIO, err: TextIO) -> int:
    """The learned entry model, from the knowledge base as it loads now (with the signals
    just trained)."""
    from bot.answering import entrymodel
    from bot.answering.semantic import EMBEDDER, _model, unit_vectors

    knowledge, problems = check_knowledge(directory)
    if knowledge is None:
        print(f"{PROG}: the entry model needs a knowledge base that loads:", file=err)
        for problem in problems:
            print(problem, file=err)
        return 1
    embedder = _model()
    if embedder is None:
        print(f"{PROG}: the entry model needs the wordllama package; not trained", file=err)
        return 1
    pairs = entrymodel.examples(knowledge)
    model = entrymodel.train(pairs, lambda texts: unit_vectors(embedder, texts), EMBEDDER)
    path = directory / entrymodel.MODEL_FILE
    path.write_text(model.to_json(), encoding="utf-8")
    print(
        f"trained on {len(pairs)} wordings of {len(model.classes) - 1} entries and questions "
        f"no entry answers: {len(model.words)} word features written to {path}",
        file=out,
    )
    return 0


def _check(directory: Path, strict: bool, out: TextIO) -> int:
    knowledge, problems = check_knowledge(directory)
    from bot.maintain.lint import lint

    if knowledge is not None:
        problems = sorted([*problems, *lint(knowledge)])
    for problem in problems:
        print(problem, file=out)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if errors or (strict and warnings):
        print(f"{len(errors)} error(s), {len(warnings)} warning(s)", file=out)
        return 1
    assert knowledge is not None
    print(
        f"ok: {len(knowledge.entries)} entries, {len(knowledge.safety.flags)} red flags, "
        f"{len(knowledge.safety.languages)} languages, {len(warnings)} warning(s)",
        file=out,
    )
    return 0


def _eval(engine: Engine, paths: list[Path], sweep: bool, out: TextIO, err: TextIO) -> int:
    from bot.maintain.evaluation import (
        evaluate,
        evaluate_safety,
        is_safety_set,
        read_labelled,
        sweep_table,
    )

    sets = {}
    for path in paths:
        items, problems = read_labelled(path)
        for problem in problems:
            print(problem, file=err)
        if not items:
            print(f"{PROG}: no labelled questions read from {path}", file=err)
            return 1
        sets[path.name] = items
    if sweep:
        print(sweep_table(engine, sets), file=out)
        return 0
    for name, items in sets.items():
        if len(sets) > 1:
            print(f"## {name}", file=out)
        report = evaluate_safety(engine, items) if is_safety_set(items) else evaluate(engine, items)
        print(report.format(), file=out)
    return 0


def _report(
    directory: Path, settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    import time

    from bot.maintain.report import build_report
    from bot.store import DB_FILE, Store

    path = settings.data_dir / DB_FILE
    if not path.exists():
        print(f"{PROG}: no records yet ({path} does not exist; the bot creates it)", file=err)
        return 1
    if args.days is not None and args.days < 1:
        print(f"{PROG}: --days must be at least 1", file=err)
        return 2
    store = Store.open(settings.data_dir, settings.retention_days)
    if store is None:
        print(f"{PROG}: cannot open {path}", file=err)
        return 1
    since = time.time() - args.days * 86400 if args.days else 0.0
    report = build_report(store, _report_engine(directory, err), since)
    store.close()
    if args.json:
        out.write(json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(report.format(limit=max(1, args.limit)) + "\n")
    return 0


def _report_engine(directory: Path, err: TextIO, shown: int = 3) -> Engine | None:
    """An engine for the report's closest entries, or None with a warning when the knowledge
    base has errors: the report is most needed then, so it runs without them."""
    knowledge, problems = check_knowledge(directory)
    if knowledge is not None:
        return Engine(knowledge)
    errors = [p for p in problems if p.severity == "error"]
    print(
        f"{PROG}: warning: the knowledge base has {len(errors)} problem(s), so the report leaves "
        f"out the closest entries; run '{PROG} check' to see them all. The first:",
        file=err,
    )
    for problem in errors[:shown]:
        print(f"  {problem}", file=err)
    return None


def _bench(directory: Path, sizes: str, questions: int, out: TextIO, err: TextIO) -> int:
    try:
        parsed = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError:
        parsed = []
    if not parsed or any(n < 1 or n > 100_000 for n in parsed) or not 10 <= questions <= 100_000:
        print(f"{PROG}: --sizes takes numbers from 1 to 100000, --questions 10 to 100000", file=err)
        return 2
    from bot.maintain.bench import main as bench_main

    table = bench_main(directory, parsed, questions, log=lambda line: print(line, file=err))
    print(table, file=out)
    return 0
