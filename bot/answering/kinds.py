"""Every kind of thing the bot tells apart, as `Literal` aliases: one place to read them all.

They are plain strings at run time (JSON and SQLite hold them as they are); the aliases let
mypy catch a misspelt kind. Each tuple beside an alias lists its values for run-time checks.
No Telegram here: the answering core, the tools and the adapters all import this module.
"""

from __future__ import annotations

from typing import Literal, get_args

# What a reply to a question is (bot/answering/replies.py).
ReplyKind = Literal["answer", "clarify", "fallback", "urgent", "smalltalk"]
REPLY_KINDS: tuple[ReplyKind, ...] = get_args(ReplyKind)

# How one part of a reply or notice is shown (bot/answering/replies.py renders each).
PartStyle = Literal["heading", "text", "quote", "caution", "choice"]

# Why a fallback did not answer.
FallbackReason = Literal["not-covered", "cause", "other-body", "no-match", "language", "low-mood"]

# What the matcher decides from a ranking (bot/answering/matching.py).
Decision = Literal["answer", "clarify", "fallback"]

# Red-flag tiers (bot/answering/safety.py), most serious first; "advice" never replaces an answer.
CardTier = Literal["crisis", "emergency", "same-day"]
CARD_TIERS: tuple[CardTier, ...] = get_args(CardTier)
Tier = Literal[CardTier, "advice"]
# The line an advice flag adds to a reply: "see a doctor if one leg doesn't settle", or the
# check-in with the helplines for low mood.
AdviceCard = Literal["advice", "check-in"]
ADVICE_CARDS: tuple[AdviceCard, ...] = get_args(AdviceCard)
# A labelled safety message's expected tier, or what a reply got: a card tier or "none".
SafetyLabel = Literal[CardTier, "none"]

# Context that can drop a red-flag concept (bot/answering/lexicon.py).
ContextKind = Literal["negated", "historical", "hypothetical", "intended", "family"]
CONTEXT_KINDS: tuple[ContextKind, ...] = get_args(ContextKind)

# A recorded event (bot/store.py): a fallback or clarify reply, a clarify choice tapped, a vote.
Vote = Literal["up", "down"]
EventOutcome = Literal["fallback", "clarify", "chosen", Vote]
EVENT_OUTCOMES: tuple[EventOutcome, ...] = get_args(EventOutcome)
