"""A fake of Slack's Web API on 127.0.0.1 that records every call, like bolt's own test server.

Point a WebClient at `fake.base_url` (it ends in /api/). Every call is kept in `calls` as
(method, params); `wait_for` blocks until enough calls of a method have arrived, because
Bolt runs listeners on a thread pool after acknowledging.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.channels.slack import limits

BOT_USER = "UBOT"
#: How long a rotating token lives once refreshed (Slack's 12 hours).
TOKEN_HOURS = 12
TEAM = "T1"


#: Methods whose `blocks` Slack checks, and the most blocks each takes.
BLOCK_METHODS = {"chat.postMessage": 50, "chat.update": 50, "chat.postEphemeral": 50}


def _block_errors(blocks: list[dict[str, Any]], most: int) -> list[str]:
    """Why Slack would refuse these blocks: slack_sdk's models (which know some limits),
    and the limits they do not check (a context element's text, blocks per message)."""
    errors = []
    for block in blocks:
        try:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
        except (SlackObjectFormationError, AttributeError, TypeError) as exc:
            errors.append(str(exc))
    return errors + limits.problems(blocks, max_blocks=most)


def refusal(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """Slack's answer to blocks or a view it would not take, or None when it would."""
    if method in BLOCK_METHODS and isinstance(params.get("blocks"), list):
        errors = _block_errors(params["blocks"], BLOCK_METHODS[method])
        if errors:
            return {"ok": False, "error": "invalid_blocks", "errors": errors}
    if method == "views.publish":
        view = params.get("view")
        if not isinstance(view, dict) or view.get("type") not in ("home", "modal"):
            return {"ok": False, "error": "invalid_arguments"}
        blocks = view.get("blocks") or []
        errors = _block_errors(blocks, limits.VIEW_BLOCKS)
        if not blocks:
            errors.append("a view must contain at least one block")
        if errors:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": errors},
            }
    return None


def _closed_port() -> int:
    """A local port nothing listens on: bound and released at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeSlackAPI:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[str, str] = {}
        #: method -> how many calls to answer 429 (rate limited) before answering normally
        self.rate_limits: dict[str, int] = {}
        #: The Retry-After (seconds) a 429 names.
        self.retry_after = "0"
        #: method -> how many calls to answer 503 (Slack is having trouble)
        self.server_errors: dict[str, int] = {}
        #: method -> how many calls to drop without an answer (a network failure)
        self.drops: dict[str, int] = {}
        #: Bot tokens the workspace has revoked (uninstalled): `token_revoked`, as Slack says.
        self.revoked: set[str] = set()
        #: (method, Slack's answer) for every payload refused as Slack would refuse it.
        self.refusals: list[tuple[str, dict[str, Any]]] = []
        #: When set, files.getUploadURLExternal hands out an upload URL nothing listens on.
        self.uploads_unreachable = False
        #: method -> seconds to wait before answering (the call is recorded on arrival)
        self.delays: dict[str, float] = {}
        #: The workspace's people by user id, as `users.info` gives them: a test adds those
        #: it wants known (`add_user`); anyone else is refused, as Slack refuses them.
        self.users: dict[str, dict[str, Any]] = {}
        #: (method, bearer token, params) of every Web API call: which workspace's token
        #: each call was made with.
        self.authed: list[tuple[str, str, dict[str, Any]]] = []
        self.oauth = FakeOAuth()
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:  # http.server names it so
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = urlparse(self.path).path
                status = 200
                if path.startswith("/api/"):
                    params = fake._parse(raw, self.headers.get("Content-Type", ""))
                    method = path.removeprefix("/api/")
                    authorization = self.headers.get("Authorization", "")
                    fake._record(method, params, fake._token(authorization, params))
                    if fake.delays.get(method):
                        time.sleep(fake.delays[method])
                    if fake._take(fake.drops, method):
                        self.close_connection = True
                        return  # no status line at all: the client sees the connection drop
                    if fake._take(fake.rate_limits, method):
                        status, body = 429, {"ok": False, "error": "ratelimited"}
                    elif fake._take(fake.server_errors, method):
                        status, body = 503, {"ok": False, "error": "service_unavailable"}
                    elif method == "oauth.v2.access":  # the app's credentials, not a token
                        body = fake.oauth.access(params, authorization)
                    else:
                        token = fake._token(authorization, params)
                        body = fake._refused(token) or fake._answer(method, params, token)
                else:  # response_url posts (JSON) and file uploads (kept as sent)
                    ctype = self.headers.get("Content-Type", "")
                    parsed = fake._parse(raw, ctype) if "json" in ctype else {}
                    fake._record(path.lstrip("/"), {**parsed, "raw": raw})
                    body = {"ok": True}
                data = json.dumps(body).encode()
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", fake.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/api/"

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, poll_interval: float = 0.5) -> FakeSlackAPI:
        """Serve; `stop` takes up to `poll_interval` seconds (a test that starts and stops
        a fake per test wants it short)."""
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what it answers ------------------------------------------------------------------

    @staticmethod
    def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
        if not raw:
            return {}
        if "json" in content_type:
            return json.loads(raw)
        if "x-www-form-urlencoded" in content_type:
            params: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            for key in ("blocks", "view"):
                if isinstance(params.get(key), str):
                    params[key] = json.loads(params[key])
            return params
        return {"raw": raw}

    def _take(self, counts: dict[str, int], method: str) -> bool:
        """Use up one of a method's planned failures, if it has any left."""
        with self._lock:
            left = counts.get(method, 0)
            if left > 0:
                counts[method] = left - 1
            return left > 0

    @staticmethod
    def _token(authorization: str, params: dict[str, Any]) -> str:
        if authorization.startswith("Bearer "):
            return authorization.removeprefix("Bearer ")
        return str(params.get("token") or "")

    def _refused(self, token: str) -> dict[str, Any] | None:
        """Slack's answer to a call without a usable token, or None when the token is good."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token in self.revoked:
            return {"ok": False, "error": "token_revoked"}
        if self.oauth.issued or self.oauth.expired:
            # Workspaces installed the app: only the tokens they were given are good.
            return self.oauth.refused(token)
        if not token.startswith(("xoxb-", "xoxp-", "xapp-")):
            return {"ok": False, "error": "invalid_auth"}
        return None

    def _record(self, method: str, params: dict[str, Any], token: str = "") -> None:
        with self._lock:
            self.calls.append((method, params))
            self.authed.append((method, token, params))
            self._lock.notify_all()

    def _answer(self, method: str, params: dict[str, Any], token: str = "") -> dict[str, Any]:
        if method in self.failures:
            return {"ok": False, "error": self.failures[method]}
        installed = self.oauth.issued.get(token)
        if installed is not None:
            if method == "auth.test":
                return {"ok": True, **installed.auth_test()}
            if method == "chat.postMessage" and not installed.reaches(
                self.oauth.members.get(str(params.get("channel", "")).removeprefix("D"))
            ):
                return {"ok": False, "error": "channel_not_found"}  # another workspace's DM
        refused = refusal(method, params)
        if refused is not None:
            with self._lock:
                self.refusals.append((method, refused))
            return refused
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": TEAM}
        if method == "chat.postMessage":
            ts = f"{1700000000 + next(self._ts)}.000100"
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": params}
        if method == "users.info":
            found = self.users.get(str(params.get("user", "")))
            if found is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": found}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "X"))}}
        if method == "files.getUploadURLExternal":
            port = _closed_port() if self.uploads_unreachable else self.port
            return {"ok": True, "upload_url": f"http://127.0.0.1:{port}/upload/F1", "file_id": "F1"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": "F1", "title": "export"}]}
        if method == "files.info":
            return {"ok": True, "file": {"id": "F1"}}
        return {"ok": True}

    def add_user(
        self,
        user_id: str,
        display_name: str,
        real_name: str = "",
        tz: str = "Europe/London",
    ) -> None:
        """A person of the workspace, as Slack's users.info describes them (Slack always
        gives a `tz`, with its label and offset in seconds now)."""
        offset = dt.datetime.now(ZoneInfo(tz)).utcoffset() or dt.timedelta()
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM,
            "name": display_name.lower(),
            "real_name": real_name or display_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": int(offset.total_seconds()),
            "profile": {"display_name": display_name, "real_name": real_name or display_name},
        }

    # -- what tests read --------------------------------------------------------------------

    def of(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p for m, p in self.calls if m == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [p for m, p in self.calls if m == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} {method} call(s), got {len(found)}: "
                        f"{[m for m, _ in self.calls]}"
                    )
                self._lock.wait(left)


@dataclass(frozen=True)
class Install:
    """What one "Add to Slack" grants: a workspace's bot, or an organisation's (org-wide)."""

    team: str | None
    enterprise: str | None = None
    org_wide: bool = False
    #: Seconds the first token lives when it rotates (each refreshed one lives Slack's 12
    #: hours); None: a token that never expires.
    lifetime: int | None = None

    def oauth_answer(self, token: str, refresh: str | None, lifetime: int) -> dict[str, Any]:
        """oauth.v2.access's answer, shaped as in Slack's docs (and Bolt's own OAuth tests)."""
        workspace = self.enterprise if self.org_wide else self.team
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": "A1",
            "authed_user": {"id": "UADMIN"},
            "scope": "chat:write,commands,im:history,im:write,files:write,users:read",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": f"UBOT{workspace}",
            "team": None if self.org_wide else {"id": self.team, "name": f"Team {self.team}"},
            "enterprise": {"id": self.enterprise, "name": "Org"} if self.enterprise else None,
            "is_enterprise_install": self.org_wide,
        }
        if refresh is not None:
            answer.update(refresh_token=refresh, expires_in=lifetime)
        return answer

    def auth_test(self) -> dict[str, Any]:
        workspace = self.enterprise if self.org_wide else self.team
        return {
            "url": "https://org.example/" if self.org_wide else f"https://{self.team}.example/",
            "team_id": self.team,
            "enterprise_id": self.enterprise,
            "user_id": f"UBOT{workspace}",
            "bot_id": f"B{workspace}",
            "is_enterprise_install": self.org_wide,
        }

    def reaches(self, member: tuple[str, str | None] | None) -> bool:
        """Whether this install's token can DM a person (team, organisation) of Slack's."""
        if member is None:
            return True  # someone the fake was not told about: Slack's own business
        team, enterprise = member
        return enterprise == self.enterprise if self.org_wide else team == self.team


