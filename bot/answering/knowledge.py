"""Load and validate the knowledge YAML into frozen dataclasses.

`load_knowledge` either returns a complete, valid `Knowledge` or raises `KnowledgeError` with
every problem found, each as file:line. Nothing is silently dropped: a broken entry makes the
whole load fail, so a running bot keeps its last good knowledge base instead.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs

from bot.answering.kinds import ADVICE_CARDS
from bot.answering.lexicon import ContextRules
from bot.answering.safety import (
    CARD_TIERS,
    DEFAULT_CANCELLED_BY,
    SIGNAL_CARD,
    SIGNAL_CHECK_IN,
    SIGNAL_EMERGENCY,
    Card,
    CrisisSignal,
    EmergencySignal,
    Flag,
    LanguagePack,
    LanguagesSignal,
    SafetyData,
)
from bot.answering.signal import ENGLISH, PREFIX, CrisisModel, digest
from bot.answering.yamlsource import Located, Problem, read_yaml

ARTICLE_FILE = "article.txt"
SCHEMA_FILE = "schema.json"
TEXTS_FILE = "texts.yaml"
SAFETY_FILE = "safety.yaml"
VOCABULARY_FILE = "vocabulary.yaml"
SUBJECTS_FILE = "subjects.yaml"
ASKED_FILE = "asked.yaml"
CRISIS_EXAMPLES_FILE = "crisis-examples.yaml"
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
    # How other people asked (asked.yaml): matched like phrasings, never shown, never checked
    # leave-one-out (two people's wordings may well collide).
    asked: tuple[str, ...] = ()

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
    # entry id -> word groups; the question must use one word of each group
    needs_words: dict[str, tuple[tuple[str, ...], ...]]
    # entry id -> phrases that make it the answer outright ("slipped disc": the signpost, never
    # a massage answer)
    answers_first: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the same, in a question that names the back and neither massage nor another part of the
    # body ("lower back pain - what should I do?" gets the self-care signpost)
    answers_first_for_the_back: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # words that keep that rule from firing: what the article itself speaks of ("from stress")
    answers_first_for_the_back_unless: tuple[str, ...] = ()
    # entries answered first when the question names their subject (needs_words) and they rank
    # close to the best: "brittle bones, can I have a firm massage?" gets the osteoporosis caution
    named_first: tuple[str, ...] = ()
    # entries of any_region that answer another part of the body only in a question that also
    # names massage ("sprained my ankle, need a second opinion" is not about massage)
    any_region_with_massage: tuple[str, ...] = ()


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
    # Wordings the bot must not answer with an entry (asked.yaml `not_answered`): label, text.
    not_answered: tuple[tuple[str, str], ...] = ()
    # The crisis signal's training messages (crisis-examples.yaml): text, whether crisis.
    crisis_examples: tuple[tuple[str, bool], ...] = ()
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


@dataclass(frozen=True)
class _Schema:
    raw: dict[str, Any]
    validator: Any  # jsonschema-rs: fast enough for 10,000 entries
    min_phrasings: int  # the schema's minimum; check also wants that many different ones

    def part(self, schema_path: list[str | int]) -> dict[str, Any]:
        """The part of the schema at this path (empty if there is none)."""
        node: Any = self.raw
        for step in schema_path:
            node = node.get(str(step)) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}


@lru_cache(maxsize=4)
def _schema(schema_path: Path, mtime: float) -> _Schema:
    """schema.json, compiled; it must say how many phrasings an entry needs."""
    raw = json.loads(schema_path.read_text(encoding="utf-8"))
    phrasings = raw["$defs"]["entry"]["properties"]["phrasings"]
    return _Schema(raw, jsonschema_rs.validator_for(raw), int(phrasings["minItems"]))


def min_phrasings(directory: Path) -> int:
    """How many different phrasings an entry needs: the one number, from the schema."""
    path = Path(directory) / SCHEMA_FILE
    return _schema(path, path.stat().st_mtime).min_phrasings


def _normalise_for_quote(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip().casefold()


def read_article(directory: Path) -> str:
    """The article's text without the '#' attribution header."""
    raw = (directory / ARTICLE_FILE).read_text(encoding="utf-8")
    return "\n".join(line for line in raw.splitlines() if not line.startswith("#")).strip()


