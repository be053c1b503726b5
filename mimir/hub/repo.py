"""Repo plumbing shared by dataset and adapter pushes: create + verify privacy, two-phase commit.

A push is two commits: first the payload (data files or weights; a stale ``README.md`` is
deleted in the same commit), then the card. A push that fails half-way therefore never leaves
a repo that looks complete, and running it again is safe: unchanged files are skipped by the
Hub client (it compares blob ids), the rest is re-sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from mimir.errors import HubError
from mimir.hub.auth import hub_api, hub_errors, qualify_repo_id, resolve_token
from mimir.secrets import redact

log = logging.getLogger(__name__)

RepoType = Literal["dataset", "model"]
Progress = Callable[[str], None]
CARD = "README.md"


@dataclass
class PushResult:
    """What a push did: where, whether private, which files, which commits."""

    repo_id: str
    repo_type: RepoType
    url: str
    private: bool
    files: list[str] = field(default_factory=list)
    data_commit: str = ""
    card_commit: str = ""
    card: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "card"}


@dataclass
class Upload:
    """One file to upload: bytes already prepared (redacted / rewritten) or a local file."""

    path_in_repo: str
    data: bytes | None = None
    local: Path | None = None


def check_no_secret(uploads: list[Upload], card: str, token: str) -> None:
    """Refuse to upload anything that contains the token itself (defence in depth)."""
    needle = token.encode("utf-8")
    for upload in uploads:
        if _contains(upload, needle):
            raise HubError(f"refusing to upload {upload.path_in_repo}: it contains your Hugging Face token; remove it first")
    if token in card:
        raise HubError("refusing to upload the card: it contains your Hugging Face token")


def _contains(upload: Upload, needle: bytes, chunk: int = 1 << 24) -> bool:
    """Search a file in 16 MiB windows (a merged model can be many GB), overlapping by the needle."""
    if upload.data is not None:
        return needle in upload.data
    tail = b""
    with Path(upload.local).open("rb") as f:  # type: ignore[arg-type]
        while block := f.read(chunk):
            if needle in tail + block:
                return True
            tail = block[-len(needle):]
    return False


class HubSession:
    """One push: the token, the API bound to it, and the verified target repo."""

    def __init__(self, token: Any, endpoint: str | None, progress: Progress | None) -> None:
        self.token = resolve_token(token)
        self.api = hub_api(self.token, endpoint)
        self.progress = progress or (lambda message: log.info("%s", message))

    def ensure_repo(self, repo_id: str, repo_type: RepoType, *, private: bool) -> tuple[str, str]:
        """Create (or reuse) the repo and check its visibility; returns (full repo id, url)."""
        user: dict[str, Any] = {"name": ""}
        if "/" not in repo_id.strip().strip("/"):  # whoami is rate-limited on the Hub: only when needed
            with hub_errors("check the Hugging Face token"):
                user = self.api.whoami(token=self.token)
        repo_id = qualify_repo_id(repo_id, user)
        self.progress(f"creating {repo_type} repo {repo_id} ({'private' if private else 'public'})")
        with hub_errors(f"create the {repo_type} repo", repo_id):
            url = self.api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True, token=self.token)
            info = self.api.repo_info(repo_id, repo_type=repo_type, token=self.token)
        if private and info.private is not True:
            raise HubError(
                f"{repo_type} repo {repo_id} already exists and is PUBLIC; refusing to push private data into it. "
                "Choose another repo name, or make that repo private on the Hub first."
            )
        if not private and info.private:
            self.progress(f"note: {repo_id} already exists and stays private")
        return repo_id, str(url)

    def existing_files(self, repo_id: str, repo_type: RepoType) -> list[str]:
        with hub_errors("list the repo files", repo_id):
            return list(self.api.list_repo_files(repo_id, repo_type=repo_type, token=self.token))

    def commit(
        self,
        repo_id: str,
        repo_type: RepoType,
        uploads: list[Upload],
        *,
        delete: list[str] = (),  # type: ignore[assignment]
        message: str,
    ) -> str:
        """One commit; returns its oid (or the current head when nothing changed)."""
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete

        operations: list[Any] = [CommitOperationDelete(path_in_repo=path) for path in delete]
        for upload in uploads:
            source = upload.data if upload.data is not None else str(upload.local)
            operations.append(CommitOperationAdd(path_in_repo=upload.path_in_repo, path_or_fileobj=source))
        with hub_errors(f"upload to {repo_type} repo", repo_id):
            info = self.api.create_commit(
                repo_id, operations, commit_message=message, repo_type=repo_type, token=self.token
            )
        return str(info.oid)

    def push(
        self,
        repo_id: str,
        repo_type: RepoType,
        *,
        private: bool,
        uploads: list[Upload],
        card: Callable[[str], str],
        keep: Callable[[str], bool],
        what: str,
    ) -> PushResult:
        """Payload commit (deleting the old card and files ``keep`` rejects), then the card commit.

        ``card(repo_id)`` renders the card once the full repo id is known.
        """
        names = [u.path_in_repo for u in uploads]
        if len(set(names)) != len(names):
            raise HubError(f"two files would be uploaded as the same path: {sorted(n for n in names if names.count(n) > 1)}")
        repo_id, url = self.ensure_repo(repo_id, repo_type, private=private)
        card_text = card(repo_id)
        check_no_secret(uploads, card_text, self.token or "")
        existing = self.existing_files(repo_id, repo_type)
        stale = [p for p in existing if p not in names and p != ".gitattributes" and (p == CARD or not keep(p))]
        self.progress(f"uploading {len(uploads)} file(s) to {repo_id}" + (f", removing {len(stale)} stale" if stale else ""))
        data_commit = self.commit(repo_id, repo_type, uploads, delete=stale, message=f"MIMIR: upload {what} (card follows)")
        self.progress(f"writing the card of {repo_id}")
        card_commit = self.commit(
            repo_id, repo_type, [Upload(CARD, card_text.encode("utf-8"))], message=f"MIMIR: {what} card"
        )
        self.progress(f"done: {url}")
        return PushResult(repo_id, repo_type, url, private, sorted(names + [CARD]), data_commit, card_commit, card_text)


def redacted_text(data: bytes) -> bytes:
    """Text files pass through :func:`mimir.secrets.redact` before upload; binary files unchanged."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return redact(text).encode("utf-8")
