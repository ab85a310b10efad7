"""Concepts and context: find what a message says, and whether it is negated, past or hypothetical.

A *concept* is a lexicon of ways to say one thing ("numb", "no feeling", "pins and needles",
"cant feel"). Each *term* is a short sequence of word patterns matched in order, with up to
`GAP` other words between them and never across a sentence end:

* a plain word matches itself (and, for words of six letters or more, a one-letter typo of it);
* `tingl*` matches any word starting with "tingl";
* `<num>` any number, `<temp>` a fever reading (37.8-43 or 100-110), `<child>` an age of 1-12,
  `<toddler>` an age of 1-3 ("lifting my 2 year old"), `<year>` a past year from 1930 ("back
  in 2009").

*Context* follows NegEx and ConText (Chapman et al. 2001; Harkema et al. 2009): trigger terms
such as "no", "years ago" or "what if" cover the concept words within `SCOPE` words after
(or before) them in the same clause; a clause ends at a comma, a full stop or a word such as
"but". Idioms ("fell asleep", "killing me") are blanked before anything is matched, and a
trigger that is itself part of a concept ("can *not* feel") is void. The rule the module keeps:
a finding is dropped only when a trigger clearly covers it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz, process

from bot.answering.text import clean, is_english_word

GAP = 2  # other words allowed between two words of one term ("cant *really* feel")
SCOPE = 6  # words a context trigger reaches in its clause
ANSWERED_MAX_WORDS = 5  # "any numbness down below? no." - a symptom asked, nothing more
RETRACTION_REACH = 4  # words after a "no" that may take it back
# Words that take a "no" back ("no, well...", "no, more like...", "no, but", "not until"), in
# the languages the bot reads.
RETRACTIONS = frozenset(
    "well but until till except actually mean more like though although maybe kind sort bit "
    "pero aunque mais sauf aber doch ma però mas но але ale".split()
)
# Words after a symptom that answer a question about it "yes" in the same sentence: "the gp
# asked if i had numbness down below and yes i do". A hypothetical trigger then covers nothing.
AFFIRMATIONS = frozenset("yes yeah yep yup aye".split())
AFFIRMING_PAIRS = frozenset({("i", "do"), ("i", "did"), ("do", "have"), ("did", "have")})
OWN_WORDS = frozenset({"i", "my", "me"})  # after "and", they end a before-trigger's scope
TYPO_MIN_LEN = 6  # shorter words must be spelled right ("chill" is not "chills")
TYPO_SCORE = 85.0
CLASSES = ("<num>", "<temp>", "<child>", "<toddler>", "<year>")
_THIS_YEAR = date.today().year

# Words a term may not skip over, in every language the bot reads (accents folded).
NEGATIONS = frozenset(
    "not no never without nicht kein keine keinen nie pas non jamais nunca nao mai nigdy "
    "не нет ни никогда ні ніколи".split()
)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+|[.!?;:\n]+|,|\s[-–—]\s")
_SENTENCE_END = frozenset(".!?;:\n")


def fold(text: str, english: bool = True) -> str:
    """Case, Unicode and apostrophes folded; English contractions expanded; accents dropped."""
    text = clean(text, contractions=english)
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)
        )
    return text


@dataclass(frozen=True)
class Tokens:
    """A message split once: words, and the clause and sentence each word is in."""

    words: tuple[str, ...]
    clause: tuple[int, ...]  # ends at punctuation and at terminator words ("but")
    segment: tuple[int, ...]  # ends at punctuation only: a term never spans two
    sentence: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]  # character span of each word in `text`
    text: str  # the folded text the spans point into

    @classmethod
    def of(
        cls, text: str, terminators: frozenset[str] = frozenset(), english: bool = True
    ) -> Tokens:
        folded = fold(text, english)
        words: list[str] = []
        clause: list[int] = []
        segment: list[int] = []
        sentence: list[int] = []
        spans: list[tuple[int, int]] = []
        c = g = s = 0
        found = list(_TOKEN.finditer(folded))
        tokens = [m.group().strip() for m in found]
        # An age between commas ("grandson, 10, complaining of his back") reads as one phrase:
        # those two commas are not breaks.
        ignored = {
            at
            for i in range(len(tokens) - 2)
            if tokens[i] == tokens[i + 2] == "," and tokens[i + 1][:1].isdigit()
            for at in (i, i + 2)
        }
        for i, (m, token) in enumerate(zip(found, tokens, strict=True)):
            if i in ignored:
                continue
            raw = m.group()
            if not token or not (token[0].isalnum()):
                c += 1
                g += 1
                if set(raw) & _SENTENCE_END:  # a full stop, "?", "!", ";" or a new line
                    s += 1
                continue
            if token in terminators:
                c += 1
            words.append(token)
            clause.append(c)
            segment.append(g)
            sentence.append(s)
            spans.append(m.span())
        return cls(
            tuple(words), tuple(clause), tuple(segment), tuple(sentence), tuple(spans), folded
        )

    def quote(self, start: int, end: int) -> str:
        return self.text[self.spans[start][0] : self.spans[end][1]]


def _number(word: str) -> float | None:
    # A number starts with a digit: float() also reads "nan" (a grandmother) and "inf".
    if not word[:1].isdigit():
        return None
    try:
        return float(word.replace(",", "."))
    except ValueError:
        return None


def _class_matches(cls: str, word: str) -> bool:
    value = _number(word)
    return value is not None and _in_class(cls, value)


def _in_class(cls: str, value: float) -> bool:
    if cls == "<num>":
        return True
    if cls == "<temp>":
        return 37.8 <= value <= 43 or 100 <= value <= 110
    if cls == "<year>":
        return value.is_integer() and 1930 <= value < _THIS_YEAR
    if cls == "<toddler>":
        return value.is_integer() and 1 <= value <= 3
    return value.is_integer() and 1 <= value <= 12  # <child>


@dataclass(frozen=True)
class Occurrence:
    name: str
    start: int
    end: int  # inclusive


@dataclass
class _Compiled:
    literal: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
    # Prefix terms by the prefix's length, then by prefix, each with its place among them (the
    # lexicon's order): a word looks up its own first letters instead of trying every prefix.
    by_length: dict[int, dict[str, list[tuple[int, str, tuple[str, ...]]]]] = field(
        default_factory=dict
    )
    classed: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)


def _pattern_matches(pattern: str, word: str) -> bool:
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    if pattern in CLASSES:
        return _class_matches(pattern, word)
    return pattern == word


def term_words(term: str, english: bool = True) -> tuple[str, ...]:
    """A lexicon term as its word patterns ("tingl*" and "<num>" kept as they are)."""
    out: list[str] = []
    for raw in fold(term, english).split():
        if raw in CLASSES:
            out.append(raw)
            continue
        star = raw.endswith("*")
        parts = [w for w in re.findall(r"[^\W_]+", raw)]
        if star and parts:
            parts[-1] += "*"
        out.extend(parts)
    return tuple(out)


class Lexicon:
    """Named groups of terms; `find` lists every occurrence of every group in a message."""

    def __init__(
        self, groups: Mapping[str, Iterable[str]], english: bool = True, gap: int = GAP
    ) -> None:
        self.gap = gap
        self.english = english
        self._compiled = _Compiled()
        literal_words: set[str] = set()
        prefixes = 0
        for name, terms in groups.items():
            for term in terms:
                pats = term_words(term, english)
                if not pats:
                    continue
                first = pats[0]
                if first.endswith("*"):
                    prefix = first[:-1]
                    self._compiled.by_length.setdefault(len(prefix), {}).setdefault(
                        prefix, []
                    ).append((prefixes, name, pats))
                    prefixes += 1
                elif first in CLASSES:
                    self._compiled.classed.append((first, name, pats))
                else:
                    self._compiled.literal.setdefault(first, []).append((name, pats))
                literal_words.update(p for p in pats if not p.endswith("*") and p not in CLASSES)
        self._targets: dict[str, list[str]] = {}
        for word in sorted(literal_words):
            if len(word) >= TYPO_MIN_LEN and word.isalpha():
                self._targets.setdefault(word[0], []).append(word)
        self._known = frozenset(literal_words)
        self._corrections: dict[str, str] = {}

    def correct(self, word: str) -> str:
        """A long word one letter off a lexicon word becomes that word ("numbnes", "tingleing");
        in English a word one letter shorter than that may only have dropped a letter ("givin",
        "eithr")."""
        # Five letters only in English, where real words are never corrected ("falar" is not
        # "falhar", "tueur" is not "tumeur").
        shortest = TYPO_MIN_LEN - 1 if self.english else TYPO_MIN_LEN
        if word in self._known or len(word) < shortest or not word.isalpha():
            return word
        if self.english and is_english_word(word):
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        best = process.extractOne(
            word, self._targets.get(word[0], ()), scorer=fuzz.ratio, score_cutoff=TYPO_SCORE
        )
        corrected = word
        if best is not None:
            target = best[0]
            # Plurals and verb endings are different words here: "leg" vs "legs".
            dropped = len(target) == len(word) + 1 or len(word) >= TYPO_MIN_LEN
            if target.rstrip("s") != word.rstrip("s") and dropped:
                corrected = target
        if len(self._corrections) < 50_000:
            self._corrections[word] = corrected
        return corrected

    def find(
        self, tokens: Tokens, blank: Sequence[bool] = (), correct: bool = True
    ) -> list[Occurrence]:
        fix = self.correct if correct else str
        words = ["" if (blank and blank[i]) else fix(w) for i, w in enumerate(tokens.words)]
        found: list[Occurrence] = []
        for i, word in enumerate(words):
            if not word:
                continue
            candidates: list[tuple[str, tuple[str, ...]]] = list(
                self._compiled.literal.get(word, ())
            )
            prefixed = [
                hit
                for length, table in self._compiled.by_length.items()
                if length <= len(word)
                for hit in table.get(word[:length], ())
            ]
            prefixed.sort()  # in the lexicon's order, as before the index
            candidates.extend((name, pats) for _, name, pats in prefixed)
            value = _number(word)
            if value is not None:
                candidates.extend(
                    (name, pats)
                    for cls, name, pats in self._compiled.classed
                    if _in_class(cls, value)
                )
            for name, pats in candidates:
                end = _extend(words, tokens.segment, i, pats, self.gap)
                if end is not None:
                    found.append(Occurrence(name, i, end))
        return found


def _extend(
    words: Sequence[str], segment: Sequence[int], start: int, pats: Sequence[str], gap: int
) -> int | None:
    """The last position of `pats` matched from `start`, each within `gap` words; else None.

    A term never spans punctuation, and never skips a negation ("have *not* had a temp").
    """
    at = start
    for pat in pats[1:]:
        for j in range(at + 1, min(at + 2 + gap, len(words))):
            if segment[j] != segment[start]:
                return None
            if words[j] and _pattern_matches(pat, words[j]):
                at = j
                break
            if words[j] in NEGATIONS:
                return None
        else:
            return None
    return at


def _own_statement(words: Sequence[str], start: int, end: int) -> bool:
    """Whether words[start:end] hold "and i" or "and my": a new statement of the writer's."""
    return any(
        words[i] == "and" and words[i + 1] in OWN_WORDS
        for i in range(start, min(end, len(words)) - 1)
    )


