"""Hostile and damaged inputs, generated here (nothing copied): WARC records, gzip members, Reddit
lines and index entries built byte by byte, around real pages from ../shared/data, so that each
damage can be placed between undamaged neighbours whose documents must survive it.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import uuid
import zlib
from pathlib import Path

import zstandard

AEB = "extraction/scrapinghub-aeb"


def real_pages(data_dir: Path, n: int = 8) -> list[tuple[str, bytes]]:
    """(url, html) of n real English news pages of the article-extraction benchmark, distinct hosts."""
    truth = json.loads((data_dir / AEB / "ground-truth.json").read_text())
    pages, hosts = [], set()
    for page_id, item in sorted(truth.items()):
        url = item["url"]
        host = url.split("/")[2]
        html = gzip.decompress((data_dir / AEB / "html" / f"{page_id}.html.gz").read_bytes())
        if host in hosts or len(item["articleBody"]) < 2000 or not url.isascii():
            continue
        hosts.add(host)
        pages.append((url, html))
        if len(pages) == n:
            break
    return pages


def http_block(html: bytes, status: int = 200, headers: tuple = (("Content-Type", "text/html; charset=utf-8"),)) -> bytes:
    head = f"HTTP/1.1 {status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode() + html


def warc_record(url: str, block: bytes, *, rtype: str = "response", content_length=None, extra_headers: str = "") -> bytes:
    """One WARC/1.0 record, uncompressed; `content_length` overrides the true length (damage)."""
    length = len(block) if content_length is None else content_length
    head = (f"WARC/1.0\r\nWARC-Type: {rtype}\r\nWARC-Target-URI: {url}\r\nWARC-Date: 2024-05-01T00:00:00Z\r\n"
            f"WARC-Record-ID: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url + rtype)}>\r\n"
            f"Content-Type: application/http; msgtype={rtype}\r\n{extra_headers}Content-Length: {length}\r\n\r\n")
    return head.encode("utf-8", "surrogatepass") + block + b"\r\n\r\n"


def member(data: bytes) -> bytes:
    """One gzip member (per-record gzip, as Common Crawl writes WARCs)."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def zeros_member(prefix: bytes, n: int, suffix: bytes = b"") -> bytes:
    """A gzip member of prefix + n zero bytes + suffix, made in pieces (n may be gigabytes)."""
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = [c.compress(prefix)]
    left = n
    while left:
        k = min(left, 1 << 24)
        out.append(c.compress(bytes(k)))
        left -= k
    out += [c.compress(suffix), c.flush()]
    return b"".join(out)


def zeros_record(url: str, n: int, *, http_gzip: bool = False) -> bytes:
    """A gzipped response record whose body is n zero bytes: in the record member itself, or (http_gzip)
    as an HTTP Content-Encoding: gzip body that inflates to n bytes. Small on disk, huge inflated."""
    if http_gzip:
        body = zeros_member(b"", n)
        return member(warc_record(url, http_block(body, headers=(("Content-Type", "text/html"), ("Content-Encoding", "gzip")))))
    head = http_block(b"", headers=(("Content-Type", "text/html"),))
    warc_head = warc_record(url, b"", content_length=len(head) + n)[: -len(b"\r\n\r\n")]
    return zeros_member(warc_head + head, n, b"\r\n\r\n")


def warc_file(records: list[bytes], gz: bool = True) -> bytes:
    return b"".join(member(r) for r in records) if gz else b"".join(records)


def submission(url, score=10, subreddit="test", **extra) -> str:
    return json.dumps({"url": url, "score": score, "subreddit": subreddit, "is_self": False, **extra})


def compress(raw: bytes, suffix: str) -> bytes:
    if suffix == ".zst":
        return zstandard.ZstdCompressor().compress(raw)
    if suffix == ".gz":
        return gzip.compress(raw)
    if suffix == ".xz":
        return lzma.compress(raw)
    if suffix == ".bz2":
        return bz2.compress(raw)
    return raw


def cdxj_line(url: str, filename: str, offset, length, status="200", mime="text/html") -> str:
    meta = {"url": url, "mime": mime, "status": status, "filename": filename, "offset": str(offset), "length": str(length)}
    return f"{url} 20240501000000 {json.dumps(meta)}"


def offsets(members: list[bytes]) -> list[tuple[int, int]]:
    """(offset, length) of each member once concatenated."""
    out, pos = [], 0
    for m in members:
        out.append((pos, len(m)))
        pos += len(m)
    return out
