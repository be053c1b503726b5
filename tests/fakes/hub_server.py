"""A loopback Hugging Face Hub that the REAL ``huggingface_hub`` / ``datasets`` / ``peft`` clients talk to.

It implements what those clients call for pushing and loading repos (read from the installed
huggingface_hub 2.4 source): ``whoami-v2``, ``repos/create``, ``repos/delete``, repo info (with
siblings, by revision), repo ``settings``, ``validate-yaml``, ``preupload`` (every file "regular",
so neither hf_xet nor LFS is needed), ``commit`` (NDJSON), ``paths-info``, ``tree`` listing and
``resolve`` downloads (HEAD + GET with ETag / X-Repo-Commit / Content-Length, byte ranges).
Unknown routes answer 404 and are recorded in ``hub.unhandled`` so a test can say what is missing.

Use the ``fake_hub`` fixture: it starts a server, points ``HF_ENDPOINT`` at it and patches the
copies of the endpoint that ``huggingface_hub.constants``, the module-level ``HfApi`` of
``huggingface_hub.hf_api`` (behind ``file_exists`` etc., which peft calls) and ``datasets.config``
took at import time, and moves every cache (hub, datasets, token file) into the test's tmp dir. Tokens are
registered with ``hub.add_user(name, token)``; faults with ``hub.fail(route, status, ...)``.
Import it into a test module with ``from tests.fakes.hub_server import fake_hub  # noqa: F401``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n"


def git_blob_sha(data: bytes) -> str:
    """The git blob id the Hub reports as a file's ``oid`` (what the client compares to skip no-ops)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    oid: str
    message: str
    files: dict[str, bytes]
    date: str


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


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


