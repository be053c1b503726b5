"""A loopback Hugging Face Jobs API for the real ``huggingface_hub`` client.

Routes (read from huggingface_hub 2.4's ``HfApi.run_job`` / ``inspect_job`` / ``cancel_job`` /
``whoami``): ``GET /api/whoami-v2``, ``POST /api/jobs/{namespace}``,
``GET /api/jobs/{namespace}/{id}``, ``POST /api/jobs/{namespace}/{id}/cancel``.
Every request is recorded (method, path, headers, JSON body) so tests can assert on what arrived.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeJobs:
    tokens: dict[str, str] = field(default_factory=dict)  # token -> user name
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    fail_submit: int | None = None  # HTTP status to answer the next submission with
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def user(self, headers: dict[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        return self.tokens.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None

    def job_json(self, job: dict[str, Any]) -> dict[str, Any]:
        owner = job["owner"]
        return {
            "id": job["id"], "createdAt": "2026-01-01T00:00:00.000Z", "dockerImage": job["spec"].get("dockerImage"),
            "command": job["spec"]["command"], "arguments": job["spec"].get("arguments", []),
            "environment": job["spec"].get("environment", {}),
            "secrets": {k: None for k in job["spec"].get("secrets", {})},  # the Hub never echoes secret values
            "flavor": job["spec"]["flavor"], "labels": job["spec"].get("labels"),
            "status": {"stage": job["stage"], "message": job.get("message")},
            "owner": {"id": "u-" + owner, "name": owner, "type": "user"},
        }


def _handler(fake: FakeJobs):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            body = json.loads(raw) if raw else None
            fake.requests.append(Request(method, self.path, headers, body))
            user = fake.user(headers)
            if user is None:
                return self._reply(401, {"error": "Invalid credentials in Authorization header"})
            parts = self.path.split("?")[0].strip("/").split("/")
            if method == "GET" and parts == ["api", "whoami-v2"]:
                return self._reply(200, {"type": "user", "name": user, "id": "u-" + user, "orgs": []})
            if parts[:2] == ["api", "jobs"] and len(parts) >= 3:
                namespace = parts[2]
                if namespace != user:
                    return self._reply(403, {"error": f"{user} cannot run jobs in {namespace}"})
                if method == "POST" and len(parts) == 3:
                    if fake.fail_submit:
                        status, fake.fail_submit = fake.fail_submit, None
                        return self._reply(status, {"error": "injected fault"})
                    job = {"id": f"job{len(fake.jobs) + 1:04d}", "owner": user, "spec": body, "stage": "RUNNING"}
                    fake.jobs[job["id"]] = job
                    return self._reply(200, fake.job_json(job))
                job = fake.jobs.get(parts[3]) if len(parts) > 3 else None
                if job is None:
                    return self._reply(404, {"error": "Job not found"})
                if method == "GET" and len(parts) == 4:
                    return self._reply(200, fake.job_json(job))
                if method == "POST" and parts[4:] == ["cancel"]:
                    job["stage"] = "CANCELED"
                    return self._reply(200, {})
            return self._reply(404, {"error": f"no route {method} {self.path}"})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler


@pytest.fixture
def fake_jobs():
    fake = FakeJobs()
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