def _display(path: Path) -> str:
    """The path as a maintainer can open it from here: relative to the working directory when
    the file is under it, else absolute."""
    try:
        absolute = path.absolute()
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)
    except OSError:  # the working directory is gone
        return str(path)


Where = tuple[str | int, ...]  # a path into a YAML document: keys and list indexes
# The files that never hold entries: one of them unreadable still leaves every entry id known.
_FIXED_FILES = frozenset({TEXTS_FILE, SAFETY_FILE, VOCABULARY_FILE, SUBJECTS_FILE})


@dataclass(frozen=True)
class _Document:
    """One YAML file that was read, and the paths in it the schema rejected."""

    located: Located
    display: str
    faults: frozenset[Where]  # a missing key is a fault at its own path
    whole: bool = True  # False: YAML problems (a duplicate key) may have lost values

    @property
    def valid(self) -> bool:
        return not self.faults


@dataclass(frozen=True)
class _Documents:
    files: dict[str, _Document]  # knowledge/*.yaml that were read, entries.yaml first
    languages: tuple[_Document, ...]
    article: str | None  # None when it could not be read
    complete: bool  # every file that may hold entries was read whole: every entry id is known


@dataclass(frozen=True)
class _Built:
    """An entry built from its document, with the way back to its lines and schema faults."""

    entry: Entry
    document: _Document
    index: int

    def line(self, *path: str | int) -> int:
        return self.document.located.line(("entries", self.index, *path))

    def faulty(self, *path: str | int) -> bool:
        """Whether the schema already reported this part of the entry (or a part of it)."""
        where = ("entries", self.index, *path)
        return any(
            fault[: len(where)] == where or (len(fault) > 2 and where[: len(fault)] == fault)
            for fault in self.document.faults
        )


def _schema_problems(
    doc: Located, display: str, schema: _Schema
) -> tuple[list[Problem], frozenset[Where]]:
    problems = []
    faults: set[Where] = set()
    try:
        errors = list(schema.validator.iter_errors(doc.value))
    except ValueError:  # a value JSON has no type for: checked as text, and reported here
        odd: list[tuple[Where, Any]] = []
        errors = list(schema.validator.iter_errors(_as_json(doc.value, (), odd)))
        for path, value in odd:
            faults.add(path)
            kind = "binary data" if isinstance(value, bytes) else f"a {type(value).__name__}"
            message = f"this value reads as {kind}, not text: put it in quotes"
            problems.append(Problem(display, doc.line(path), f"{_where(doc, path)}: {message}"))
    for error in errors:
        path = tuple(error.instance_path)
        message = f"{_where(doc, path)}: {_schema_message(error, schema)}"
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            faults.add((*path, kind.property))
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            faults.update((*path, key) for key in kind.unexpected)
            path = (*path, kind.unexpected[0])  # the line of the unknown key itself
        else:
            faults.add(path)
        problems.append(Problem(display, doc.line(path), message))
    return problems, frozenset(faults)


def _where(doc: Located, path: Where) -> str:
    """Where in the document: `entry 'massage-oil' phrasings` rather than `entries.8.phrasings`."""
    if len(path) >= 2 and path[0] == "entries" and isinstance(path[1], int):
        entries = doc.value.get("entries")
        raw = entries[path[1]] if isinstance(entries, list) and path[1] < len(entries) else None
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            return " ".join([f"entry '{raw['id']}'", ".".join(str(p) for p in path[2:])]).strip()
    return ".".join(str(p) for p in path) or "(top level)"


def _schema_message(error: Any, schema: _Schema) -> str:
    """The validator's message in a maintainer's words where it would show a whole list, a
    whole answer, a regular expression or YAML's reading of a colon, followed by what the
    schema says the value is for."""
    kind, value = error.kind, error.instance
    kinds = jsonschema_rs.ValidationErrorKind
    part = schema.part(list(error.schema_path)[:-1])  # the part holding the failed keyword
    described = part.get("description", "")
    if isinstance(kind, kinds.MinItems):
        message = f"{len(value)} given; at least {kind.limit} {_are(kind.limit)} needed"
    elif isinstance(kind, kinds.MaxLength):
        message = f"{len(value)} characters long; at most {kind.limit} {_are(kind.limit)} allowed"
    elif isinstance(kind, kinds.Pattern):
        shown = value if len(value) <= 60 else value[:60] + "…"
        message = f'"{shown}" does not fit'
        described = described or f"the pattern {kind.pattern}"
    elif isinstance(kind, kinds.Required):
        message = error.message
    elif isinstance(kind, kinds.AdditionalProperties):
        known = part.get("properties", {})
        message = "; ".join(f"unknown key '{k}'{_did_you_mean(k, known)}" for k in kind.unexpected)
        described = ""
    elif isinstance(kind, kinds.Type):
        message, described = _type_message(value, kind.types) or error.message, ""
    else:
        message = error.message if len(error.message) < 200 else error.message[:200] + "…"
        described = ""
    return f"{message} ({described})" if described else message