def _answered_yes(tokens: Tokens, after: int) -> bool:
    """Whether the sentence goes on, after position `after`, to say "yes" ("asked if i had a
    fever and i said yes"; "asked about numbness down below and i do")."""
    sentence = tokens.sentence[after]
    rest = [
        w
        for i, w in enumerate(tokens.words[after + 1 :], after + 1)
        if tokens.sentence[i] == sentence
    ]
    if AFFIRMATIONS.intersection(rest):
        return True
    # "i do", not "i do not" / "i didnt" (read as "i did not").
    return any(
        (rest[i], rest[i + 1]) in AFFIRMING_PAIRS
        and (i + 2 >= len(rest) or rest[i + 2] not in NEGATIONS)
        for i in range(len(rest) - 1)
    )


def _opens_next_clause(tokens: Tokens, at: int, after: int) -> bool:
    """A trigger that opens the clause right after the concept's: "a high temp, long gone"."""
    return (
        tokens.clause[at] == tokens.clause[after] + 1
        and tokens.sentence[at] == tokens.sentence[after]
        and (at == 0 or tokens.clause[at - 1] != tokens.clause[at])
    )


@dataclass(frozen=True)
class ContextRules:
    """Trigger terms by kind and direction, pseudo-triggers, idioms and clause terminators."""

    before: Mapping[str, Sequence[str]]  # kind -> terms that cover what follows them
    after: Mapping[str, Sequence[str]]  # kind -> terms that cover what precedes them
    pseudo: Sequence[str]  # look like triggers but are not ("not sure", "no idea")
    idioms: Sequence[str]  # blanked before matching ("fell asleep", "killing me")
    terminators: Sequence[str]  # words that end a trigger's scope ("but", "however")
    # A question answered "no" in the next sentence: "chest pain? nope, none of that".
    answered_no: Sequence[str] = ()


