"""Read-only http:// and https:// for Beam's FileSystems, with retries and mid-file resume.

Common Crawl serves every WARC over HTTPS (data.commoncrawl.org) with byte ranges. Registering a
Beam FileSystem for the scheme means `--warcs https://...`, `--crawl` and index mode all go through
the same `FileSystems.open`, on every runner. A read that fails (503 SlowDown, a reset connection,
a stream cut short) is retried with exponential backoff and resumed at the byte it stopped at.
Redirects are followed only to the same scheme, host and port.
"""

from __future__ import annotations

import io
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request

from apache_beam.io.filesystem import BeamIOError, FileMetadata, FileSystem, MatchResult

from webtext.pipeline.io.streams import SeekableReader

log = logging.getLogger(__name__)

RETRY_STATUS = {429, 500, 502, 503, 504}
USER_AGENT = "webtext (+https://github.com/; build-corpus)"


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the same scheme, host and port: a server (or an index entry's base)
    must not send our reads to another machine, e.g. one inside the network the job runs in."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl))
        if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
            raise urllib.error.HTTPError(req.full_url, code, f"refused redirect to another host: {newurl}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameOriginRedirects)


class RetryPolicy:
    """Exponential backoff with jitter: base * 2**attempt seconds, capped; tests shrink `base`."""

    attempts = 8
    base_s = 0.5
    max_s = 30.0

    @classmethod
    def sleep(cls, attempt: int) -> None:
        time.sleep(min(cls.max_s, cls.base_s * 2**attempt) * (0.5 + random.random() / 2))


def _request(url: str, method: str = "GET", start: int | None = None, end: int | None = None):
    """One HTTP request with retries on 429/5xx and connection errors; returns the open response."""
    headers = {"User-Agent": USER_AGENT}
    if start is not None:
        headers["Range"] = f"bytes={start}-" if end is None else f"bytes={start}-{end}"
    last = None
    for attempt in range(RetryPolicy.attempts):
        try:
            return _OPENER.open(urllib.request.Request(url, headers=headers, method=method), timeout=60)
        except urllib.error.HTTPError as e:
            if e.code not in RETRY_STATUS:
                raise
            last = e
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            last = e
        log.info("%s %s: %s; retry %d", method, url, last, attempt + 1)
        RetryPolicy.sleep(attempt)
    raise OSError(f"{method} {url}: gave up after {RetryPolicy.attempts} attempts: {last}")


def read_range(url: str, offset: int, length: int) -> bytes:
    """Exactly `length` bytes at `offset` (one Range request; retried and resumed as needed)."""
    chunks, got = [], 0
    with HttpReader(url, end=offset + length) as f:
        f.seek(offset)
        while got < length:
            chunk = f.read(length - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    data = b"".join(chunks)
    if len(data) != length:
        raise OSError(f"{url}: wanted {length} bytes at {offset}, got {len(data)}")
    return data


class HttpReader(SeekableReader):
    """A seekable, read-only stream over an HTTP(S) resource, one streaming GET at a time.

    Reads continue on the open response; a seek or a failure re-opens it at the current position
    with a Range header. A server that ignores Range (200 instead of 206) is skipped forward.
    """

    def __init__(self, url: str, end: int | None = None):
        self.url, self.end = url, end  # `end`: read no further than this (exclusive), when known
        self.pos, self._resp, self._resp_pos, self._resp_end = 0, None, None, None

    def tell(self):
        return self.pos

    def seek(self, offset, whence=io.SEEK_SET):
        if whence == io.SEEK_CUR:
            offset += self.pos
        elif whence == io.SEEK_END:
            offset += self._size()
        self.pos = max(0, offset)
        return self.pos

    def _size(self) -> int:
        with _request(self.url, "HEAD") as resp:
            return int(resp.headers["Content-Length"])

    def _open(self) -> None:
        self._close_resp()
        last_byte = None if self.end is None else self.end - 1
        resp = _request(self.url, start=self.pos, end=last_byte)
        if resp.status == 200 and self.pos:  # Range ignored: skip to where we are
            left = self.pos
            while left:
                skipped = resp.read(min(left, 1 << 20))
                if not skipped:
                    break
                left -= len(skipped)
        self._resp, self._resp_pos = resp, self.pos
        # Where this response's body should end: a body that stops before it was cut short.
        content_range, length = resp.headers.get("Content-Range"), resp.headers.get("Content-Length")
        if resp.status == 206 and content_range and "-" in content_range:
            self._resp_end = int(content_range.split()[1].split("/")[0].split("-")[1]) + 1
        elif length is not None:
            self._resp_end = int(length)  # a 200 carries the whole file from byte 0
        else:
            self._resp_end = None

    def _close_resp(self) -> None:
        if self._resp is not None:
            self._resp.close()
            self._resp = None

    def readinto(self, buf) -> int:
        want = len(buf)
        if self.end is not None:
            want = min(want, self.end - self.pos)
        if want <= 0:
            return 0
        for attempt in range(RetryPolicy.attempts):
            try:
                if self._resp is None or self._resp_pos != self.pos:
                    self._open()
                n = self._resp.readinto(memoryview(buf)[:want])
                if n == 0 and self._resp_end is not None and self.pos < self._resp_end:
                    raise ConnectionError(f"body ended at {self.pos} of {self._resp_end}")
                self.pos += n
                self._resp_pos = self.pos
                return n
            except urllib.error.HTTPError as e:
                if e.code == 416:  # asked past the end
                    return 0
                raise
            except (OSError, ValueError) as e:  # reset, incomplete read, timeout: resume at self.pos
                log.info("%s: read failed at %d (%s); resuming", self.url, self.pos, e)
                self._close_resp()
                RetryPolicy.sleep(attempt)
        raise OSError(f"{self.url}: read failed at byte {self.pos} after {RetryPolicy.attempts} attempts")

    def close(self):
        self._close_resp()
        super().close()


class HttpFileSystem(FileSystem):
    """Beam FileSystem for http:// (read-only; a URL is a file, there is no globbing)."""

    @classmethod
    def scheme(cls):
        return "http"

    def join(self, basepath, *paths):
        return "/".join([basepath.rstrip("/"), *(p.strip("/") for p in paths)])

    def split(self, path):
        head, _, tail = path.rstrip("/").rpartition("/")
        return head, tail

    def has_dirs(self):
        return False

    def mkdirs(self, path):
        raise BeamIOError("http(s) inputs are read-only", {path: None})

    def _list(self, dir_or_prefix):
        raise BeamIOError("http(s) URLs cannot be listed", {dir_or_prefix: None})

    def match(self, patterns, limits=None):
        results, errors = [], {}
        for pattern in patterns:
            try:
                results.append(MatchResult(pattern, [self.metadata(pattern)]))
            except urllib.error.HTTPError as e:
                if e.code != 404:
                    errors[pattern] = e
                results.append(MatchResult(pattern, []))
            except OSError as e:
                errors[pattern] = e
        if errors:
            raise BeamIOError("Match operation failed", errors)
        return results

    def metadata(self, path):
        with _request(path, "HEAD") as resp:
            return FileMetadata(path, int(resp.headers.get("Content-Length") or 0), 0)

    def exists(self, path):
        try:
            self.metadata(path)
            return True
        except (urllib.error.HTTPError, OSError):
            return False

    def size(self, path):
        return self.metadata(path).size_in_bytes

    def last_updated(self, path):
        return 0

    def checksum(self, path):
        with _request(path, "HEAD") as resp:
            return resp.headers.get("ETag") or str(self.size(path))

    def open(self, path, mime_type="application/octet-stream", compression_type="auto"):
        return io.BufferedReader(HttpReader(path), buffer_size=1 << 20)

    def create(self, path, mime_type="application/octet-stream", compression_type="auto"):
        raise BeamIOError("http(s) outputs are not supported", {path: None})

    def copy(self, source_file_names, destination_file_names):
        raise BeamIOError("http(s) outputs are not supported", {})

    def rename(self, source_file_names, destination_file_names):
        raise BeamIOError("http(s) outputs are not supported", {})

    def delete(self, paths):
        raise BeamIOError("http(s) outputs are not supported", {})


class HttpsFileSystem(HttpFileSystem):
    @classmethod
    def scheme(cls):
        return "https"