def _type_message(value: Any, types: list[str]) -> str:
    """The usual ways YAML reads text as something else, said plainly; else ''."""
    if "string" in types and isinstance(value, dict) and len(value) == 1:
        key, inner = next(iter(value.items()))
        return (
            f'"{key}: {inner}" reads as a key and a value (a colon followed by a space does '
            "that): put the whole text in quotes"
        )
    if "string" in types and value is None:
        return "is empty"
    if "string" in types and isinstance(value, bool):  # yes, no, on, off, true, false
        return "reads as a yes/no value, not text: put it in quotes"
    if "string" in types and isinstance(value, int | float):
        return f"{value} reads as a number, not text: put it in quotes"
    if "array" in types and isinstance(value, str):
        return f'"{value}" should be a list: write [{value}], or each item on a "- " line'
    return ""


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def _as_json(value: Any, path: Where, odd: list[tuple[Where, Any]]) -> Any:
    """A copy of a YAML value with the values JSON has no type for (dates, binary) as text;
    each is added to `odd` with its path."""
    if isinstance(value, dict):
        return {k: _as_json(v, (*path, k), odd) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v, (*path, j), odd) for j, v in enumerate(value)]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    odd.append((path, value))
    return str(value)


def check_knowledge(directory: Path) -> tuple[Knowledge | None, list[Problem]]:
    """Validate every file in `directory`; return the knowledge (if valid) and all problems.

    Each step reports what it finds and the next steps still run on whatever could be read, so
    one run shows every problem: a missing title does not hide a duplicate id elsewhere.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return None, [Problem(_display(directory), 1, "knowledge directory not found")]
    schema_path = directory / SCHEMA_FILE
    try:
        schema = _schema(schema_path, schema_path.stat().st_mtime)
    except (OSError, ValueError, LookupError, TypeError, jsonschema_rs.ValidationError) as exc:
        return None, [Problem(_display(schema_path), 1, f"schema unusable: {exc!r}")]

    documents, problems = _read_documents(directory, schema)
    built, found = _build_entries(documents)
    problems += found
    problems += _check_entries(built, documents.article, schema.min_phrasings)
    # Only when every file that may hold entries was read whole: an entry lost to a syntax error
    # (or a duplicate key) would otherwise show up again as a "related id does not exist" in
    # every entry that names it.
    if documents.complete:
        problems += _check_references(built, documents.files.get(SUBJECTS_FILE))
        built, found = _attach_asked(built, documents.files.get(ASKED_FILE))
        problems += found
    safety, found = _check_safety(documents)
    problems += found
    safety, found = _attach_signal(directory, documents, safety)
    problems += found
    problems += _check_texts(documents)
    if not built and not problems:
        problems.append(Problem(_display(directory), 1, "no entries found in any *.yaml file"))
    if safety is None or any(p.severity == "error" for p in problems):
        return None, sorted(problems)
    knowledge = _assemble(directory, documents, [b.entry for b in built], safety, problems)
    return knowledge, sorted(problems)


def _read_documents(directory: Path, schema: _Schema) -> tuple[_Documents, list[Problem]]:
    """Read the article and every YAML file, each checked against the schema."""
    problems: list[Problem] = []
    try:
        article = read_article(directory)
    except (OSError, UnicodeDecodeError) as exc:
        article = None
        display = _display(directory / ARTICLE_FILE)
        problems.append(Problem(display, 1, f"cannot read the article: {exc}"))

    files: dict[str, _Document] = {}
    complete = True
    # entries.yaml first, so the article's topics lead /topics; other files alphabetically.
    for path in sorted(directory.glob("*.yaml"), key=lambda p: (p.name != "entries.yaml", p.name)):
        document, found = _read_document(path, schema)
        problems += found
        if document is not None:
            files[path.name] = document
        if path.name not in _FIXED_FILES and (document is None or not document.whole):
            complete = False

    languages = []
    for path in sorted((directory / LANGUAGES_DIR).glob("*.yaml")):
        document, found = _read_document(path, schema, needs="language")
        problems += found
        if document is not None:
            languages.append(document)

    for required in sorted(_FIXED_FILES):
        if not (directory / required).exists():
            problems.append(Problem(_display(directory / required), 1, "file missing"))
    return _Documents(files, tuple(languages), article, complete), problems


def _read_document(
    path: Path, schema: _Schema, needs: str | None = None
) -> tuple[_Document | None, list[Problem]]:
    display = _display(path)
    located, problems = read_yaml(path, display)
    if located is None:
        return None, problems
    if not isinstance(located.value, dict):
        return None, [*problems, Problem(display, 1, "the top level must be a mapping of keys")]
    if needs is not None and needs not in located.value:
        return None, [*problems, Problem(display, 1, f"a language file needs a '{needs}' key")]
    found, faults = _schema_problems(located, display, schema)
    return _Document(located, display, faults, whole=not problems), problems + found


def _build_entries(documents: _Documents) -> tuple[list[_Built], list[Problem]]:
    """Every entry that is a mapping, built even when the schema faulted a part of it (that
    part is left empty and its checks skipped), so its other problems are still found."""
    built: list[_Built] = []
    problems: list[Problem] = []
    first: dict[str, str] = {}  # id -> file:line where it first appears
    for document in documents.files.values():
        raw_entries = document.located.value.get("entries")
        if not isinstance(raw_entries, list):
            continue
        for i, raw in enumerate(raw_entries):
            if not isinstance(raw, dict):
                continue
            item = _Built(_entry(raw, document, i), document, i)
            entry_id = item.entry.id
            if entry_id in first:
                problems.append(
                    Problem(
                        document.display,
                        item.line("id"),
                        f"duplicate id '{entry_id}' (first at {first[entry_id]})",
                    )
                )
            elif entry_id:
                first[entry_id] = f"{document.display}:{item.line()}"
            built.append(item)
    return built, problems


def _entry(raw: dict[str, Any], document: _Document, i: int) -> Entry:
    """An entry from its raw mapping; a part of the wrong type (a schema fault) is left empty."""

    caution = raw.get("caution")
    phrasings = _texts(raw.get("phrasings"))
    return Entry(
        id=raw["id"] if isinstance(raw.get("id"), str) else "",
        title=_text(raw.get("title")),
        phrasings=phrasings,
        answer=_text(raw.get("answer")),
        quotes=_texts(raw.get("quotes")),
        caution=Caution(_text(caution.get("text")), _text(caution.get("source")))
        if isinstance(caution, dict)
        else None,
        related=_texts(raw.get("related")),
        source=_text(raw.get("source")),
        file=document.display,
        line=document.located.line(("entries", i)),
        phrasing_lines=tuple(
            document.located.line(("entries", i, "phrasings", j)) for j in range(len(phrasings))
        ),
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _texts(value: Any) -> tuple[str, ...]:
    """A list of strings, stripped; anything else (the schema reports it) is empty."""
    if not isinstance(value, list):
        return ()
    try:
        return tuple(map(str.strip, value))
    except TypeError:  # an item that is not a string
        return ()


def _check_entries(built: list[_Built], article: str | None, needed: int) -> list[Problem]:
    """Each entry on its own: enough different phrasings; quotes found in the article."""
    article_norm = _normalise_for_quote(article) if article is not None else None
    problems = []
    for item in built:
        entry, display = item.entry, item.document.display
        distinct = {p.casefold() for p in entry.phrasings}
        if len(distinct) < needed and not item.faulty("phrasings"):
            problems.append(
                Problem(
                    display,
                    item.line("phrasings"),
                    f"entry '{entry.id}' phrasings: {len(distinct)} different; at least "
                    f"{needed} are needed (phrasings that differ only in case count once)",
                )
            )
        if entry.from_article and not item.faulty("quotes"):
            problems += _quote_problems(item, article_norm)
    return problems


def _quote_problems(item: _Built, article_norm: str | None) -> list[Problem]:
    """An article entry's quotes: at least one, each found in the article (when it could be
    read; else that one problem is reported, not one for every quote)."""
    entry, display = item.entry, item.document.display
    if not entry.quotes:
        message = f"entry '{entry.id}': from the article, so it needs quotes"
        return [Problem(display, item.line(), message)]
    if article_norm is None:
        return []
    return [
        Problem(
            display,
            item.line("quotes", j),
            f"entry '{entry.id}' quotes.{j}: not found in the article: "
            f'"{quote[:60]}{"…" if len(quote) > 60 else ""}" '
            "(copy the article's words exactly; case and line breaks may differ)",
        )
        for j, quote in enumerate(entry.quotes)
        if _normalise_for_quote(quote) not in article_norm
    ]


def _check_references(built: list[_Built], subjects: _Document | None) -> list[Problem]:
    """Ids named in `related` and in subjects.yaml must be entries."""
    ids = {item.entry.id for item in built} - {""}
    problems = []
    for item in built:
        for j, rel in enumerate(item.entry.related):
            if item.faulty("related", j):
                continue
            if rel not in ids:
                message = f"related id '{rel}' does not exist{_did_you_mean(rel, ids)}"
            elif rel == item.entry.id:
                message = "an entry cannot be related to itself"
            else:
                continue
            problems.append(Problem(item.document.display, item.line("related", j), message))
    if subjects is not None and subjects.valid:
        problems += _subjects_references(subjects, ids)
    return problems


def _subjects_references(subjects: _Document, ids: set[str]) -> list[Problem]:
    doc, display = subjects.located, subjects.display
    problems = []
    for key in ("needs_context", "named_first", "any_region_with_massage"):
        for i, entry_id in enumerate(doc.value.get(key, ())):
            if entry_id not in ids:
                message = f"{key} names no entry '{entry_id}'{_did_you_mean(entry_id, ids)}"
            elif key == "named_first" and entry_id not in doc.value.get("needs_words", {}):
                message = f"named_first: '{entry_id}' has no needs_words to name its subject"
            elif key == "any_region_with_massage" and entry_id not in doc.value.get(
                "any_region", {}
            ):
                message = f"any_region_with_massage: '{entry_id}' is not in any_region"
            else:
                continue
            problems.append(Problem(display, doc.line((key, i)), message))
    for key in ("any_region", "needs_words", "answers_first", "answers_first_for_the_back"):
        for entry_id in doc.value.get(key, {}):
            if entry_id not in ids:
                problems.append(
                    Problem(
                        display,
                        doc.line((key, entry_id)),
                        f"{key} names no entry '{entry_id}'{_did_you_mean(entry_id, ids)}",
                    )
                )
    return problems


def _attach_asked(
    built: list[_Built], asked: _Document | None
) -> tuple[list[_Built], list[Problem]]:
    """Each entry's wordings from asked.yaml; an id there must be an entry."""
    if asked is None or not asked.valid:
        return built, []
    by_id: dict[str, tuple[str, ...]] = {
        str(k): tuple(str(t).strip() for t in v)
        for k, v in asked.located.value.get("asked", {}).items()
    }
    ids = {item.entry.id for item in built} - {""}
    problems = [
        Problem(
            asked.display,
            asked.located.line(("asked", entry_id)),
            f"asked names no entry '{entry_id}'{_did_you_mean(entry_id, ids)}",
        )
        for entry_id in by_id
        if entry_id not in ids
    ]
    return [
        replace(item, entry=replace(item.entry, asked=by_id.get(item.entry.id, ())))
        for item in built
    ], problems


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


