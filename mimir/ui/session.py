"""Per-browser-session state: a workspace folder under the runs root, choices, in-memory secrets.

One :class:`Session` lives in a ``gr.State`` per browser session; nothing here is shared between
sessions. Secrets (Tavily / Serper keys, endpoint and Hub tokens) stay in memory only: they are
registered for log redaction, never written to the workspace, and ``repr`` hides them.
This module does not import gradio so handlers can be tested as plain functions.
"""

from __future__ import annotations

import copy
import re
import secrets as _random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimir import secrets
from mimir.errors import ConfigError

_SESSION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{7,63}$")
SECRET_NAMES = ("tavily", "serper", "endpoint", "hub")
OWNER_FILE = ".owner"


def workspace_owner(folder: Path) -> str:
    """Who owns a workspace folder ("" for one made without a login)."""
    path = Path(folder) / OWNER_FILE
    return path.read_text(encoding="utf-8").strip() if path.is_file() else ""


@dataclass
class Session:
    """What one browser session has chosen and made so far."""

    runs_root: str
    id: str
    model_spec: str = "local"
    # Overrides of GenerateConfig chosen in the Roles & tools tab (domain, roles, framework, tools).
    generation: dict[str, Any] = field(default_factory=dict)
    train_run: str = ""  # folder of the last training run launched from this session
    owner: str = ""  # the logged-in user (``--auth``) who owns this workspace; "" when the app has no login
    _secrets: dict[str, str] = field(default_factory=dict, repr=False)
    # Live handles of runs started from this session (stop flags, training launches); memory only.
    live: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def new(cls, runs_root: str | Path, owner: str = "") -> "Session":
        """A fresh workspace id (64 random bits: the id is the capability to reopen it)."""
        return cls(runs_root=str(runs_root), id="s-" + _random.token_hex(8), owner=owner or "")

    @classmethod
    def reopen(cls, runs_root: str | Path, session_id: str, owner: str = "") -> "Session":
        """Reattach to an earlier workspace (e.g. after the browser tab was closed mid-training).

        A workspace created by a logged-in user (``--auth``) reopens only for that user; the error
        is the same as for an unknown id, so ids of other users' workspaces cannot be probed."""
        session_id = (session_id or "").strip()
        if not _SESSION_ID.match(session_id):
            raise ConfigError(f"workspace id {session_id!r} is not valid (lowercase letters, digits and '-', 8-64 chars)")
        folder = Path(runs_root) / session_id
        if not folder.is_dir() or workspace_owner(folder) != (owner or ""):
            raise ConfigError(f"no workspace {session_id!r} here (check the id shown in the banner when you made it)")
        return cls(runs_root=str(runs_root), id=session_id, owner=owner or "")

    # -- folders ------------------------------------------------------------------------------
    @property
    def workspace(self) -> Path:
        path = Path(self.runs_root) / self.id
        if not path.is_dir():
            path.mkdir(parents=True, exist_ok=True)
            if self.owner:
                (path / OWNER_FILE).write_text(self.owner, encoding="utf-8")
        return path

    def path(self, *parts: str) -> Path:
        """A path inside the workspace; its parent folder exists."""
        out = self.workspace.joinpath(*parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        return out

    @property
    def knowledge_dir(self) -> Path:
        return self.workspace / "knowledge"

    # -- secrets (memory only) ----------------------------------------------------------------
    def set_secret(self, name: str, value: str | None) -> bool:
        """Hold ``value`` for this session; empty clears it. Returns whether one is now set."""
        if name not in SECRET_NAMES:
            raise KeyError(name)
        value = (value or "").strip()
        if value:
            self._secrets[name] = secrets.remember(value) or value
        else:
            self._secrets.pop(name, None)
        return name in self._secrets

    def secret(self, name: str) -> str | None:
        return self._secrets.get(name)

    def has_secret(self, name: str) -> bool:
        return name in self._secrets

    def __deepcopy__(self, memo: dict) -> "Session":
        # gr.State deep-copies values; secrets copy along, nothing else is special.
        clone = Session(
            runs_root=self.runs_root,
            id=self.id,
            model_spec=self.model_spec,
            generation=copy.deepcopy(self.generation, memo),
            train_run=self.train_run,
            owner=self.owner,
        )
        clone._secrets = dict(self._secrets)
        return clone
