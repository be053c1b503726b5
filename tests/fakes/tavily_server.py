"""A loopback fake of the Tavily search API (POST /search) and of Serper (POST /search, X-API-KEY).

It checks the bearer key like the real service (401 when wrong), records every request body and
answers with canned results built from the query, so tests can assert on what reached it.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer


class FakeSearchServer(LoopbackServer):
    def __init__(self, api_key: str, results: list[dict[str, str]] | None = None) -> None:
        self.api_key = api_key
        self.results = results
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, **body})
                server.headers.append(dict(self.headers))
                auth = self.headers.get("Authorization", "")
                key_ok = auth == f"Bearer {server.api_key}" or self.headers.get("X-API-KEY") == server.api_key
                if not key_ok:
                    self._send(401, {"detail": {"error": "Unauthorized: missing or invalid API key."}})
                    return
                query = str(body.get("query") or body.get("q") or "")
                hits = server.results or [
                    {"title": f"About {query}", "url": "https://example.org/a", "content": f"Public page on {query}.", "score": 0.9}
                ]
                if self.path.startswith("/serper"):
                    self._send(200, {"organic": [{"title": h["title"], "link": h["url"], "snippet": h["content"]} for h in hits]})
                else:
                    self._send(200, {"query": query, "results": hits, "response_time": 0.01})

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._serve(Handler)
