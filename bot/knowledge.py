"""Load and validate the knowledge YAML into frozen dataclasses.

`load_knowledge` either returns a complete, valid `Knowledge` or raises `KnowledgeError` with
every problem found, each as file:line. Nothing is silently dropped: a broken entry makes the
whole load fail, so a running bot keeps its last good knowledge base instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from bot.lexicon import ContextRules
from bot.safety import CARD_TIERS, DEFAULT_CANCELLED_BY, Card, Flag, LanguagePack, SafetyData
from bot.yamlsource import Located, Problem, read_yaml

MIN_PHRASINGS = 6
ARTICLE_FILE = "article.txt"
SCHEMA_FILE = "schema.json"
TEXTS_FILE = "texts.yaml"
SAFETY_FILE = "safety.yaml"
VOCABULARY_FILE = "vocabulary.yaml"
SUBJECTS_FILE = "subjects.yaml"
LANGUAGES_DIR = "languages"
ARTICLE_SOURCE = "article"


@dataclass(frozen=True)
class Caution:
    text: str
    source: str


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    phrasings: tuple[str, ...]
    answer: str
    quotes: tuple[str, ...]
    caution: Caution | None
    related: tuple[str, ...]
    source: str
    file: str = ""
    line: int = 0
    phrasing_lines: tuple[int, ...] = ()

    @property
    def from_article(self) -> bool:
        return self.source == ARTICLE_SOURCE


@dataclass(frozen=True)
class SmalltalkIntent:
    id: str
    phrases: tuple[str, ...]
    reply: str


@dataclass(frozen=True)
class NotCovered:
    topic: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Subjects:
    """What a question is about (subjects.yaml): regions, cause questions, follow-ups."""

    back: tuple[str, ...]
    other: tuple[str, ...]
    any_region: dict[str, tuple[str, ...]]  # entry id -> words the question must use (or none)
    cause: tuple[str, ...]
    cause_unless: tuple[str, ...]
    follow_up: tuple[str, ...]
    general_advice: tuple[str, ...]  # "how do you relieve ...": not a question about massage
    context: tuple[str, ...]  # massage words that make such a question one about massage
    needs_context: frozenset[str]
    needs_words: dict[str, tuple[str, ...]]  # entry id -> one of these must be in the question


@dataclass(frozen=True)
class Knowledge:
    entries: tuple[Entry, ...]
    safety: SafetyData
    texts: dict[str, str]
    smalltalk: tuple[SmalltalkIntent, ...]
    synonyms: dict[str, tuple[str, ...]]
    stop_words: frozenset[str]
    fillers: dict[str, frozenset[str]]  # "phrases" (not-covered spotting), "smalltalk"
    not_covered: tuple[NotCovered, ...]
    subjects: Subjects
    article: str
    directory: Path
    warnings: tuple[Problem, ...] = ()
    by_id: dict[str, Entry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {e.id: e for e in self.entries})

    def text(self, key: str, **values: str) -> str:
        template = self.texts[key]
        return template.format(**values) if values else template


class KnowledgeError(Exception):
    """The knowledge base is invalid; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@lru_cache(maxsize=4)
def _validator(schema_path: Path, mtime: float) -> Any:
    """A compiled validator for schema.json (jsonschema-rs: fast enough for 10,000 entries)."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(schema)


def _normalise_for_quote(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip().casefold()


def read_article(directory: Path) -> str:
    """The article's text without the '#' attribution header."""
    raw = (directory / ARTICLE_FILE).read_text(encoding="utf-8")
    return "\n".join(line for line in raw.splitlines() if not line.startswith("#")).strip()


def _display(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(directory.parent))
    except ValueError:
        return str(path)


def _schema_problems(doc: Located, display: str, validator: Any) -> list[Problem]:
    problems = []
    for error in validator.iter_errors(doc.value):
        path = tuple(error.instance_path)
        where = ".".join(str(p) for p in path) or "(top level)"
        message = error.message if len(error.message) < 200 else error.message[:200] + "…"
        problems.append(Problem(display, doc.line(path), f"{where}: {message}"))
    return problems


def check_knowledge(directory: Path) -> tuple[Knowledge | None, list[Problem]]:
    """Validate every file in `directory`; return the knowledge (if valid) and all problems."""
    directory = Path(directory)
    problems: list[Problem] = []
    if not directory.is_dir():
        return None, [Problem(str(directory), 1, "knowledge directory not found")]

    schema_path = directory / SCHEMA_FILE
    try:
        validator = _validator(schema_path, schema_path.stat().st_mtime)
    except (OSError, ValueError, jsonschema_rs.ValidationError) as exc:
        return None, [Problem(_display(schema_path, directory), 1, f"schema unusable: {exc}")]

    try:
        article = read_article(directory)
    except (OSError, UnicodeDecodeError) as exc:
        article = ""
        problems.append(
            Problem(
                _display(directory / ARTICLE_FILE, directory), 1, f"cannot read the article: {exc}"
            )
        )
    article_norm = _normalise_for_quote(article)

    docs: dict[str, tuple[Located, str]] = {}
    # entries.yaml first, so the article's topics lead /topics; other files alphabetically.
    for path in sorted(directory.glob("*.yaml"), key=lambda p: (p.name != "entries.yaml", p.name)):
        display = _display(path, directory)
        doc, found = read_yaml(path, display)
        problems.extend(found)
        if doc is None:
            continue
        if not isinstance(doc.value, dict):
            problems.append(Problem(display, 1, "the top level must be a mapping of keys"))
            continue
        schema_found = _schema_problems(doc, display, validator)
        problems.extend(schema_found)
        if not schema_found:
            docs[path.name] = (doc, display)

    languages: list[tuple[Located, str]] = []
    for path in sorted((directory / LANGUAGES_DIR).glob("*.yaml")):
        display = _display(path, directory)
        doc, found = read_yaml(path, display)
        problems.extend(found)
        if doc is None:
            continue
        if not isinstance(doc.value, dict) or "language" not in doc.value:
            problems.append(Problem(display, 1, "a language file needs a 'language' key"))
            continue
        schema_found = _schema_problems(doc, display, validator)
        problems.extend(schema_found)
        if not schema_found:
            languages.append((doc, display))

    for required in (TEXTS_FILE, SAFETY_FILE, VOCABULARY_FILE, SUBJECTS_FILE):
        if not (directory / required).exists():
            problems.append(Problem(_display(directory / required, directory), 1, "file missing"))

    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for doc, display in docs.values():
        if "entries" not in doc.value:
            continue
        for i, raw in enumerate(doc.value["entries"]):
            where = doc.line(("entries", i))
            entry = Entry(
                id=raw["id"],
                title=raw["title"].strip(),
                phrasings=tuple(p.strip() for p in raw["phrasings"]),
                answer=raw["answer"].strip(),
                quotes=tuple(q.strip() for q in raw.get("quotes", [])),
                caution=Caution(raw["caution"]["text"].strip(), raw["caution"]["source"].strip())
                if "caution" in raw
                else None,
                related=tuple(raw["related"]),
                source=raw["source"].strip(),
                file=display,
                line=where,
                phrasing_lines=tuple(
                    doc.line(("entries", i, "phrasings", j)) for j in range(len(raw["phrasings"]))
                ),
            )
            if entry.id in seen:
                problems.append(
                    Problem(
                        display,
                        doc.line(("entries", i, "id")),
                        f"duplicate id '{entry.id}' (first at {seen[entry.id]})",
                    )
                )
                continue
            seen[entry.id] = f"{display}:{where}"
            problems.extend(_entry_problems(entry, doc, i, display, article_norm))
            entries.append(entry)

    ids = {e.id for e in entries}
    # Cross-file checks only when every file parsed: an entry lost to a syntax error would
    # otherwise show up again as a "related id does not exist" in every file that names it.
    parsed = not any(p.severity == "error" for p in problems)
    for doc, display in docs.values() if parsed else ():
        if "entries" not in doc.value:
            continue
        for i, raw in enumerate(doc.value["entries"]):
            for j, rel in enumerate(raw["related"]):
                if rel not in ids:
                    problems.append(
                        Problem(
                            display,
                            doc.line(("entries", i, "related", j)),
                            f"related id '{rel}' does not exist",
                        )
                    )
                elif rel == raw["id"]:
                    problems.append(
                        Problem(
                            display,
                            doc.line(("entries", i, "related", j)),
                            "an entry cannot be related to itself",
                        )
                    )
    if not entries and not problems:
        problems.append(Problem(str(directory), 1, "no entries found in any *.yaml file"))

    if SAFETY_FILE in docs and not any(p.severity == "error" for p in problems):
        safety, found = _safety(docs[SAFETY_FILE], languages)
        problems.extend(found)
    if any(p.severity == "error" for p in problems):
        return None, sorted(problems)

    texts_doc = docs[TEXTS_FILE][0].value
    vocab_doc = docs[VOCABULARY_FILE][0].value
    subjects_doc, subjects_display = docs[SUBJECTS_FILE]
    for i, entry_id in enumerate(subjects_doc.value["needs_context"]):
        if entry_id not in ids:
            problems.append(
                Problem(
                    subjects_display,
                    subjects_doc.line(("needs_context", i)),
                    f"needs_context names no entry '{entry_id}'",
                )
            )
    for entry_id in (*subjects_doc.value["any_region"], *subjects_doc.value["needs_words"]):
        if entry_id not in ids:
            problems.append(
                Problem(
                    subjects_display,
                    subjects_doc.line(
                        ("any_region" if entry_id in subjects_doc.value["any_region"]
                         else "needs_words", entry_id)
                    ),
                    f"subjects.yaml names no entry '{entry_id}'",
                )
            )
    if any(p.severity == "error" for p in problems):
        return None, sorted(problems)
    subjects_doc = subjects_doc.value
    texts = {
        k: (v.strip() if isinstance(v, str) else v)
        for k, v in texts_doc.items()
        if k != "smalltalk"
    }
    if "not medical advice" not in texts["disclaimer"].casefold():
        problems.append(
            Problem(
                docs[TEXTS_FILE][1],
                docs[TEXTS_FILE][0].line(("disclaimer",)),
                "the disclaimer must say 'not medical advice'",
            )
        )
        return None, sorted(problems)
    knowledge = Knowledge(
        entries=tuple(entries),
        safety=safety,
        texts=texts,
        smalltalk=tuple(
            SmalltalkIntent(s["id"], tuple(s["phrases"]), s["reply"].strip())
            for s in texts_doc["smalltalk"]
        ),
        synonyms={k: tuple(v) for k, v in vocab_doc["synonyms"].items()},
        stop_words=frozenset(vocab_doc["stop_words"]),
        fillers={k: frozenset(v) for k, v in vocab_doc["fillers"].items()},
        not_covered=tuple(
            NotCovered(t["topic"], tuple(t["phrases"])) for t in subjects_doc["not_covered"]
        ),
        subjects=Subjects(
            back=tuple(subjects_doc["regions"]["back"]),
            other=tuple(subjects_doc["regions"]["other"]),
            any_region={k: tuple(v) for k, v in subjects_doc["any_region"].items()},
            cause=tuple(subjects_doc["cause"]),
            cause_unless=tuple(subjects_doc["cause_unless"]),
            follow_up=tuple(subjects_doc["follow_up"]),
            general_advice=tuple(subjects_doc["general_advice"]),
            context=tuple(subjects_doc["context"]["massage"]),
            needs_context=frozenset(subjects_doc["needs_context"]),
            needs_words={k: tuple(v) for k, v in subjects_doc["needs_words"].items()},
        ),
        article=article,
        directory=directory,
        warnings=tuple(p for p in problems if p.severity == "warning"),
    )
    return knowledge, sorted(problems)


