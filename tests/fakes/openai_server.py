"""A loopback OpenAI-compatible chat server with injectable latency and faults.

Faults are consumed one per request, in order: ``("status", 429, {"Retry-After": "1"})``,
``("status", 500)``, ``("delay", seconds)`` (sleep, then answer normally: a client timeout),
``("malformed",)`` (200 with a body that is not JSON), ``("garbage",)`` (200 with random bytes),
``("truncated",)`` (a valid reply cut off mid-body: the announced length is never sent),
``("close",)`` (the connection dropped without any reply). Replies come from ``responder``
(a function of the request body returning text or a full message dict); the default echoes
the last user message. Every request body and its headers are recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable

from tests.fakes.loopback import LoopbackServer


class FakeOpenAIServer(LoopbackServer):
    url_path = "/v1"

    def __init__(self, latency: float = 0.0, responder: Callable[[dict], Any] | None = None) -> None:
        self.latency = latency
        self.responder = responder or (lambda body: "echo: " + str(body["messages"][-1].get("content", "")))
        self.faults: deque[tuple] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.request_times: list[float] = []
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server._handle(self, body)

        self._serve(Handler)

    def add_faults(self, *faults: tuple) -> None:
        self.faults.extend(faults)

    def _handle(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        with self._lock:
            self.requests.append(body)
            self.headers.append({k.lower(): v for k, v in handler.headers.items()})
            self.request_times.append(time.monotonic())
            fault = self.faults.popleft() if self.faults else None
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            if fault and fault[0] == "status":
                extra = fault[2] if len(fault) > 2 else {}
                self._send(handler, fault[1], json.dumps({"error": f"injected {fault[1]}"}).encode(), extra)
                return
            if fault and fault[0] == "delay":
                time.sleep(fault[1])
            if fault and fault[0] == "malformed":
                self._send(handler, 200, b'{"choices": [ {"message": ', {})
                return
            if fault and fault[0] == "garbage":
                self._send(handler, 200, bytes(range(256)) * 4, {})
                return
            if fault and fault[0] in ("truncated", "close"):
                payload = json.dumps(self._completion(body)).encode()
                try:
                    if fault[0] == "truncated":
                        handler.send_response(200)
                        handler.send_header("Content-Type", "application/json")
                        handler.send_header("Content-Length", str(len(payload)))
                        handler.end_headers()
                        handler.wfile.write(payload[: len(payload) // 2])
                        handler.wfile.flush()
                    handler.close_connection = True
                    handler.connection.shutdown(2)  # SHUT_RDWR: the reply never completes
                except OSError:
                    pass
                return
            self._send(handler, 200, json.dumps(self._completion(body)).encode(), {})
        finally:
            with self._lock:
                self.in_flight -= 1

    def _completion(self, body: dict) -> dict:
        out = self.responder(body)
        message = out if isinstance(out, dict) else {"role": "assistant", "content": str(out)}
        message.setdefault("role", "assistant")
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
        }

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str]) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass
