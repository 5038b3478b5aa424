"""Which bot token speaks to each workspace: one from the environment, or one per
installation when the coach is distributed with "Add to Slack".

With `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET` set, each workspace (or Enterprise Grid
organisation) that installs the coach gets its own bot token through Bolt's OAuth flow.
The tokens live in slack_sdk's SQLite installation store, in the coach's own database file:
one file to back up, to move and to erase, and its deletes overwrite what they delete, like
the coach's own (`PRAGMA secure_delete`, set on each of its connections).

Every Web API call the coach makes, for a request or later (a check-in, a reply to a
delivery that waited), asks `client_for(person)` for a client holding that person's
workspace token; a token that is about to expire is refreshed first (token rotation).
Bolt authorises incoming requests through the same tokens (`StoredAuthorize`), so a
request costs no `auth.test` call before it is acknowledged.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.context import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.channels.slack.web import NotInstalled

log = logging.getLogger("coach.slack")

#: What the coach asks a workspace for (slack/manifest.yaml lists the same, with why).
BOT_SCOPES = ("chat:write", "commands", "im:history", "im:write", "files:write", "users:read")
#: Refresh a rotating token this many minutes before it expires (Bolt's default).
ROTATE_BEFORE_MINUTES = 120
#: Clients kept for reuse, one per token, before they are all let go.
MAX_CLIENTS = 1000


def workspace_of_key(key: str) -> str:
    """The workspace part of a person's key (`slack:T…:U…` or, for an org install,
    `slack:E…:U…`)."""
    parts = key.split(":")
    return parts[1] if len(parts) == 3 else ""


class HideOAuthCodes(logging.Filter):
    """Bolt logs a refused OAuth exchange with its one-time code: the code is left out."""

    CODE = re.compile(r"(code: )\S+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "code: " in record.msg:
            record.msg = self.CODE.sub(r"\1[hidden]", record.msg)
        return True


class CoachInstallationStore(SQLite3InstallationStore):
    """slack_sdk's SQLite installation store, whose connections overwrite what they delete
    (a removed workspace's tokens must not stay readable in the file), and which says when
    a workspace installs (`on_install`: a workspace that removed the coach is back).

    What it finds is remembered until this store next writes: every request and every Web
    API call looks its workspace's bot up, and slack_sdk opens a connection for each lookup
    (about 0.7 ms for the two a workspace takes). Only this process writes installations
    (`coach slack` runs one worker), so nothing else can make what it remembers stale.
    """

    def __init__(
        self,
        *,
        database: str,
        client_id: str,
        on_install: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(database=database, client_id=client_id)
        self.on_install = on_install
        self._found: dict[tuple[str, str, str], Any] = {}
        self._writes = 0  # a lookup read before a write is not remembered after it
        self._found_lock = threading.Lock()

    def _remembered(self, key: tuple[str, str, str], look: Callable[[], Any]) -> Any:
        with self._found_lock:
            if key in self._found:
                return self._found[key]
            writes = self._writes
        found = look()
        with self._found_lock:
            if writes == self._writes:
                self._found[key] = found
        return found

    def _changed(self) -> None:
        with self._found_lock:
            self._writes += 1
            self._found.clear()

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        team = "" if is_enterprise_install else team_id or ""
        found: Bot | None = self._remembered(
            ("bot", enterprise_id or "", team),
            lambda: super(CoachInstallationStore, self).find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            ),
        )
        return found

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        try:
            super().delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        finally:
            self._changed()

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        try:
            super().delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        finally:
            self._changed()

    def save(self, installation: Installation) -> None:
        super().save(installation)
        if self.on_install is not None:
            self.on_install(
                workspace_for(
                    installation.enterprise_id,
                    installation.team_id,
                    installation.is_enterprise_install,
                )
            )

    def save_bot(self, bot: Bot) -> None:
        """Keep a workspace's new bot (an install, or a refreshed token), and only it."""
        try:
            super().save_bot(bot)
            self._keep_newest(bot)
        finally:
            self._changed()

    def _keep_newest(self, bot: Bot) -> None:
        """Delete a workspace's older rows, and give its installation the new token: a
        lookup can never pick a spent token (slack_sdk orders by a time in whole seconds,
        which a refresh can share), and no replaced token stays readable in the file
        (overwritten, and the write-ahead log emptied)."""
        team = None if bot.is_enterprise_install else bot.team_id
        where = "client_id = ? AND enterprise_id = ? AND team_id = ?"
        key = (self.client_id, bot.enterprise_id or "", team or "")
        with self.connect() as conn:
            for table in ("slack_bots", "slack_installations"):
                conn.execute(
                    f"DELETE FROM {table} WHERE {where} "
                    f"AND id < (SELECT MAX(id) FROM {table} WHERE {where})",
                    key + key,
                )
            conn.execute(
                "UPDATE slack_installations SET bot_token = ?, bot_refresh_token = ?, "
                f"bot_token_expires_at = ? WHERE {where}",
                (bot.bot_token, bot.bot_refresh_token, bot.bot_token_expires_at, *key),
            )
            conn.commit()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def connect(self) -> sqlite3.Connection:
        conn = super().connect()
        conn.execute("PRAGMA secure_delete = ON")
        return conn

    def enterprise_of(self, team_id: str) -> str | None:
        """The Enterprise Grid organisation of a workspace installed on its own ('' when it
        is in none), or None when the coach is not installed there."""

        def look() -> str | None:
            with self.connect() as conn:
                row = conn.execute(
                    "SELECT enterprise_id FROM slack_bots WHERE client_id = ? AND team_id = ? "
                    "ORDER BY id DESC LIMIT 1",
                    (self.client_id, team_id),
                ).fetchone()
            return None if row is None else str(row[0])

        found: str | None = self._remembered(("team", team_id, ""), look)
        return found


class Tokens:
    """The one bot token of a single-workspace install (and Socket Mode)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def client_for(self, key: str) -> WebClient:
        return self.client

    def removed(self, workspace: str | None) -> bool:
        """Nothing to delete: the token is the operator's, in the environment."""
        return False


class InstalledTokens(Tokens):
    """A bot token per installation, from the installation store, refreshed before it
    expires; `client` is the app's own client (no token), used for `oauth.v2.access`."""

    def __init__(
        self,
        client: WebClient,
        store: CoachInstallationStore,
        *,
        client_id: str,
        client_secret: str,
        rotate_before_minutes: int = ROTATE_BEFORE_MINUTES,
    ) -> None:
        super().__init__(client)
        self.store = store
        self.rotator = TokenRotator(client_id=client_id, client_secret=client_secret, client=client)
        self.rotate_before = rotate_before_minutes
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()
        self._rotating = threading.Lock()

    def bot(self, workspace: str) -> Bot | None:
        """The installation's bot for a workspace part of a key (a team id, or an
        organisation's id for an org-wide install), its token refreshed if it is expiring.

        Read from the store each time (one indexed read): a reinstall or an uninstall is
        seen at once, by every thread."""
        bot = self._find(workspace)
        if bot is None or not bot.bot_refresh_token:
            return bot
        with self._rotating:  # one refresh at a time: a second would use a spent token
            bot = self._find(workspace)
            if bot is None:
                return None
            refreshed = self.rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=self.rotate_before
            )
            if refreshed is None:
                return bot
            self.store.save_bot(refreshed)
            return refreshed

    def _find(self, workspace: str) -> Bot | None:
        if workspace.startswith("E"):
            return self.store.find_bot(
                enterprise_id=workspace, team_id=None, is_enterprise_install=True
            )
        enterprise = self.store.enterprise_of(workspace)
        if enterprise is None:
            return None
        return self.store.find_bot(enterprise_id=enterprise or None, team_id=workspace)

    def client_for(self, key: str) -> WebClient:
        """A client with the token of the person's workspace; NotInstalled when there is
        none (Web API calls give up on it as on a revoked token)."""
        workspace = workspace_of_key(key)
        try:
            bot = self.bot(workspace)
        except SlackTokenRotationError as exc:
            raise NotInstalled(f"token of {workspace} not refreshed") from exc
        if bot is None or not bot.bot_token:
            raise NotInstalled(f"not installed in {workspace}")
        token = bot.bot_token
        with self._lock:
            found = self._clients.get(token)
            if found is None:
                base = self.client
                found = WebClient(
                    token=token,
                    base_url=base.base_url,
                    timeout=base.timeout,
                    retry_handlers=list(base.retry_handlers),
                )
                if len(self._clients) >= MAX_CLIENTS:
                    self._clients.clear()  # spent tokens' clients, after many refreshes
                self._clients[token] = found
            return found

    def removed(self, workspace: str | None) -> bool:
        """Delete a workspace's installations and bot tokens (it uninstalled the coach or
        revoked its token); True when there were any."""
        if not workspace:
            return False
        with self._lock:
            self._clients.clear()
        enterprise: str | None
        team: str | None
        if workspace.startswith("E"):
            enterprise, team = workspace, None
        else:
            found = self.store.enterprise_of(workspace)
            if found is None:
                return False
            enterprise, team = found or None, workspace
        self.store.delete_all(enterprise_id=enterprise, team_id=team)
        log.warning("workspace %s: its installation and tokens are deleted", workspace)
        return True


def workspace_for(enterprise_id: str | None, team_id: str | None, org_wide: bool | None) -> str:
    """The workspace part of a key: the organisation for an org-wide install (one history
    per person across its workspaces), else the workspace."""
    if org_wide and enterprise_id:
        return enterprise_id
    return team_id or ""


class StoredAuthorize(Authorize):
    """Bolt's authorisation of a request from the stored installation, with no `auth.test`
    call (Bolt's own makes one per request, before the 3-second acknowledgement)."""

    def __init__(self, tokens: InstalledTokens) -> None:
        self.tokens = tokens

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **actor: Any,
    ) -> AuthorizeResult | None:
        workspace = workspace_for(enterprise_id, team_id, context.is_enterprise_install)
        try:
            bot = self.tokens.bot(workspace) if workspace else None
        except SlackTokenRotationError:
            log.warning("workspace %s: its token could not be refreshed", workspace)
            return None
        if bot is None:
            return None
        scopes: Sequence[str] | None = bot.bot_scopes
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=scopes,
            user_id=user_id,
        )
