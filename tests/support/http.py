"""A threaded local HTTP(S) server with a small routing table, started and stopped as a context."""

from __future__ import annotations

import json
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Request:
    def __init__(self, handler: BaseHTTPRequestHandler, body: bytes):
        parsed = urlparse(handler.path)
        self.method = handler.command
        self.path = parsed.path
        self.query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
        self.headers = handler.headers
        self.body = body

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


class Response:
    def __init__(self, status: int = 200, body=None, headers: dict | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, (bytes, bytearray)):
            return bytes(self.body)
        return json.dumps(self.body).encode()


class LocalServer:
    """Routes: (method, regex over the path) → handler(request, **groups) → Response."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None):
        self.routes: list[tuple[str, re.Pattern, callable]] = []
        self.ssl_context = ssl_context
        self.log: list[tuple[str, str]] = []
        self._server = None

    def route(self, method: str, pattern: str, handler) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms ACK waits

            def _dispatch(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self, self.rfile.read(length) if length else b"")
                owner.log.append((request.method, self.path))
                response = owner.handle(request)
                payload = response.encoded() if request.method != "HEAD" else b""
                self.send_response(response.status)
                headers = {"Content-Type": "application/json", **response.headers}
                for key, value in headers.items():
                    self.send_header(key, str(value))
                if "Content-Length" not in response.headers:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.ssl_context:
            self._server.socket = self.ssl_context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def handle(self, request: Request) -> Response:
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                return handler(request, **match.groupdict())
        return Response(
            404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for '{request.method} {request.path}'"}
        )