def _check_safety(documents: _Documents) -> tuple[SafetyData | None, list[Problem]]:
    """The red flags and the language packs, when safety.yaml passed the schema."""
    safety = documents.files.get(SAFETY_FILE)
    if safety is None or not safety.valid:
        return None, []
    languages = [(d.located, d.display) for d in documents.languages if d.valid]
    return _safety((safety.located, safety.display), languages)


Positive = Literal["crisis", "emergency", "crisis-languages", "emergency-languages"]
LANGUAGE_SIGNALS = ("crisis-languages", "emergency-languages")
# The safety.yaml sections that name a trained model, and what each model learns to find
# (`check` and `run_bot.py train` both read them from here).
SIGNAL_SECTIONS: dict[str, Positive] = {
    "signal": "crisis",
    "emergency_signal": "emergency",
    "languages_signal": "crisis-languages",
    "languages_emergency_signal": "emergency-languages",
}
ENGLISH_CODE = "en"


def _positive(item: dict[str, Any], positive: Positive) -> bool:
    if positive not in ("emergency", "emergency-languages"):
        return item.get("expect") == "crisis"
    return str(item.get("kind", "")).startswith("emergency")


def stemming_for(positive: Positive) -> str:
    """How the signal of `positive` turns words into features."""
    return PREFIX if positive in LANGUAGE_SIGNALS else ENGLISH


