"""Warnings for maintainers: phrasings that collide, answers too long for one message,
not-covered phrases that shrink to one word once filler words are dropped, questions of
asked.yaml's `not_answered` that get an entry, and a learned entry model that is missing or was
trained on other wordings than the knowledge base holds now.

Run by `run_bot.py check` (warnings; `--strict` makes them errors).
"""

from __future__ import annotations

from dataclasses import replace

from rapidfuzz import fuzz, process

from bot.answering import entrymodel
from bot.answering.engine import Engine
from bot.answering.knowledge import ASKED_FILE, SUBJECTS_FILE, VOCABULARY_FILE, Knowledge
from bot.answering.phrases import phrase_tokens
from bot.answering.yamlsource import Problem, read_yaml

NEAR_DUPLICATE = 90.0


def _warn(file: str, line: int, message: str) -> Problem:
    return Problem(file, line, message, "warning")


def lint(knowledge: Knowledge) -> list[Problem]:
    problems: list[Problem] = []
    engine = Engine(knowledge)  # render and match exactly as users get it
    normalised = [
        (entry, i, " ".join(engine.normalise(p)))
        for entry in knowledge.entries
        for i, p in enumerate(entry.phrasings)
    ]
    texts = [text for _, _, text in normalised]
    for a, (entry_a, i, text_a) in enumerate(normalised):
        if not text_a:
            continue
        # rapidfuzz compares against every later phrasing in C, skipping hopeless lengths.
        later = texts[a + 1 :]
        for _, _, offset in process.extract(
            text_a, later, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE, limit=None
        ):
            entry_b, j, _ = normalised[a + 1 + offset]
            if entry_b.id == entry_a.id:
                continue
            problems.append(
                _warn(
                    entry_b.file,
                    entry_b.phrasing_lines[j],
                    f"phrasing {entry_b.phrasings[j]!r} in '{entry_b.id}' is (nearly) "
                    f"the same as {entry_a.phrasings[i]!r} in '{entry_a.id}' "
                    f"({entry_a.file}:{entry_a.phrasing_lines[i]})",
                )
            )
    problems.extend(leave_one_out(knowledge))
    problems.extend(shrunk_phrases(knowledge))
    problems.extend(synonyms_in_two_lists(knowledge))
    problems.extend(answered_but_should_not_be(knowledge, engine))
    problems.extend(entry_model_problems(knowledge))
    for entry in knowledge.entries:
        reply = engine.entry_reply(entry.id)
        assert reply is not None
        if len(engine.render_html(reply)) > 1:
            problems.append(
                _warn(
                    entry.file, entry.line, f"'{entry.id}' renders longer than one Telegram message"
                )
            )
    return problems


def leave_one_out(knowledge: Knowledge, engine: Engine | None = None) -> list[Problem]:
    """Each phrasing, held out of its entry, should still be answered by that entry.

    Among the phrasings alone: the asked wordings (many people's words, some of them
    ambiguous) would make a maintainer chase collisions that are not in their phrasings.
    """
    problems = []
    if engine is None:
        plain = tuple(replace(entry, asked=()) for entry in knowledge.entries)
        engine = Engine(replace(knowledge, entries=plain))
    for k, entry in enumerate(knowledge.entries):
        for i, phrasing in enumerate(entry.phrasings):
            ranked = engine.rank_held_out(k, i)
            if ranked and ranked[0].entry_id != entry.id and engine.decide(ranked) != "fallback":
                problems.append(
                    _warn(
                        entry.file,
                        entry.phrasing_lines[i],
                        f"leave-one-out: {phrasing!r} matches '{ranked[0].entry_id}' "
                        f"({ranked[0].score:.0f}) before its own entry '{entry.id}'; reword it "
                        "or make the entries more distinct",
                    )
                )
    return problems


def shrunk_phrases(knowledge: Knowledge) -> list[Problem]:
    """A not-covered phrase of several words that is one word once the filler words ("to",
    "be", "a", "it"...) are dropped ("training to be" would refuse "marathon training"), or
    none at all (it is silently never found)."""
    path = knowledge.directory / SUBJECTS_FILE
    doc, _ = read_yaml(path, str(path))
    problems = []
    for i, topic in enumerate(knowledge.not_covered):
        for j, phrase in enumerate(topic.phrases):
            tokens = phrase_tokens(phrase, knowledge.fillers["phrases"])
            if len(tokens) > 1 or (len(tokens) == 1 and len(phrase.split()) == 1):
                continue
            said = f"just {tokens[0]!r}" if tokens else "nothing"
            line = doc.line(("not_covered", i, "phrases", j)) if doc is not None else 1
            problems.append(
                _warn(
                    str(path),
                    line,
                    f"not-covered phrase {phrase!r} is {said} once filler words are dropped, "
                    "so it matches too much or never; add a word",
                )
            )
    return problems


def synonyms_in_two_lists(knowledge: Knowledge) -> list[Problem]:
    """A word listed under two synonym keys of vocabulary.yaml: it can be read as only one of
    them (the last), so the other list silently loses it."""
    path = knowledge.directory / VOCABULARY_FILE
    doc, _ = read_yaml(path, str(path))
    first: dict[str, str] = {}
    problems = []
    for key, words in knowledge.synonyms.items():
        for j, word in enumerate(words):
            other = first.setdefault(word, key)
            if other == key:
                continue
            line = doc.line(("synonyms", key, j)) if doc is not None else 1
            message = f"synonym {word!r} is listed under both {other!r} and {key!r}; keep one"
            problems.append(_warn(str(path), line, message))
    return problems


def answered_but_should_not_be(knowledge: Knowledge, engine: Engine) -> list[Problem]:
    """Each question of asked.yaml's `not_answered` (a cause, another body part, a topic not
    covered, off-topic, smalltalk) that the bot answers with an entry."""
    path = knowledge.directory / ASKED_FILE
    doc, _ = read_yaml(path, str(path)) if path.exists() else (None, [])
    problems = []
    index: dict[str, int] = {}
    for label, text in knowledge.not_answered:
        j = index[label] = index.get(label, -1) + 1
        reply = engine.answer(text)
        if reply.kind != "answer":
            continue
        line = doc.line(("not_answered", label, j)) if doc is not None else 1
        problems.append(
            _warn(
                str(path),
                line,
                f"{text!r} ({label}) is answered with '{reply.entry_id}'; it should not be",
            )
        )
    return problems


def entry_model_problems(knowledge: Knowledge) -> list[Problem]:
    """The learned entry model (knowledge/entry-model.json) should be there, load, name only
    entries that exist and have been trained on the wordings the knowledge base holds now;
    without it, or with a stale one, the bot answers fewer questions than it could."""
    from bot.answering.semantic import EMBEDDER

    _, reason = entrymodel.load_current(knowledge, EMBEDDER)
    if reason is None:
        return []
    path = knowledge.directory / entrymodel.MODEL_FILE
    return [_warn(str(path), 1, f"{reason}: run `python run_bot.py train`")]