class FakeOAuth:
    """Slack's side of "Add to Slack": `oauth.v2.access` exchanges a one-time code for a
    bot token (refusing a wrong code, client id or secret, as Slack does), and a refresh
    token for a new one (token rotation); a spent token is refused from then on."""

    CLIENT_ID = "1111.2222"
    CLIENT_SECRET = "fake-client-secret"

    def __init__(self) -> None:
        self.codes: dict[str, Install] = {}
        #: bot token -> the install it belongs to
        self.issued: dict[str, Install] = {}
        #: refresh token -> (install, the token it renews)
        self.refreshes: dict[str, tuple[Install, str]] = {}
        #: tokens replaced by a refresh: `token_expired`
        self.expired: set[str] = set()
        #: Slack user id -> (team, organisation), to refuse a DM with another workspace's token
        self.members: dict[str, tuple[str, str | None]] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def plan(self, install: Install) -> str:
        """The code Slack would send the browser back with after this install."""
        code = f"code-{next(self._numbers)}"
        with self._lock:
            self.codes[code] = install
        return code

    def member(self, user: str, team: str, enterprise: str | None = None) -> None:
        self.members[user] = (team, enterprise)

    def refused(self, token: str) -> dict[str, Any] | None:
        if token in self.expired:
            return {"ok": False, "error": "token_expired"}
        return None if token in self.issued else {"ok": False, "error": "invalid_auth"}

    def _credentials(self, params: dict[str, Any], authorization: str) -> tuple[str, str]:
        if authorization.startswith("Basic "):
            pair = base64.b64decode(authorization.removeprefix("Basic ")).decode()
            found, _, secret = pair.partition(":")
            return found, secret
        return str(params.get("client_id", "")), str(params.get("client_secret", ""))

    def access(self, params: dict[str, Any], authorization: str) -> dict[str, Any]:
        client_id, secret = self._credentials(params, authorization)
        if client_id != self.CLIENT_ID:
            return {"ok": False, "error": "invalid_client_id"}
        if secret != self.CLIENT_SECRET:
            return {"ok": False, "error": "bad_client_secret"}
        with self._lock:
            if params.get("grant_type") == "refresh_token":
                found = self.refreshes.pop(str(params.get("refresh_token", "")), None)
                if found is None:
                    return {"ok": False, "error": "invalid_refresh_token"}
                install, old = found
                self.issued.pop(old, None)
                self.expired.add(old)
            else:
                planned = self.codes.pop(str(params.get("code", "")), None)
                if planned is None:
                    return {"ok": False, "error": "invalid_code"}
                install = planned
            lifetime = TOKEN_HOURS * 3600 if params.get("grant_type") else install.lifetime or 0
            number = next(self._numbers)
            workspace = install.enterprise if install.org_wide else install.team
            rotating = install.lifetime is not None
            token = f"{'xoxe.' if rotating else ''}xoxb-{workspace}-{number}"
            refresh = f"xoxe-1-{workspace}-{number}" if rotating else None
            self.issued[token] = install
            if refresh is not None:
                self.refreshes[refresh] = (install, token)
        return install.oauth_answer(token, refresh, lifetime)