def skips_for(positive: Positive) -> bool:
    """Whether the signal of `positive` pairs words two apart: the English crisis signal
    only (the others gained nothing clear from them on the blind sets)."""
    return positive == "crisis"


def training_pairs(
    crisis_examples: Any, asked: Any, positive: Positive = "crisis"
) -> list[tuple[str, bool]]:
    """What a signal learns from, in a fixed order: the labelled messages of
    crisis-examples.yaml, then every question of asked.yaml (none of them is a red flag).
    The crisis signal's positives are the messages labelled `crisis`; the emergency signal's,
    those whose kind is `emergency-*`. Both read the English messages (`lang` en or left out);
    the languages' signals (`crisis-languages`, `emergency-languages`) read the others, and not
    asked.yaml."""
    english = positive not in LANGUAGE_SIGNALS
    pairs: list[tuple[str, bool]] = []
    if isinstance(crisis_examples, dict):
        for item in crisis_examples.get("crisis_examples") or ():
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                if (item.get("lang", ENGLISH_CODE) == ENGLISH_CODE) != english:
                    continue
                pairs.append((item["text"].strip(), _positive(item, positive)))
    if isinstance(asked, dict) and english:
        for key in ("asked", "not_answered"):
            for texts in (asked.get(key) or {}).values():
                pairs.extend((str(t).strip(), False) for t in texts or ())
    return pairs


