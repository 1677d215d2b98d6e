"""A Range-capable HTTP file server on 127.0.0.1 for tests, which can fail on purpose.

It serves a folder with HEAD, GET and `Range: bytes=a-b`, like a CDN in front of Common Crawl, and
can answer some requests with 503 SlowDown or cut a response short, as S3 and CDNs do under load.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class RangeServer:
    def __init__(self, root: Path, fail_every: int = 0, cut_every: int = 0, redirect_to: str | None = None):
        self.root, self.fail_every, self.cut_every = Path(root), fail_every, cut_every
        self.redirect_to = redirect_to  # answer every request with a 302 to this origin + the same path
        self.requests = self.failed = self.cut = 0
        self.bytes_sent = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _target(self):
                path = (server.root / self.path.lstrip("/").split("?", 1)[0]).resolve()
                return path if path.is_file() and server.root.resolve() in path.parents else None

            def _count(self):
                with server.lock:
                    server.requests += 1
                    return server.requests

            def _answer_or_fail(self):
                """The file asked for, or None once the request has been answered (503 or 404)."""
                n = self._count()
                if server.redirect_to:
                    self.send_response(302, "Found")
                    self.send_header("Location", server.redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None, n
                if server.fail_every and n % server.fail_every == 0:
                    server.failed += 1
                    self.send_response(503, "SlowDown")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None, n
                path = self._target()
                if path is None:
                    self.send_error(404)
                return path, n

            def do_HEAD(self):
                path, _ = self._answer_or_fail()
                if path is None:
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(path.stat().st_size))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()

            def do_GET(self):
                path, n = self._answer_or_fail()
                if path is None:
                    return
                size = path.stat().st_size
                start, end = 0, size - 1
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    a, _, b = rng[6:].partition("-")
                    start, end = int(a), (int(b) if b else size - 1)
                    if start >= size:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{size}")
                        self.end_headers()
                        return
                    end = min(end, size - 1)
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                else:
                    self.send_response(200)
                length = end - start + 1
                self.send_header("Content-Length", str(length))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                with open(path, "rb") as f:
                    f.seek(start)
                    data = f.read(length)
                if server.cut_every and n % server.cut_every == 0 and length > 1:
                    server.cut += 1
                    data = data[: length // 2]  # the connection drops mid-body
                    self.close_connection = True
                self.wfile.write(data)
                with server.lock:
                    server.bytes_sent += len(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
