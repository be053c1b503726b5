"""HTTP side of the loopback Hub (see :mod:`tests.fakes.hub_server`): routing and the endpoints
the real ``huggingface_hub`` client calls, over the in-memory state of a ``FakeHub``."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}


def git_blob_sha(data: bytes) -> str:
    """The git blob id the Hub reports as a file's ``oid`` (what the client compares to skip no-ops)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    oid: str
    message: str
    files: dict[str, bytes]
    date: str
    lfs: dict[str, str] = field(default_factory=dict)  # path -> sha256 of files stored through LFS


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


def owns(user: dict[str, Any], repo_id: str) -> bool:
    namespace = repo_id.split("/")[0]
    return namespace == user["name"] or namespace in user["orgs"]


def _lfs_info(data: bytes) -> dict[str, Any]:
    return {"oid": hashlib.sha256(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}


def _sibling(path: str, data: bytes, lfs: bool = False) -> dict[str, Any]:
    return {"rfilename": path, "size": len(data), "blobId": git_blob_sha(data), **({"lfs": _lfs_info(data)} if lfs else {})}


def _entry(path: str, data: bytes, lfs: bool = False) -> dict[str, Any]:
    return {"type": "file", "path": path, "size": len(data), "oid": git_blob_sha(data), **({"lfs": _lfs_info(data)} if lfs else {})}


def _tree(files: dict[str, bytes], prefix: str, recursive: bool, lfs: dict[str, str]) -> list[dict[str, Any]]:
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
            out[path] = _entry(path, data, path in lfs)
    return list(out.values())


def make_handler(hub: Any) -> type[BaseHTTPRequestHandler]:
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
            if s[:1] == ["lfs-upload"] and method == "PUT":
                return "lfs-upload", self.lfs_upload, (s[1],)
            if s[:1] == ["lfs-verify"] and method == "POST":
                return "lfs-verify", self.lfs_verify, (s[1],)
            # file downloads: /{ns}/{name}/resolve/{rev}/{path} (models), /datasets/... , /spaces/...
            # LFS batch API: /{prefix}{ns}/{name}.git/info/lfs/objects/batch
            repo_type = "model"
            if s and s[0] in ("datasets", "spaces"):
                repo_type, s = TYPES[s[0]], s[1:]
            if len(s) == 6 and s[1].endswith(".git") and s[2:] == ["info", "lfs", "objects", "batch"] and method == "POST":
                return "lfs-batch", self.lfs_batch, (repo_type, f"{s[0]}/{s[1][:-4]}")
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
            if not owns(user, repo_id) or not user["write"]:
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
                files, lfs = dict(commit.files), dict(commit.lfs)
            card: dict[str, Any] = {}
            readme = files.get("README.md", b"").decode("utf-8", "replace")
            if readme.startswith("---"):
                card = yaml.safe_load(readme.split("---", 2)[1]) or {}
            self._send(200, {
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id, "author": repo_id.split("/")[0],
                "sha": commit.oid, "private": repo.private, "gated": False, "disabled": False,
                "lastModified": commit.date, "createdAt": repo.commits[0].date, "tags": card.get("tags", []),
                "cardData": card, "siblings": [_sibling(p, d, p in lfs) for p, d in sorted(files.items())],
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
                files, lfs = dict(commit.files), dict(commit.lfs)
            out = []
            for item in json.loads(body)["files"]:
                path, existing = item["path"], files.get(item["path"])
                mode = "lfs" if path.endswith(hub.lfs_suffixes) and item.get("size", 0) > 0 else "regular"
                oid = None if existing is None else (lfs[path] if path in lfs else git_blob_sha(existing))
                out.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": oid})
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
                files, lfs = dict(repo.head.files), dict(repo.head.lfs)
                for line in lines[1:]:
                    key, value = line["key"], line["value"]
                    if key == "file":
                        if value.get("encoding") != "base64":
                            raise HubError(400, f"unsupported encoding {value.get('encoding')!r}")
                        files[value["path"]] = base64.b64decode(value["content"])
                        lfs.pop(value["path"], None)
                    elif key == "lfsFile":
                        if value.get("oid") not in hub.blobs:
                            raise HubError(400, f"LFS object {value.get('oid')} for {value['path']} was never uploaded")
                        files[value["path"]], lfs[value["path"]] = hub.blobs[value["oid"]], value["oid"]
                    elif key == "deletedFile":
                        if value["path"] not in files:
                            raise HubError(404, f"{value['path']} does not exist", "EntryNotFound")
                        del files[value["path"]]
                        lfs.pop(value["path"], None)
                    elif key == "deletedFolder":
                        prefix = value["path"].rstrip("/") + "/"
                        for path in [p for p in files if p.startswith(prefix)]:
                            del files[path]
                            lfs.pop(path, None)
                    else:
                        raise HubError(400, f"fake hub: unsupported commit operation {key!r}")
                commit = hub._new_commit(header.get("summary", ""), files, lfs)
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
            commit, files = self._snapshot_files(user, repo_type, repo_id, rev)
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
                    out.append(_entry(path, files[path], path in commit.lfs))
                elif path in folders:
                    out.append({"type": "directory", "path": path, "oid": hashlib.sha1(path.encode()).hexdigest()})
            self._send(200, out)

        def tree(self, method: str, user: dict | None, query: dict, body: bytes, repo_type: str, repo_id: str, rev: str, path: str) -> None:
            commit, files = self._snapshot_files(user, repo_type, repo_id, rev)
            recursive = query.get("recursive", "false").lower() in ("1", "true")
            entries = _tree(files, path, recursive, commit.lfs)
            if path.strip("/") and not entries:
                raise HubError(404, f"{path} does not exist", "EntryNotFound")
            self._send(200, entries)

        def resolve(self, method: str, user: dict | None, query: dict, body: bytes, repo_type: str, repo_id: str, rev: str, path: str) -> None:
            commit, files = self._snapshot_files(user, repo_type, repo_id, rev)
            if path not in files:
                raise HubError(404, "Entry not found", "EntryNotFound")
            data = files[path]
            etag = commit.lfs.get(path) or git_blob_sha(data)  # the Hub's ETag of an LFS file is its sha256
            headers = {"ETag": f'"{etag}"', "X-Repo-Commit": commit.oid, "Accept-Ranges": "bytes",
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

        def lfs_batch(self, method: str, user: dict | None, query: dict, body: bytes, repo_type: str, repo_id: str) -> None:
            hub._writable(user, repo_type, repo_id)
            payload = json.loads(body or b"{}")
            if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", ["basic"]):
                raise HubError(400, "fake hub: only basic LFS uploads are supported")
            objects = []
            for obj in payload.get("objects", []):
                entry: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
                if obj["oid"] not in hub.blobs:  # already stored: no actions, the client skips it
                    entry["actions"] = {"upload": {"href": f"{hub.url}/lfs-upload/{obj['oid']}"},
                                        "verify": {"href": f"{hub.url}/lfs-verify/{obj['oid']}"}}
                objects.append(entry)
            self._send(200, {"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

        def lfs_upload(self, method: str, user: dict | None, query: dict, body: bytes, oid: str) -> None:
            if hashlib.sha256(body).hexdigest() != oid:
                raise HubError(400, "uploaded content does not match its sha256")
            with hub._lock:
                hub.blobs[oid] = body
            self._send(200, {})

        def lfs_verify(self, method: str, user: dict | None, query: dict, body: bytes, oid: str) -> None:
            if oid not in hub.blobs:
                raise HubError(404, f"LFS object {oid} not found")
            self._send(200, {})

    return Handler