def read_training_pairs(directory: Path, positive: Positive = "crisis") -> list[tuple[str, bool]]:
    """`training_pairs` straight from the files (for `run_bot.py train`, which must work
    while the model is missing or stale)."""
    values = []
    for name in (CRISIS_EXAMPLES_FILE, ASKED_FILE):
        path = directory / name
        located = read_yaml(path, str(path))[0] if path.exists() else None
        values.append(located.value if located is not None else None)
    return training_pairs(values[0], values[1], positive)


def _attach_signal(
    directory: Path, documents: _Documents, safety: SafetyData | None
) -> tuple[SafetyData | None, list[Problem]]:
    """The crisis signal named in safety.yaml: its model must load, and should have been
    trained on what crisis-examples.yaml and asked.yaml hold now."""
    document = documents.files.get(SAFETY_FILE)
    raw = document.located.value.get("signal") if document is not None else None
    if safety is None or document is None or not isinstance(raw, dict):
        return safety, []
    model, problems = _trained_model(directory, documents, document, "signal")
    if model is None:
        return safety, problems
    if raw["check_in_at"] > raw["card_at"]:
        where = document.located.line(("signal", "check_in_at"))
        problems.append(Problem(document.display, where, "check_in_at is above card_at"))
    noticed, source = raw["noticed"].strip(), raw["source"].strip()
    card = Flag(SIGNAL_CARD, "crisis", noticed, (), source=source)
    check_in = Flag(SIGNAL_CHECK_IN, "advice", noticed, (), card="check-in", source=source)
    signal = CrisisSignal(model, float(raw["card_at"]), float(raw["check_in_at"]), card, check_in)
    safety = replace(safety, signal=signal)
    emergency, found = _emergency_signal(directory, documents, document, safety.flags)
    problems += found + _example_languages(documents, safety)
    languages, found = _languages_signal(directory, documents, document, "languages_signal", card)
    problems += found
    languages_emergency, found = None, []
    if isinstance(document.located.value.get("languages_emergency_signal"), dict):
        if emergency is None:  # its card and its `unless` are the emergency signal's
            line = document.located.line(("languages_emergency_signal",))
            message = "languages_emergency_signal needs an emergency_signal that loads"
            found = [Problem(document.display, line, message)]
        else:
            languages_emergency, found = _languages_signal(
                directory, documents, document, "languages_emergency_signal", emergency.card
            )
    safety = replace(
        safety,
        emergency=emergency,
        languages_signal=languages,
        languages_emergency=languages_emergency,
    )
    return safety, problems + found


