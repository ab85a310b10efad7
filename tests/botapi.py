"""A Bot API stand-in: records every call and answers in the Bot API's JSON shape.

`FakeBotAPI` holds the state (queued updates, sent messages, planned failures). It is served
in-process to python-telegram-bot through `RecordingRequest`, or over HTTP on 127.0.0.1 by
`BotAPIServer`, for end-to-end tests of the real `run_bot.py` process. Never reaches the internet.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
BOT = {
    "id": 999000,
    "is_bot": True,
    "first_name": "Massage FAQ",
    "username": "massage_faq_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}


# What Telegram marks as a mention: @ and a username of 5-32 letters, digits and underscores.
MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?![A-Za-z0-9_])")
ACCEPTED_THEN_TIMED_OUT = -1  # a planned "failure": Telegram takes the call, the answer is lost


def utf16_len(text: str) -> int:
    """Telegram counts entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def entities_of(text: str) -> list[dict[str, Any]]:
    """The entities Telegram would attach: a leading bot command, and every @mention."""
    entities = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])})
    for match in MENTION.finditer(text):
        if text.startswith("/") and match.start() < len(text.split()[0]):
            continue  # /ask@bot is one command entity
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return entities


def _decode(value: str) -> Any:
    """python-telegram-bot sends strings as-is and JSON-encodes everything else."""
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeBotAPI:
    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.calls: list[tuple[str, dict[str, Any]]] = []  # answered successfully
        self.failed: list[tuple[str, dict[str, Any]]] = []  # answered with a planned failure
        self.updates: list[dict[str, Any]] = []
        self.next_update = 1
        self.next_message = 1000
        self.chats: dict[int, dict[str, Any]] = {}
        # method -> list of planned failures, used one per call: (http status, Bot API error)
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        # method -> a failure returned for every call, for as long as it is set
        self.always: dict[str, tuple[int, dict[str, Any]]] = {}
        self.attempts: dict[str, int] = {}  # every call, answered or failed

    # --- what tests do ---------------------------------------------------------------------

    def push(self, kind: str, payload: dict[str, Any]) -> int:
        with self.lock:
            update_id = self.next_update
            self.next_update += 1
            self.updates.append({"update_id": update_id, kind: payload})
            self.lock.notify_all()
            return update_id

    def user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}

    def message(
        self,
        chat_id: int,
        text: str | None,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        caption: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """A message as Telegram sends it; with caption=True, a photo with `text` as caption."""
        chat = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"User{chat_id}"
        else:
            chat["title"] = f"Group {chat_id}"
        if chat_type == "supergroup" and extra.get("is_topic_message"):
            chat["is_forum"] = True
        with self.lock:
            self.chats[chat_id] = chat
            self.next_message += 1
            message_id = self.next_message
        msg: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id if user_id is not None else abs(chat_id)),
        }
        if caption:
            msg["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}]
        if text is not None:
            msg["caption" if caption else "text"] = text
            entities = entities_of(text)
            if caption:
                entities = [e for e in entities if e["type"] != "bot_command"]
            if entities:
                msg["caption_entities" if caption else "entities"] = entities
        msg.update(extra)
        return msg

    def bot_message(
        self, chat_id: int, chat_type: str = "supergroup", message_id: int = 1, **extra: Any
    ) -> dict[str, Any]:
        """A message the bot sent earlier, for replies to it and button taps under it."""
        return {
            "message_id": message_id,
            "date": 0,
            "from": BOT,
            "text": "earlier",
            "chat": {"id": chat_id, "type": chat_type},
            **extra,
        }

    def sticker(self, chat_id: int) -> dict[str, Any]:
        sticker = {
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
        return self.message(chat_id, None, sticker=sticker)

    def send_text(self, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        msg = self.message(chat_id, text, **kwargs)
        self.push("message", msg)
        return msg

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        with self.lock:
            return [params for m, params in self.calls if m == method]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.lock.wait(min(remaining, 0.2))
            return True

    def fail_next(self, method: str, status: int, error: dict[str, Any]) -> None:
        with self.lock:
            self.failures.setdefault(method, []).append((status, error))

    def fail_always(self, method: str, status: int, error: dict[str, Any]) -> None:
        with self.lock:
            self.always[method] = (status, error)

    def time_out_after_accepting(self, method: str) -> None:
        """The next call is carried out, but its answer never arrives (a read timeout)."""
        self.fail_next(method, ACCEPTED_THEN_TIMED_OUT, {})

    # --- what the bot sees -----------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self.lock:
            self.attempts[method] = self.attempts.get(method, 0) + 1
            planned = self.failures.get(method)
            if planned or method in self.always:
                status, error = planned.pop(0) if planned else self.always[method]
                if status != ACCEPTED_THEN_TIMED_OUT:
                    self.failed.append((method, params))
                    self.lock.notify_all()
                    return status, error
                self.failed.append((method, params))
                self.calls.append((method, params))
                self.lock.notify_all()
                return ACCEPTED_THEN_TIMED_OUT, {}
            self.calls.append((method, params))
            self.lock.notify_all()
        if method == "getMe":
            return 200, {"ok": True, "result": BOT}
        if method in ("sendMessage", "editMessageText"):
            chat_id = int(params.get("chat_id", 0))
            with self.lock:
                self.next_message += 1
                message_id = self.next_message
                chat = self.chats.get(chat_id, {"id": chat_id, "type": "private"})
            result = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": BOT,
                "text": params.get("text", ""),
            }
            if "message_thread_id" in params:
                result["message_thread_id"] = params["message_thread_id"]
            return 200, {"ok": True, "result": result}
        return 200, {"ok": True, "result": True}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        with self.lock:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and time.monotonic() < deadline:
                self.lock.wait(0.05)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return list(self.updates[:100])


class RecordingRequest(BaseRequest):
    """python-telegram-bot's network layer, answered in-process by a FakeBotAPI."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        params = {
            k: _decode(v) for k, v in (request_data.json_parameters.items() if request_data else [])
        }
        status, body = self.api.handle(url.rsplit("/", 1)[-1], params)
        if status == ACCEPTED_THEN_TIMED_OUT:
            raise TimedOut("Timed out") from httpx.ReadTimeout("read timed out")
        return status, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    api: FakeBotAPI
    seen_paths: list[str]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        kind = self.headers.get("Content-Type", "")
        if "json" in kind:
            params = json.loads(body or "{}")
        else:
            params = {k: _decode(v[0]) for k, v in parse_qs(body).items()}
        self.seen_paths.append(self.path)
        method = self.path.rsplit("/", 1)[-1]
        if f"/bot{TOKEN}/" not in self.path:
            status, answer = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        else:
            status, answer = self.api.handle(method, params)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # The bot may give up on a long poll while shutting down.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        return None


class BotAPIServer:
    """Serves a FakeBotAPI on 127.0.0.1 (an ephemeral port) in a background thread."""

    def __init__(self, api: FakeBotAPI, port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"api": api, "seen_paths": []})
        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.paths: list[str] = handler.seen_paths
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/bot"

    def __enter__(self) -> BotAPIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- the real bot process against the stand-in ------------------------------------------------


class Running:
    def __init__(self, api: FakeBotAPI, proc: subprocess.Popen[str], server: BotAPIServer) -> None:
        self.api, self.proc, self.server = api, proc, server
        self.output = ""

    def replies_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [s for s in self.api.sent() if int(s["chat_id"]) == chat_id]

    def wait_replies(self, chat_id: int, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        ok = self.api.wait_for(lambda: len(self.replies_to(chat_id)) >= count, timeout)
        assert ok, f"chat {chat_id}: {len(self.replies_to(chat_id))} of {count} replies"
        return self.replies_to(chat_id)


def _env(tmp_path: Path, base_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_"))}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": base_url,
            "BOT_DATA_DIR": str(tmp_path / "data"),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


def start_bot(tmp_path: Path, base_url: str, *args: str, **env: str) -> subprocess.Popen[str]:
    """`python run_bot.py ARGS`: the README's command, with a test token."""
    return subprocess.Popen(
        [sys.executable, "run_bot.py", *args],
        cwd=ROOT,
        env=_env(tmp_path, base_url, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def started(api: FakeBotAPI) -> bool:
    """Polling or the webhook is set up (the command menus are set just before)."""
    return bool(api.sent("deleteWebhook") or api.sent("setWebhook"))


@contextmanager
def running_bot(
    tmp_path: Path, *args: str, api: FakeBotAPI | None = None, **env: str
) -> Iterator[Running]:
    """Start `python run_bot.py ARGS` against a fresh stand-in; SIGTERM it on exit."""
    api = api or FakeBotAPI()
    with BotAPIServer(api) as server:
        proc = start_bot(tmp_path, server.base_url, *args, **env)
        run = Running(api, proc, server)
        try:
            if not api.wait_for(lambda: started(api), 30):
                proc.kill()
                raise AssertionError("bot did not start:\n" + proc.communicate()[0])
            yield run
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                run.output = proc.communicate(timeout=30)[0]
            except subprocess.TimeoutExpired:
                proc.kill()
                run.output = proc.communicate()[0]
