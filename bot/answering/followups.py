"""Short-lived memory of the entry each conversation was last answered with.

Lets "and is it safe?" be read against the answer just given. Only an entry id and a time are
kept, never the question's text; entries expire after `ttl` seconds and the oldest conversation
is forgotten first once `max_conversations` are remembered, so memory stays bounded.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from bot.answering.replies import Reply

DEFAULT_TTL = 300.0
DEFAULT_MAX = 50_000


class FollowUps:
    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        max_conversations: int = DEFAULT_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_conversations = max_conversations
        self._clock = clock
        self._last: OrderedDict[Hashable, tuple[str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._last)

    def previous(self, key: Hashable) -> str | None:
        """The entry last answered in this conversation, if within the window."""
        found = self._last.get(key)
        if found is None:
            return None
        entry_id, when = found
        if self._clock() - when > self.ttl:
            del self._last[key]
            return None
        return entry_id

    def remember(self, key: Hashable, reply: Reply) -> None:
        """Keep an answer's entry; any other reply ends the thread of follow-ups."""
        self._last.pop(key, None)
        if reply.kind != "answer" or reply.entry_id is None:
            return
        self._last[key] = (reply.entry_id, self._clock())
        while len(self._last) > self.max_conversations:
            self._last.popitem(last=False)