class Context:
    """Decides which concept occurrences a context trigger covers."""

    def __init__(self, rules: ContextRules, english: bool = True) -> None:
        groups: dict[str, list[str]] = {}
        for kind, terms in rules.before.items():
            groups.setdefault(f"before:{kind}", []).extend(terms)
        for kind, terms in rules.after.items():
            groups.setdefault(f"after:{kind}", []).extend(terms)
        # Set phrases: "and passed" must not match "and i passed".
        self._triggers = Lexicon(groups, english, gap=0)
        # Pseudo-triggers and idioms are set phrases: their words must be adjacent.
        self._pseudo = Lexicon({"pseudo": rules.pseudo}, english, gap=0)
        self._idioms = Lexicon({"idiom": rules.idioms}, english, gap=0)
        self._answers = Lexicon({"answer": rules.answered_no}, english, gap=0)
        # One-word terminators only: "and now" must not make every "and" end a clause.
        self.terminators = frozenset(
            words[0] for t in rules.terminators if len(words := term_words(t, english)) == 1
        )

    def blanks(self, tokens: Tokens) -> list[bool]:
        blank = [False] * len(tokens.words)
        for occ in self._idioms.find(tokens):
            for i in range(occ.start, occ.end + 1):
                blank[i] = True
        return blank

    def _answered_no(self, tokens: Tokens, blank: Sequence[bool]) -> set[int]:
        """Sentences that only name a symptom as a question and are answered "no" by the next
        one, whose first clause is the answer alone ("fever? no. just sore"). Not a longer
        question ("numb down there, should i worry? nah"), nor an answer taken back at once
        ("chest pain? no, more like a crushing weight"; "fever? no. well 39.5 last night")."""
        answered: set[int] = set()
        for occ in self._answers.find(tokens, blank):
            start, end = occ.start, occ.end
            if start == 0 or tokens.sentence[start - 1] == tokens.sentence[start]:
                continue  # the answer must open its sentence
            if end + 1 < len(tokens.words) and tokens.clause[end + 1] == tokens.clause[end]:
                continue  # and be the whole of its first clause
            asked = tokens.sentence[start - 1]
            if sum(1 for s in tokens.sentence if s == asked) > ANSWERED_MAX_WORDS:
                continue
            if RETRACTIONS & set(tokens.words[end + 1 : end + 1 + RETRACTION_REACH]):
                continue
            between = tokens.text[tokens.spans[start - 1][1] : tokens.spans[start][0]]
            if "?" in between:
                answered.add(asked)
        return answered

    def covering(
        self, tokens: Tokens, blank: Sequence[bool], concepts: Sequence[Occurrence]
    ) -> dict[Occurrence, frozenset[str]]:
        """For each concept occurrence, the context kinds that cover it."""
        triggers = self._triggers.find(tokens, blank) + self._pseudo.find(tokens, blank)
        taken = [False] * len(tokens.words)
        for occ in triggers:
            if occ.name == "pseudo":
                for i in range(occ.start, occ.end + 1):
                    taken[i] = True

        def in_a_concept(t: Occurrence) -> bool:
            """A trigger that overlaps a concept term is part of the symptom ("not" in "can
            not pee", "stopped" in "pee stopped"), not context. One exception: an `intended`
            trigger that is exactly a concept term ("lost weight on purpose" while "on
            purpose" is also a self-harm sign) stays a trigger; `intended` only cancels the
            flags that ask for it. A family trigger led by a relative ("grandad died of")
            stays a trigger too, though "died" is a crisis word."""
            overlapping = [c for c in concepts if c.start <= t.end and t.start <= c.end]
            if t.name == "before:family" and all(c.start > t.start for c in overlapping):
                return False  # "grandad died of": a relative's death ("I nearly died of" is void)
            if t.name.endswith(":intended"):
                return any((c.start, c.end) != (t.start, t.end) for c in overlapping)
            return bool(overlapping)

        live = [
            t
            for t in triggers
            if t.name != "pseudo"
            and not any(taken[i] for i in range(t.start, t.end + 1))
            and not in_a_concept(t)
        ]
        clause = tokens.clause
        answered = self._answered_no(tokens, blank)
        result: dict[Occurrence, frozenset[str]] = {}
        for occ in concepts:
            kinds: set[str] = set()
            if tokens.sentence[occ.start] in answered:
                kinds.add("negated")
            for t in live:
                direction, kind = t.name.split(":", 1)
                if direction == "before":
                    if (
                        t.end < occ.start
                        and clause[t.end] == clause[occ.start]
                        and occ.start - t.end <= SCOPE
                        # A new "i" starts a new statement: "im not ok i want to die"
                        # (for negation only: "what if i had a temperature" is one thought).
                        and (kind != "negated" or "i" not in tokens.words[t.end + 1 : occ.start])
                        and not (kind == "hypothetical" and _answered_yes(tokens, occ.end))
                        # "and i ...", "and my ...": the writer's own new statement ("a film
                        # about posture and i have been numb in my groin since").
                        and not _own_statement(tokens.words, t.end + 1, occ.start)
                    ):
                        kinds.add(kind)
                elif (
                    t.start > occ.end
                    and t.start - occ.end <= SCOPE
                    and (
                        clause[t.start] == clause[occ.end]
                        or _opens_next_clause(tokens, t.start, occ.end)
                    )
                ):
                    kinds.add(kind)
            result[occ] = frozenset(kinds)
        return result