class FakeHub:
    """In-memory Hub state plus the HTTP server in front of it."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}  # token -> user
        self.repos: dict[tuple[str, str], Repo] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, str]] = []  # (method, route, path)
        self.unhandled: list[str] = []
        self.authorization_headers: list[str] = []  # raw, so tests can check the token was sent
        self._lock = threading.RLock()
        self._counter = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
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

    def _new_commit(self, message: str, files: dict[str, bytes]) -> Commit:
        self._counter += 1
        oid = hashlib.sha1(f"{self._counter}:{message}:{time.time_ns()}".encode()).hexdigest()
        return Commit(oid, message, dict(files), time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))

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
        return not repo.private or (user is not None and _owns(user, repo.repo_id))

    def _writable(self, user: dict[str, Any] | None, repo_type: str, repo_id: str) -> Repo:
        if user is None:
            raise HubError(401, "You must be authenticated to write")
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or not self._can_read(user, repo):
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        if not _owns(user, repo_id) or not user["write"]:
            raise HubError(403, f"You don't have the rights to write to {repo_id}")
        return repo

    def _readable(self, user: dict[str, Any] | None, repo_type: str, repo_id: str) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or not self._can_read(user, repo):
            raise HubError(401 if user is None else 404, "Repository not found", "RepoNotFound")
        return repo


def _owns(user: dict[str, Any], repo_id: str) -> bool:
    namespace = repo_id.split("/")[0]
    return namespace == user["name"] or namespace in user["orgs"]


def _sibling(path: str, data: bytes) -> dict[str, Any]:
    return {"rfilename": path, "size": len(data), "blobId": git_blob_sha(data)}


def _entry(path: str, data: bytes) -> dict[str, Any]:
    return {"type": "file", "path": path, "size": len(data), "oid": git_blob_sha(data)}


def _tree(files: dict[str, bytes], prefix: str, recursive: bool) -> list[dict[str, Any]]:
    """Children of ``prefix`` (files and folders), like ``GET /api/{type}s/{id}/tree/{rev}/{prefix}``."""
    base = prefix.strip("/") + "/" if prefix.strip("/") else ""
    out: dict[str, dict[str, Any]] = {}
    for path, data in sorted(files.items()):
        if not path.startswith(base):
            continue
        parts = path[len(base):].split("/")
        for depth in range(1, len(parts)):
            folder = base + "/".join(parts[:depth])
            if depth == 1 or recursive:
                out.setdefault(folder, {"type": "directory", "path": folder, "oid": hashlib.sha1(folder.encode()).hexdigest()})
        if len(parts) == 1 or recursive:
            out[path] = _entry(path, data)
    return list(out.values())


def _make_handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802
            self._dispatch("GET")

        def do_HEAD(self) -> None:  # noqa: N802
            self._dispatch("HEAD")

        def do_POST(self) -> None:  # noqa: N802
            self._dispatch("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._dispatch("PUT")

        def do_DELETE(self) -> None:  # noqa: N802
            self._dispatch("DELETE")

        # -- plumbing ----------------------------------------------------------------
        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None, head: bool = False) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
            self.send_response(status)
            headers = dict(headers or {})
            headers.setdefault("Content-Type", "application/json" if not isinstance(body, bytes) else "application/octet-stream")
            headers["Content-Length"] = str(len(data))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def _dispatch(self, method: str) -> None:
            split = urlsplit(self.path)
            segments = [unquote(s) for s in split.path.split("/")[1:]]
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            body = self._body() if method in ("POST", "PUT", "DELETE") else b""
            route = "?"
            try:
                route, handler, args = self._route(method, segments)
                with hub._lock:
                    hub.requests.append((method, route, split.path))
                fault = hub._take_fault(route)
                if fault is not None:
                    raise HubError(fault.status, fault.message)
                user = hub._user(self.headers)
                handler(method, user, query, body, *args)
            except HubError as exc:
                headers = {"X-Error-Message": exc.message}
                if exc.code:
                    headers["X-Error-Code"] = exc.code
                self._send(exc.status, {"error": exc.message, **exc.extra}, headers, head=method == "HEAD")

        def _route(self, method: str, s: list[str]) -> tuple[str, Any, tuple]:
            if s[:2] == ["api", "whoami-v2"]:
                return "whoami", self.whoami, ()
            if s[:3] == ["api", "repos", "create"] and method == "POST":
                return "create", self.create_repo, ()
            if s[:3] == ["api", "repos", "delete"] and method == "DELETE":
                return "delete", self.delete_repo, ()
            if s[:2] == ["api", "validate-yaml"]:
                return "validate-yaml", self.validate_yaml, ()
            if len(s) >= 4 and s[0] == "api" and s[1] in TYPES:
                repo_type, repo_id, rest = TYPES[s[1]], f"{s[2]}/{s[3]}", s[4:]
                if not rest and method == "GET":
                    return "info", self.info, (repo_type, repo_id, "main")
                action = rest[0] if rest else ""
                if action == "revision" and len(rest) >= 2:
                    return "info", self.info, (repo_type, repo_id, "/".join(rest[1:]))
                if action == "settings" and method == "PUT":
                    return "settings", self.settings, (repo_type, repo_id)
                if action in ("preupload", "commit", "paths-info") and len(rest) == 2 and method == "POST":
                    handler = {"preupload": self.preupload, "commit": self.commit, "paths-info": self.paths_info}[action]
                    return action, handler, (repo_type, repo_id, rest[1])
                if action == "tree" and len(rest) >= 2:
                    return "tree", self.tree, (repo_type, repo_id, rest[1], "/".join(rest[2:]))
            # file downloads: /{ns}/{name}/resolve/{rev}/{path} (models), /datasets/... , /spaces/...
            repo_type = "model"
            if s and s[0] in ("datasets", "spaces"):
                repo_type, s = TYPES[s[0]], s[1:]
            if len(s) >= 5 and s[2] == "resolve" and method in ("GET", "HEAD"):
                return "resolve", self.resolve, (repo_type, f"{s[0]}/{s[1]}", s[3], "/".join(s[4:]))
            hub.unhandled.append(f"{method} {self.path}")
            raise HubError(404, f"fake hub: no route for {method} {self.path}")

        # -- endpoints ---------------------------------------------------------------
        def whoami(self, method: str, user: dict | None, query: dict, body: bytes) -> None:
            if user is None:
                raise HubError(401, "Invalid credentials in Authorization header")
            role = "write" if user["write"] else "read"
            self._send(200, {
                "type": "user", "id": f"id-{user['name']}", "name": user["name"], "fullname": user["name"].title(),
                "orgs": [{"name": org, "type": "org"} for org in user["orgs"]],
                "auth": {"type": "access_token", "accessToken": {"displayName": "mimir-test", "role": role}},
            })

        def create_repo(self, method: str, user: dict | None, query: dict, body: bytes) -> None:
            payload = json.loads(body or b"{}")
            repo_type = payload.get("type") or "model"
            if user is None:
                raise HubError(401, "You must be authenticated to create a repo")
            namespace = payload.get("organization") or user["name"]
            repo_id = f"{namespace}/{payload['name']}"
            if not _owns(user, repo_id) or not user["write"]:
                raise HubError(403, f"You don't have the rights to create a {repo_type} under the namespace {namespace}")
            with hub._lock:
                if (repo_type, repo_id) in hub.repos:  # the real Hub's 409 carries the url too
                    raise HubError(409, "You already created this repo", url=f"{hub.url}/{PREFIX[repo_type]}{repo_id}")
                private = payload.get("visibility", "private" if payload.get("private") else "public") == "private"
                hub.create(repo_id, repo_type, private=private)
            self._send(200, {"url": f"{hub.url}/{PREFIX[repo_type]}{repo_id}", "name": repo_id, "id": repo_id})

        def delete_repo(self, method: str, user: dict | None, query: dict, body: bytes) -> None:
            payload = json.loads(body or b"{}")
            repo_type = payload.get("type") or "model"
            repo_id = f"{payload.get('organization') or (user or {}).get('name')}/{payload['name']}"
            hub._writable(user, repo_type, repo_id)
            with hub._lock:
                del hub.repos[(repo_type, repo_id)]
            self._send(200, {})

        def validate_yaml(self, method: str, user: dict | None, query: dict, body: bytes) -> None:
            import yaml

            content = json.loads(body or b"{}").get("content", "")
            if content.startswith("---"):
                try:
                    meta = yaml.safe_load(content.split("---", 2)[1])
                except yaml.YAMLError as exc:
                    raise HubError(400, f"invalid YAML: {exc}") from None
                if meta is not None and not isinstance(meta, dict):
                    raise HubError(400, "metadata must be a mapping")
            self._send(200, {"errors": [], "warnings": []})

        def info(self, method: str, user: dict | None, query: dict, body: bytes, repo_type: str, repo_id: str, rev: str) -> None:
            import yaml

            with hub._lock:
                repo = hub._readable(user, repo_type, repo_id)
                commit = repo.snapshot(rev)
                if commit is None:
                    raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
                files = dict(commit.files)
            card: dict[str, Any] = {}
            readme = files.get("README.md", b"").decode("utf-8", "replace")
            if readme.startswith("---"):
                card = yaml.safe_load(readme.split("---", 2)[1]) or {}
            self._send(200, {
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id, "author": repo_id.split("/")[0],
                "sha": commit.oid, "private": repo.private, "gated": False, "disabled": False,
                "lastModified": commit.date, "createdAt": repo.commits[0].date, "tags": card.get("tags", []),
                "cardData": card, "siblings": [_sibling(p, d) for p, d in sorted(files.items())],
                "downloads": 0, "likes": 0,
            })

        def settings(self, method: str, user: dict | None, query: dict, body: bytes, repo_type: str, repo_id: str) -> None:
            repo = hub._writable(user, repo_type, repo_id)
            payload = json.loads(body or b"{}")
            with hub._lock:
                if "private" in payload:
                    repo.private = bool(payload["private"])
                if "visibility" in payload:
                    repo.private = payload["visibility"] == "private"
            self._send(200, {})

        def preupload(self, method: str, user: dict | None, query: dict, body: bytes, repo_type: str, repo_id: str, rev: str) -> None:
            with hub._lock:
                repo = hub._writable(user, repo_type, repo_id)
                commit = repo.snapshot(rev)
                if commit is None:
                    raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
                files = dict(commit.files)
            out = []
            for item in json.loads(body)["files"]:
                existing = files.get(item["path"])
                out.append({"path": item["path"], "uploadMode": "regular", "shouldIgnore": False,
                            "oid": git_blob_sha(existing) if existing is not None else None})
            self._send(200, {"files": out, "commitOid": commit.oid})

        def commit(self, method: str, user: dict | None, query: dict, body: bytes, repo_type: str, repo_id: str, rev: str) -> None:
            repo = hub._writable(user, repo_type, repo_id)
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            if not lines or lines[0].get("key") != "header":
                raise HubError(400, "commit payload must start with a header line")
            header = lines[0]["value"]
            with hub._lock:
                base = repo.snapshot(rev)
                if base is None or (rev not in ("main", "HEAD") and base is not repo.head):
                    raise HubError(404 if base is None else 400, f"cannot commit to {rev}", "RevisionNotFound" if base is None else None)
                parent = header.get("parentCommit")
                if parent and not repo.head.oid.startswith(parent):
                    raise HubError(412, "A commit has happened since. Please refresh and try again.")
                files = dict(repo.head.files)
                for line in lines[1:]:
                    key, value = line["key"], line["value"]
                    if key == "file":
                        if value.get("encoding") != "base64":
                            raise HubError(400, f"unsupported encoding {value.get('encoding')!r}")
                        files[value["path"]] = base64.b64decode(value["content"])
                    elif key == "deletedFile":
                        if value["path"] not in files:
                            raise HubError(404, f"{value['path']} does not exist", "EntryNotFound")
                        del files[value["path"]]
                    elif key == "deletedFolder":
                        prefix = value["path"].rstrip("/") + "/"
                        for path in [p for p in files if p.startswith(prefix)]:
                            del files[path]
                    else:  # lfsFile needs an LFS store this fake does not keep
                        raise HubError(400, f"fake hub: unsupported commit operation {key!r}")
                commit = hub._new_commit(header.get("summary", ""), files)
                repo.commits.append(commit)
            self._send(200, {"commitUrl": f"{hub.url}/{PREFIX[repo_type]}{repo_id}/commit/{commit.oid}",
                             "commitOid": commit.oid, "pullRequestUrl": None})

        def _snapshot_files(self, user: dict | None, repo_type: str, repo_id: str, rev: str) -> tuple[Commit, dict[str, bytes]]:
            with hub._lock:
                repo = hub._readable(user, repo_type, repo_id)
                commit = repo.snapshot(rev)
                if commit is None:
                    raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
                return commit, dict(commit.files)

        def paths_info(self, method: str, user: dict | None, query: dict, body: bytes, repo_type: str, repo_id: str, rev: str) -> None:
            _, files = self._snapshot_files(user, repo_type, repo_id, rev)
            ctype = self.headers.get("Content-Type", "")
            if "json" in ctype:
                paths = json.loads(body or b"{}").get("paths", [])
            else:  # form-encoded: paths=a&paths=b&expand=true
                paths = parse_qs(body.decode()).get("paths", [])
            folders = {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}
            out = []
            for path in paths:
                path = path.strip("/")
                if path in files:
                    out.append(_entry(path, files[path]))
                elif path in folders:
                    out.append({"type": "directory", "path": path, "oid": hashlib.sha1(path.encode()).hexdigest()})
            self._send(200, out)

        def tree(self, method: str, user: dict | None, query: dict, body: bytes, repo_type: str, repo_id: str, rev: str, path: str) -> None:
            _, files = self._snapshot_files(user, repo_type, repo_id, rev)
            recursive = query.get("recursive", "false").lower() in ("1", "true")
            entries = _tree(files, path, recursive)
            if path.strip("/") and not entries:
                raise HubError(404, f"{path} does not exist", "EntryNotFound")
            self._send(200, entries)

        def resolve(self, method: str, user: dict | None, query: dict, body: bytes, repo_type: str, repo_id: str, rev: str, path: str) -> None:
            commit, files = self._snapshot_files(user, repo_type, repo_id, rev)
            if path not in files:
                raise HubError(404, "Entry not found", "EntryNotFound")
            data = files[path]
            headers = {"ETag": f'"{git_blob_sha(data)}"', "X-Repo-Commit": commit.oid, "Accept-Ranges": "bytes",
                       "Content-Type": "application/octet-stream"}
            status = 200
            wanted = self.headers.get("Range", "")
            if wanted.startswith("bytes="):
                start_s, _, end_s = wanted[6:].split(",")[0].partition("-")
                if start_s == "":  # suffix range: last N bytes
                    start, end = max(0, len(data) - int(end_s)), len(data) - 1
                else:
                    start, end = int(start_s), min(int(end_s) if end_s else len(data) - 1, len(data) - 1)
                if start >= len(data) and len(data) > 0:
                    raise HubError(416, "range not satisfiable")
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                data, status = data[start:end + 1], 206
            self._send(status, data, headers, head=method == "HEAD")

    return Handler


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