def _cards(raw: dict[str, Any]) -> dict[str, Card]:
    return {
        tier: Card(v["heading"].strip(), v["action"].strip(), v.get("outro", "").strip())
        for tier, v in raw.items()
    }


def _context(raw: dict[str, Any]) -> ContextRules:
    return ContextRules(
        before={k: tuple(v) for k, v in raw["before"].items()},
        after={k: tuple(v) for k, v in raw.get("after", {}).items()},
        pseudo=tuple(raw.get("pseudo", ())),
        idioms=tuple(raw.get("idioms", ())),
        terminators=tuple(raw["terminators"]),
    )


def _safety(
    safety: tuple[Located, str], languages: list[tuple[Located, str]]
) -> tuple[SafetyData, list[Problem]]:
    """Flags and the English pack from safety.yaml; other languages from languages/*.yaml.

    Every concept a flag names must exist in English; every other language must have cards,
    and the concepts of every crisis and emergency flag (so those are never missed in it).
    """
    doc, display = safety
    raw = doc.value
    problems: list[Problem] = []
    concepts = {k: tuple(v) for k, v in raw["concepts"].items()}
    flags = []
    seen: set[str] = set()
    for i, f in enumerate(raw["flags"]):
        if f["id"] in seen:
            problems.append(Problem(display, doc.line(("flags", i, "id")), "duplicate flag id"))
        seen.add(f["id"])
        flag = Flag(
            id=f["id"],
            tier=f["tier"],
            noticed=f["noticed"].strip(),
            when=tuple(tuple(combo) for combo in f["when"]),
            also=tuple(f.get("also", ())),
            window=f.get("window", 12),
            cancelled_by=(DEFAULT_CANCELLED_BY - set(f.get("keep", ()))) | set(f.get("cancel", ())),
            source=f["source"].strip(),
        )
        for name in sorted(flag.concepts() - set(concepts)):
            problems.append(
                Problem(
                    display, doc.line(("flags", i)), f"flag '{flag.id}' names no concept '{name}'"
                )
            )
        flags.append(flag)
    packs = {
        "en": LanguagePack(
            "en", "English", concepts, _context(raw["context"]), _cards(raw["tiers"]), {}, {}
        )
    }
    needed = {c for f in flags if f.tier in CARD_TIERS[:2] for c in f.concepts()}
    for ldoc, ldisplay in languages:
        lraw = ldoc.value
        code = lraw["language"]
        if code in packs:
            problems.append(Problem(ldisplay, ldoc.line(("language",)), f"'{code}' twice"))
            continue
        lconcepts = {k: tuple(v) for k, v in lraw["concepts"].items()}
        for name in sorted(set(lconcepts) - set(concepts)):
            problems.append(
                Problem(
                    ldisplay,
                    ldoc.line(("concepts", name)),
                    f"concept '{name}' is not an English concept in {SAFETY_FILE}",
                )
            )
        for name in sorted(needed - set(lconcepts)):
            problems.append(
                Problem(
                    ldisplay,
                    ldoc.line(("concepts",)),
                    f"'{code}' lacks the concept '{name}' that a crisis or emergency flag needs",
                )
            )
        for flag_id in sorted(set(lraw.get("noticed", {})) - seen):
            problems.append(
                Problem(ldisplay, ldoc.line(("noticed", flag_id)), f"no flag '{flag_id}'")
            )
        packs[code] = LanguagePack(
            code,
            lraw["name"].strip(),
            lconcepts,
            _context(lraw["context"]),
            _cards(lraw["cards"]),
            {k: v.strip() for k, v in lraw["texts"].items()},
            {k: v.strip() for k, v in lraw.get("noticed", {}).items()},
        )
    return SafetyData(tuple(flags), packs), problems