def _example_languages(documents: _Documents, safety: SafetyData) -> list[Problem]:
    """Each training example's `lang` must be a language the bot has a file for."""
    document = documents.files.get(CRISIS_EXAMPLES_FILE)
    if document is None or not isinstance(document.located.value, dict):
        return []
    problems = []
    for i, item in enumerate(document.located.value.get("crisis_examples") or ()):
        lang = item.get("lang") if isinstance(item, dict) else None
        if isinstance(lang, str) and lang not in safety.languages:
            line = document.located.line(("crisis_examples", i, "lang"))
            message = f"lang '{lang}' has no file in languages/"
            problems.append(Problem(document.display, line, message))
    return problems


def _languages_signal(
    directory: Path,
    documents: _Documents,
    document: _Document,
    section: str,
    card: Flag,
) -> tuple[LanguagesSignal | None, list[Problem]]:
    """A signal for the other languages (`languages_signal` for crises, optional;
    `languages_emergency_signal` for emergencies, optional, with the emergency signal), whose
    card is the English signal's of the same tier."""
    raw = document.located.value.get(section)
    if not isinstance(raw, dict):
        return None, []
    taken = {
        document.located.value[s]["model"]
        for s in SIGNAL_SECTIONS
        if s != section and isinstance(document.located.value.get(s), dict)
    }
    if raw["model"] in taken:
        line = document.located.line((section, "model"))
        message = f"{section} model is another signal's file: give it its own"
        return None, [Problem(document.display, line, message)]
    model, problems = _trained_model(directory, documents, document, section)
    if model is None:
        return None, problems
    return LanguagesSignal(model, float(raw["card_at"]), card), problems


def _trained_model(
    directory: Path, documents: _Documents, document: _Document, section: str
) -> tuple[CrisisModel | None, list[Problem]]:
    """The model a safety.yaml section names: it must load (else an error), and should have
    been trained on what crisis-examples.yaml and asked.yaml hold now (else a warning)."""
    positive = SIGNAL_SECTIONS[section]
    name = document.located.value[section]["model"]
    path = directory / name
    try:
        model = CrisisModel.load(path)
        if model.stemming != stemming_for(positive):
            raise ValueError(f"its words are {model.stemming}, not {stemming_for(positive)}")
        skips = skips_for(positive)
        if model.skips != skips:
            said, wanted = json.dumps(model.skips), json.dumps(skips)
            raise ValueError(f'"skips" (words two apart) is {said} in it, not {wanted}')
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        message = f"{positive} model {name} unusable ({exc}); run `python run_bot.py train`"
        line = document.located.line((section, "model"))
        return None, [Problem(document.display, line, message)]
    pairs = training_pairs(
        _value(documents, CRISIS_EXAMPLES_FILE), _value(documents, ASKED_FILE), positive
    )
    if model.digest == digest(pairs, stemming_for(positive), skips_for(positive)):
        return model, []
    message = (
        "trained on other examples than crisis-examples.yaml and asked.yaml hold now: "
        "run `python run_bot.py train`"
    )
    return model, [Problem(_display(path), 1, message, "warning")]


def _emergency_signal(
    directory: Path, documents: _Documents, document: _Document, flags: Sequence[Flag]
) -> tuple[EmergencySignal | None, list[Problem]]:
    """The emergency signal named in safety.yaml (`emergency_signal`, optional): its model must
    load, and should have been trained on what the examples hold now."""
    raw = document.located.value.get("emergency_signal")
    if not isinstance(raw, dict):
        return None, []
    if raw["model"] == document.located.value["signal"]["model"]:
        line = document.located.line(("emergency_signal", "model"))
        message = "emergency_signal model is the crisis signal's file: give it its own"
        return None, [Problem(document.display, line, message)]
    model, problems = _trained_model(directory, documents, document, "emergency_signal")
    if model is None:
        return None, problems
    known = {f.id for f in flags}
    for i, flag_id in enumerate(raw.get("unless", ())):
        if flag_id not in known:
            line = document.located.line(("emergency_signal", "unless", i))
            message = f"emergency_signal unless names no flag '{flag_id}'"
            message += _did_you_mean(flag_id, known)
            problems.append(Problem(document.display, line, message))
    noticed, source = raw["noticed"].strip(), raw["source"].strip()
    card = Flag(SIGNAL_EMERGENCY, "emergency", noticed, (), source=source)
    unless = frozenset(raw.get("unless", ()))
    return EmergencySignal(model, float(raw["card_at"]), card, unless), problems


