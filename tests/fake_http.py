"""A fake file server on 127.0.0.1 for the download tests (never the internet).

Each route is a path with a behaviour: ``ok`` (the bytes with their Content-Length), ``cut``
(announces the full length, sends ``cut_at`` bytes, closes), ``nolength`` (no Content-Length,
sends ``cut_at`` bytes or all, closes), ``drip`` (one byte every ``interval`` seconds),
``stall`` (headers, then silence) and ``html`` (a captive portal's page, status 200).
Unknown paths get 404. The server runs in threads of the test process; a test may run the
downloading code in another process (a non-editable install) against it.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

PORTAL_PAGE = b"<!DOCTYPE html><html><body>Please log in to the guest Wi-Fi.</body></html>"


@dataclass
class Route:
    data: bytes = b""
    kind: str = "ok"
    cut_at: int | None = None
    interval: float = 0.2
    limit_s: float = 20.0


@dataclass
class FakeServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def serve(self, path: str, data: bytes = b"", kind: str = "ok", **options) -> str:
        self.routes["/" + path.lstrip("/")] = Route(data, kind, **options)
        return self.url(path)


def _handler(server: FakeServer):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - http.server's name
            server.requested.append(self.path)
            route = server.routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            data = PORTAL_PAGE if route.kind == "html" else route.data
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if route.kind == "html" else "application/octet-stream")
            if route.kind != "nolength":
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                if route.kind in ("ok", "html"):
                    self.wfile.write(data)
                elif route.kind in ("cut", "nolength"):
                    self.wfile.write(data[: route.cut_at])
                elif route.kind == "drip":
                    start = time.monotonic()
                    for byte in data:
                        if time.monotonic() - start > route.limit_s:
                            break
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(route.interval)
                elif route.kind == "stall":
                    time.sleep(route.limit_s)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler


def start(server: FakeServer) -> http.server.ThreadingHTTPServer:
    """Serve ``server``'s routes from threads; call ``shutdown()`` and ``server_close()`` after."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd


@contextlib.contextmanager
def running() -> Iterator[FakeServer]:
    """A started :class:`FakeServer`, stopped on exit."""
    server = FakeServer()
    httpd = start(server)
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


def closed_port_url(path: str = "file") -> str:
    """A URL on 127.0.0.1 where nothing listens: the refusal an offline machine gives."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/{path}"
