"""HTTP response blocks as archived in WARC response records, parsed leniently.

Real archives are messy: ClueWeb09 stores headers with bare "\n" line ends (which fastwarc's own
HTTP parser rejects), pywb/wget captures keep "Transfer-Encoding: chunked" on bodies that were
already de-chunked, and ClueWeb says "Content-Encoding: gzip" on bodies stored decompressed. So every
decoding step here is tried and, when the body does not fit it, the body is kept as it is.
"""

from __future__ import annotations

import codecs
import io
import re
import zlib
from dataclasses import dataclass, field


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # the headers we use, lower-case names (parse_http_head)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").lower()

    @property
    def charset(self) -> str | None:
        """The charset named in Content-Type, if Python knows it as a text encoding."""
        for param in self.content_type.split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "charset":
                value = value.strip().strip("\"'")
                try:
                    info = codecs.lookup(value[:64])
                except (LookupError, ValueError):
                    return None
                # Only text encodings: "hex", "base64", "rot13" ... are codecs too, and "undefined" always fails.
                return info.name if getattr(info, "_is_text_encoding", True) and info.name != "undefined" else None
        return None


MAX_HEAD = 65536  # an HTTP head longer than this is not one we want


def _dechunk(body: bytes) -> bytes | None:
    """Decode HTTP/1.1 chunked transfer coding; None when `body` is not validly chunked."""
    out, pos, n = [], 0, len(body)
    while True:
        eol = body.find(b"\n", pos)
        if eol < 0:
            return None
        size_field = body[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            return None
        start = eol + 1
        if size == 0:
            return b"".join(out)
        if start + size > n:  # a truncated last chunk: keep what arrived
            out.append(body[start:])
            return b"".join(out)
        out.append(body[start : start + size])
        pos = start + size
        if body.startswith(b"\r\n", pos):
            pos += 2
        elif body.startswith(b"\n", pos):
            pos += 1
        if pos >= n:
            return b"".join(out)


MAX_MEMBERS = 64  # gzip members in one body: real ones have one or two; thousands of empty ones are an attack


def inflate(body: bytes, wbits: int, limit: int | None) -> bytes:
    """zlib/gzip/raw deflate, at most limit + 1 bytes out (a bomb stops there), what there is of a
    stream cut short, and gzip's concatenated members one after the other (at most MAX_MEMBERS)."""
    out, total, want = [], 0, (limit + 1) if limit is not None else 0
    data = body
    for _ in range(MAX_MEMBERS):
        d = zlib.decompressobj(wbits)
        chunk = d.decompress(data, want - total if want else 0)
        out.append(chunk)
        total += len(chunk)
        if (want and total >= want) or not d.eof or wbits != 31 or d.unused_data[:2] != b"\x1f\x8b":
            break
        data = d.unused_data
    return b"".join(out)


def _decode_content(body: bytes, encoding: str, limit: int | None = None) -> bytes:
    encoding = encoding.strip().lower()
    try:
        if encoding in ("gzip", "x-gzip") and body[:2] == b"\x1f\x8b":
            return inflate(body, 31, limit)
        if encoding == "deflate":
            try:
                return inflate(body, 15, limit)
            except zlib.error:
                return inflate(body, -15, limit)  # raw deflate, as some servers send
        if encoding == "br":
            import brotli  # optional: only when a crawl stored brotli bodies

            if limit is None:
                return brotli.decompress(body)
            return brotli.Decompressor().process(body, output_buffer_limit=limit + 1)
        if encoding == "zstd":
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body), read_across_frames=True)
            return reader.read(limit + 1) if limit is not None else reader.read()
    except Exception:  # noqa: BLE001 - a body that does not decode is kept as it was stored
        return body
    return body


# The headers the pipeline acts on. Finding just these three in the lower-cased head is several
# times faster than splitting every header line, and the WARC stage does it for every response.
_WANTED = (b"content-type", b"transfer-encoding", b"content-encoding")
_STATUS = re.compile(rb"[ \t]*HTTP/[0-9.]+[ \t]+([0-9]{3})(?![0-9])", re.I)


def _header(head: bytes, name: bytes) -> str | None:
    """The first value of header `name` in a lower-cased head (a name is always at a line start)."""
    at = head.find(b"\n" + name)
    while at >= 0:
        colon = at + 1 + len(name)
        while head[colon : colon + 1] in (b" ", b"\t"):
            colon += 1
        if head[colon : colon + 1] == b":":
            eol = head.find(b"\n", colon)
            return head[colon + 1 : eol if eol >= 0 else len(head)].strip().decode("latin-1")
        at = head.find(b"\n" + name, at + 1)  # a longer name with this prefix: keep looking
    return None


def parse_http_head(data: bytes) -> tuple[int, dict[str, str], int] | None:
    """(status, headers, offset of the body) from the start of an HTTP response; None if it is not one
    (or its head does not end within `data`). `headers` holds the ones we use (Content-Type,
    Transfer-Encoding, Content-Encoding), names and values lower-cased; a repeated header keeps its
    first value."""
    status = _STATUS.match(data)
    if status is None:
        return None
    crlf = data.find(b"\r\n\r\n", 0, MAX_HEAD)
    lf = data.find(b"\n\n", 0, crlf if crlf >= 0 else MAX_HEAD)  # bare "\n" heads (ClueWeb09) end first
    if crlf < 0 and lf < 0:
        return None
    end, body_at = (lf, lf + 2) if lf >= 0 else (crlf, crlf + 4)
    head = data[:end].lower()  # names and the values we use are case-insensitive
    headers = {name.decode(): value for name in _WANTED if (value := _header(head, name)) is not None}
    return int(status.group(1)), headers, body_at


def decode_body(headers: dict[str, str], body: bytes, limit: int | None = None) -> bytes:
    """Undo the transfer and content codings a body was archived with, where it really has them.

    With `limit`, decompression stops after limit + 1 bytes, so a body longer than `limit` shows as
    such without a compressed bomb (1 GiB of zeros in 1 MB) ever being inflated whole."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body) or body
    if "content-encoding" in headers:
        body = _decode_content(body, headers["content-encoding"], limit)
    return body


def parse_http_response(block: bytes) -> HttpResponse | None:
    """Parse a WARC response record's block (HTTP status line, headers, body); None if it is not HTTP."""
    head = parse_http_head(block)
    if head is None:
        return None
    status, headers, body_at = head
    return HttpResponse(status, headers, decode_body(headers, block[body_at:]))


def looks_like_html(resp: HttpResponse) -> bool:
    """HTML by Content-Type, or, when the server sent none, by the first bytes of the body."""
    ctype = resp.content_type
    if ctype:
        return "html" in ctype
    start = resp.body[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html")) or b"<html" in start
