"""A loopback Hugging Face Hub that the REAL ``huggingface_hub`` / ``datasets`` / ``peft`` clients talk to.

It implements what those clients call for pushing and loading repos (read from the installed
huggingface_hub 2.4 source): ``whoami-v2``, ``repos/create``, ``repos/delete``, repo info (with
siblings, by revision), repo ``settings``, ``validate-yaml``, ``preupload`` (by default every file
"regular", so neither hf_xet nor LFS is needed), ``commit`` (NDJSON), ``paths-info``, ``tree`` listing and
``resolve`` downloads (HEAD + GET with ETag / X-Repo-Commit / Content-Length, byte ranges), and
optionally (``hub.use_lfs()``) the LFS batch API with basic PUT uploads and verify.
Unknown routes answer 404 and are recorded in ``hub.unhandled`` so a test can say what is missing.

Use the ``fake_hub`` fixture: it starts a server, points ``HF_ENDPOINT`` at it and patches the
copies of the endpoint that ``huggingface_hub.constants``, the module-level ``HfApi`` of
``huggingface_hub.hf_api`` (behind ``file_exists`` etc., which peft calls) and ``datasets.config``
took at import time, and moves every cache (hub, datasets, token file) into the test's tmp dir. Tokens are
registered with ``hub.add_user(name, token)``; faults with ``hub.fail(route, status, ...)``.
Import it into a test module with ``from tests.fakes.hub_server import fake_hub  # noqa: F401``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from tests.fakes.hub_routes import PREFIX, Commit, HubError, owns, git_blob_sha, make_handler

__all__ = ["FakeHub", "Repo", "fake_hub", "git_blob_sha", "PREFIX"]
GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n"


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    private: bool
    commits: list[Commit] = field(default_factory=list)

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    @property
    def files(self) -> dict[str, bytes]:
        return self.head.files

    def snapshot(self, revision: str) -> Commit | None:
        if revision in ("main", "HEAD"):
            return self.head
        for commit in self.commits:
            if commit.oid == revision or (len(revision) >= 7 and commit.oid.startswith(revision)):
                return commit
        return None


@dataclass
class Fault:
    route: str
    status: int
    times: int
    skip: int
    message: str


class FakeHub:
    """In-memory Hub state plus the HTTP server in front of it."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}  # token -> user
        self.repos: dict[tuple[str, str], Repo] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, str]] = []  # (method, route, path)
        self.unhandled: list[str] = []
        self.authorization_headers: list[str] = []  # raw, so tests can check the token was sent
        self.lfs_suffixes: tuple[str, ...] = ()  # preupload answers "lfs" for these (see use_lfs)
        self.blobs: dict[str, bytes] = {}  # LFS store: sha256 -> content
        self._lock = threading.RLock()
        self._counter = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # -- lifecycle and test helpers -------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeHub":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add_user(self, name: str, token: str, *, orgs: tuple[str, ...] = (), write: bool = True) -> None:
        self.users[token] = {"name": name, "orgs": list(orgs), "write": write}

    def fail(self, route: str, status: int, *, times: int = 1, skip: int = 0, message: str = "injected fault") -> None:
        """Answer the next ``times`` requests to ``route`` (after letting ``skip`` through) with ``status``."""
        self.faults.append(Fault(route, status, times, skip, message))

    def use_lfs(self, suffixes: tuple[str, ...] = (".parquet", ".safetensors")) -> None:
        """Answer preupload with "lfs" for these files, as the real Hub does for binaries. The client then
        uses the LFS batch API (``HF_HUB_DISABLE_XET`` must be on: this fake speaks no Xet)."""
        self.lfs_suffixes = suffixes

    def repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def create(self, repo_id: str, repo_type: str = "model", *, private: bool = False) -> Repo:
        """Create a repo directly (e.g. an existing public repo a test then pushes private data to)."""
        with self._lock:
            repo = Repo(repo_id, repo_type, private)
            repo.commits.append(self._new_commit("initial commit", {".gitattributes": GITATTRIBUTES}))
            self.repos[(repo_type, repo_id)] = repo
            return repo

    def routes_called(self) -> list[str]:
        return [route for _, route, _ in self.requests]

    def _new_commit(self, message: str, files: dict[str, bytes], lfs: dict[str, str] | None = None) -> Commit:
        self._counter += 1
        oid = hashlib.sha1(f"{self._counter}:{message}:{time.time_ns()}".encode()).hexdigest()
        return Commit(oid, message, dict(files), time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), dict(lfs or {}))

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.route != route or fault.times <= 0:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                return fault
        return None

    # -- auth ------------------------------------------------------------------------
    def _user(self, headers: Any) -> dict[str, Any] | None:
        auth = headers.get("Authorization") or ""
        if not auth:
            return None
        self.authorization_headers.append(auth)
        token = auth.removeprefix("Bearer ").strip()
        user = self.users.get(token)
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        return user

    def _can_read(self, user: dict[str, Any] | None, repo: Repo) -> bool:
        return not repo.private or (user is not None and owns(user, repo.repo_id))

    def _writable(self, user: dict[str, Any] | None, repo_type: str, repo_id: str) -> Repo:
        if user is None:
            raise HubError(401, "You must be authenticated to write")
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or not self._can_read(user, repo):
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        if not owns(user, repo_id) or not user["write"]:
            raise HubError(403, f"You don't have the rights to write to {repo_id}")
        return repo

    def _readable(self, user: dict[str, Any] | None, repo_type: str, repo_id: str) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or not self._can_read(user, repo):
            raise HubError(401 if user is None else 404, "Repository not found", "RepoNotFound")
        return repo


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    """A started :class:`FakeHub` with every client pointed at it; caches under ``tmp_path``."""
    import datasets.config
    import huggingface_hub.constants as hf_constants
    import huggingface_hub.hf_api as hf_api

    hub = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    # Both libraries copy HF_ENDPOINT (and cache paths) into module constants at import time.
    monkeypatch.setattr(hf_constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(hf_constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}")
    # The module-level helpers (huggingface_hub.file_exists, used by peft) are bound to one HfApi
    # built at import time with the endpoint of that moment.
    monkeypatch.setattr(hf_api.api, "endpoint", hub.url)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache" / "hub"))
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "hf-cache" / "token"))
    monkeypatch.setattr(hf_constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "hf-cache" / "stored_tokens"))
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", True)
    monkeypatch.setattr(datasets.config, "HF_ENDPOINT", hub.url)
    monkeypatch.setattr(datasets.config, "HUB_DATASETS_URL", hub.url + "/datasets/{repo_id}/resolve/{revision}/{path}")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache" / "datasets")
    yield hub
    hub.stop()
