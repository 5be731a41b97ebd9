"""A farm of test websites on 127.0.0.1: real HTTP(S) servers whose pages the tests change at will."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)
    drop: bool = False  # close the connection without answering
    delay: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.hits.append((self.headers.get("Host", ""), self.path))
        self.server.cookies.append(self.headers.get("Cookie", ""))
        route = self.server.routes.get(self.path.split("?", 1)[0], Route(status=404, body=b"not found"))
        if route.delay:
            time.sleep(route.delay)
        if route.drop:
            self.close_connection = True
            return
        self.send_response(route.status)
        for name, value in route.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    routes: dict[str, Route]
    hits: list[tuple[str, str]]
    cookies: list[str]

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up early (a check's deadline, a refused redirect) is normal here: the default
        prints a traceback to stderr, which ends up inside the output of CLI tests run in the same process."""


class SiteFarm:
    """One server, many paths; ``set`` changes what a path serves from the next request on."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.routes, self.server.hits, self.server.cookies = {}, [], []
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> SiteFarm:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def set(self, path: str, body: str | bytes = b"", **kw: object) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.server.routes[path] = Route(body=data, **kw)  # type: ignore[arg-type]

    @property
    def hits(self) -> list[tuple[str, str]]:
        return self.server.hits

    @property
    def cookies(self) -> list[str]:
        """The Cookie header of every request, in order ("" when none was sent)."""
        return self.server.cookies