def _entry_problems(
    entry: Entry, doc: Located, i: int, display: str, article_norm: str
) -> list[Problem]:
    problems = []
    base = ("entries", i)
    distinct = {p.casefold() for p in entry.phrasings}
    if len(distinct) < MIN_PHRASINGS:
        problems.append(
            Problem(
                display,
                doc.line((*base, "phrasings")),
                f"'{entry.id}' has {len(distinct)} distinct phrasings; "
                f"at least {MIN_PHRASINGS} are needed",
            )
        )
    if entry.from_article:
        if not entry.quotes:
            problems.append(
                Problem(
                    display,
                    doc.line(base),
                    f"'{entry.id}' comes from the article but has no quotes",
                )
            )
        for j, quote in enumerate(entry.quotes):
            if _normalise_for_quote(quote) not in article_norm:
                problems.append(
                    Problem(
                        display,
                        doc.line((*base, "quotes", j)),
                        "quote not found in the article: "
                        f'"{quote[:60]}{"…" if len(quote) > 60 else ""}"',
                    )
                )
    return problems


def load_knowledge(directory: Path) -> Knowledge:
    """Load the knowledge base or raise `KnowledgeError` listing every problem."""
    knowledge, problems = check_knowledge(directory)
    if knowledge is None:
        raise KnowledgeError([p for p in problems if p.severity == "error"])
    return knowledge