def _check_texts(documents: _Documents) -> list[Problem]:
    texts = documents.files.get(TEXTS_FILE)
    if texts is None or not texts.valid:
        return []
    disclaimer = texts.located.value["disclaimer"]
    if "not medical advice" in disclaimer.casefold():
        return []
    return [
        Problem(
            texts.display,
            texts.located.line(("disclaimer",)),
            "the disclaimer must say 'not medical advice'",
        )
    ]


def _assemble(
    directory: Path,
    documents: _Documents,
    entries: list[Entry],
    safety: SafetyData,
    problems: list[Problem],
) -> Knowledge:
    """The knowledge base from files that passed every check."""
    texts_doc = documents.files[TEXTS_FILE].located.value
    vocab_doc = documents.files[VOCABULARY_FILE].located.value
    subjects_doc = documents.files[SUBJECTS_FILE].located.value
    return Knowledge(
        entries=tuple(entries),
        safety=safety,
        texts={
            k: (v.strip() if isinstance(v, str) else v)
            for k, v in texts_doc.items()
            if k != "smalltalk"
        },
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
            needs_words={k: _groups(v) for k, v in subjects_doc["needs_words"].items()},
            answers_first={k: tuple(v) for k, v in subjects_doc.get("answers_first", {}).items()},
            named_first=tuple(subjects_doc.get("named_first", ())),
            answers_first_for_the_back_unless=tuple(
                subjects_doc.get("answers_first_for_the_back_unless", ())
            ),
            answers_first_for_the_back={
                k: tuple(v) for k, v in subjects_doc.get("answers_first_for_the_back", {}).items()
            },
            any_region_with_massage=tuple(subjects_doc.get("any_region_with_massage", ())),
        ),
        article=documents.article or "",
        directory=directory,
        warnings=tuple(p for p in problems if p.severity == "warning"),
        not_answered=tuple(
            (str(label), str(text).strip())
            for label, texts in _value(documents, ASKED_FILE).get("not_answered", {}).items()
            for text in texts
        ),
        crisis_examples=tuple(
            (str(it["text"]).strip(), it["expect"] == "crisis")
            for it in _value(documents, CRISIS_EXAMPLES_FILE).get("crisis_examples", [])
        ),
    )


def _groups(value: list[Any]) -> tuple[tuple[str, ...], ...]:
    """needs_words: one list of words (one group), or a list of lists (every group needed)."""
    if all(isinstance(v, list) for v in value):
        return tuple(tuple(group) for group in value)
    return (tuple(value),)


def _value(documents: _Documents, name: str) -> dict[str, Any]:
    document = documents.files.get(name)
    return document.located.value if document is not None else {}


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
        answered_no=tuple(raw.get("answered_no", ())),
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
            card=f.get("card", "advice"),
        )
        if "card" in f and flag.tier != "advice":
            problems.append(
                Problem(
                    display,
                    doc.line(("flags", i, "card")),
                    f"flag '{flag.id}': only an advice flag has a card line; a {flag.tier} "
                    "flag shows its tier's card",
                )
            )
        elif flag.card not in ADVICE_CARDS or flag.card not in raw["tiers"]:
            problems.append(
                Problem(display, doc.line(("flags", i, "card")), f"no card '{flag.card}' in tiers")
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
        # The emergency signal's card, shown by the languages' emergency signal, is noticed too.
        for flag_id in sorted(set(lraw.get("noticed", {})) - seen - {SIGNAL_EMERGENCY}):
            problems.append(
                Problem(ldisplay, ldoc.line(("noticed", flag_id)), f"no flag '{flag_id}'")
            )
        if "languages_emergency_signal" in raw and SIGNAL_EMERGENCY not in lraw.get("noticed", {}):
            message = f"'{code}' lacks noticed: {SIGNAL_EMERGENCY} (the languages' emergency card)"
            problems.append(Problem(ldisplay, ldoc.line(("noticed",)), message))
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


def load_knowledge(directory: Path) -> Knowledge:
    """Load the knowledge base or raise `KnowledgeError` listing every problem."""
    knowledge, problems = check_knowledge(directory)
    if knowledge is None:
        raise KnowledgeError([p for p in problems if p.severity == "error"])
    return knowledge
