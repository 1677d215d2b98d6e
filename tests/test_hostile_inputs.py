"""Hostile WARCs and Reddit dumps: every case exits 0, counts its damage under a named counter, and
keeps every undamaged document of the clean run (tests/hostile.py builds the inputs).

Each WARC case puts one damaged record (or member, or stretch of bytes) in the middle of eight real
pages, in the three ways a run reads WARCs: a scan joined with the links, --no-links, and index mode.
"""

from __future__ import annotations

import gzip
import json
import os

import pytest
from helpers import SKIP_ALL, read_corpus, run_build_corpus
from hostile import (
    compress,
    http_block,
    member,
    offsets,
    real_pages,
    submission,
    warc_file,
    warc_record,
    zeros_record,
)

from webtext.pipeline.core.document import doc_id
from webtext.pipeline.sources.urls import canonical_url

DAMAGED = "https://damaged.example/page"


@pytest.fixture(scope="module")
def pages(data_dir):
    return real_pages(data_dir, 8)


def _ids(pages) -> set[str]:
    return {doc_id(canonical_url(u)) for u, _ in pages}


def _run(tmp_path, files: dict[str, bytes], args: list[str]) -> tuple[dict, set[str]]:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    out = tmp_path / "out"
    assert run_build_corpus([*args, "--out", str(out), *SKIP_ALL]) == 0
    manifest, rows = read_corpus(out)
    assert manifest["counters"]["docs.written"] == len(rows) == manifest["documents"]
    return manifest["counters"], {r["id"] for r in rows}


def _dump(urls) -> bytes:
    return ("\n".join(submission(u) for u in urls) + "\n").encode()


def _records(pages, damaged: bytes | None, gz: bool = True) -> bytes:
    """The eight real pages as a WARC, the damaged record (already in its final form) in the middle."""
    good = [warc_record(u, http_block(h)) for u, h in pages]
    parts = [member(r) if gz else r for r in good]
    if damaged is not None:
        parts.insert(4, damaged)
    return b"".join(parts)


MODES = ["scan", "nolinks"]


def _modes(tmp_path, pages, warc: bytes, mode: str):
    urls = [u for u, _ in pages] + [DAMAGED]
    files = {"crawl.warc.gz": warc, "RS.ndjson": _dump(urls)}
    args = ["--warcs", str(tmp_path / "crawl.warc.gz")]
    args += ["--reddit", str(tmp_path / "RS.ndjson")] if mode == "scan" else ["--no-links"]
    return _run(tmp_path, files, args)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_the_clean_run_keeps_every_page(tmp_path, pages, mode):
    counters, ids = _modes(tmp_path, pages, _records(pages, None), mode)
    assert ids == _ids(pages) and counters["warc.errors"] == 0


def _damaged(pages, kind: str, gz: bool) -> bytes:
    url, html = DAMAGED, pages[0][1]
    block = http_block(html)
    wrap = member if gz else (lambda b: b)
    if kind == "absurd_length":
        return wrap(warc_record(url, block, content_length=10**12))
    if kind == "long_by_2000":
        return wrap(warc_record(url, block, content_length=len(block) + 2000))
    if kind == "short_by_2000":
        return wrap(warc_record(url, block, content_length=len(block) - 2000))
    if kind == "length_not_a_number":
        return wrap(warc_record(url, block, content_length="lots"))
    if kind == "negative_length":
        return wrap(warc_record(url, block, content_length=-5))
    if kind == "garbage_between_records":
        return bytes(range(256)) * 40
    if kind == "zeroed_member":
        m = bytearray(wrap(warc_record(url, block)))
        m[len(m) // 2 : len(m) // 2 + 200] = bytes(200)
        return bytes(m)
    if kind == "huge_warc_header":
        return wrap(warc_record(url, block, extra_headers="X-Junk: " + "j" * (1 << 20) + "\r\n"))
    if kind == "charset_undefined":  # a codec Python knows but that always fails
        return wrap(warc_record(url, http_block(html, headers=(("Content-Type", "text/html; charset=undefined"),))))
    if kind == "charset_not_text":
        return wrap(warc_record(url, http_block(html, headers=(("Content-Type", "text/html; charset=hex"),))))
    if kind == "status_2000":
        return wrap(warc_record(url, block.replace(b"HTTP/1.1 200 OK", b"HTTP/1.1 2000 OK", 1)))
    if kind == "many_gzip_members":  # thousands of empty members before the real body
        body = gzip.compress(b"", mtime=0) * 5000 + gzip.compress(html, mtime=0)
        return wrap(warc_record(url, http_block(body, headers=(("Content-Type", "text/html"), ("Content-Encoding", "gzip")))))
    if kind == "head_without_end":
        return wrap(warc_record(url, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X: y\r\n" * 30000))
    raise ValueError(kind)


WARC_CASES = ["absurd_length", "long_by_2000", "short_by_2000", "length_not_a_number", "negative_length",
              "garbage_between_records", "zeroed_member", "huge_warc_header", "head_without_end", "charset_undefined",
              "charset_not_text", "status_2000", "many_gzip_members"]
COUNTED = {"absurd_length", "long_by_2000", "short_by_2000", "length_not_a_number", "negative_length",
           "garbage_between_records", "zeroed_member"}


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("kind", WARC_CASES)
def test_a_damaged_record_costs_only_itself(tmp_path, pages, kind, gz, mode):
    if kind == "zeroed_member" and not gz:
        pytest.skip("a plain file has no member to corrupt")
    counters, ids = _modes(tmp_path, pages, _records(pages, _damaged(pages, kind, gz), gz), mode)
    assert _ids(pages) <= ids, f"lost {len(_ids(pages) - ids)} undamaged page(s)"
    if kind in COUNTED:
        assert counters["warc.errors"] + counters["warc.truncated"] >= 1
    assert counters["warc.files"] == 1


@pytest.mark.slow
def test_a_file_cut_short_is_counted_and_flagged(tmp_path, pages):
    warc = _records(pages, None)
    cut = warc[: len(warc) - len(member(warc_record(*pages[-1][:1], http_block(pages[-1][1])))) // 2]
    counters, ids = _modes(tmp_path, pages, cut, "scan")
    assert _ids(pages[:-1]) <= ids
    assert counters["warc.errors"] >= 1
    rows = read_corpus(tmp_path / "out")[1]
    last = doc_id(canonical_url(pages[-1][0]))
    assert all(r["warc_truncated"] == (r["id"] == last) for r in rows)  # a document from a cut record says so
    assert counters["warc.truncated"] == sum(r["warc_truncated"] for r in rows)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_decompression_bombs_are_too_large_not_fatal(tmp_path, pages, mode):
    """64 MiB of zeros in a WARC member and as an HTTP gzip body (the run reads at most
    max_html_bytes of either: bench/bench_hostile_memory.py measures a 2 GiB bomb's peak memory)."""
    bombs = zeros_record("https://bomb.example/warc", 64 << 20) + zeros_record("https://bomb.example/http", 64 << 20, http_gzip=True)
    urls = [u for u, _ in pages] + ["https://bomb.example/warc", "https://bomb.example/http"]
    files = {"crawl.warc.gz": _records(pages, bombs), "RS.ndjson": _dump(urls)}
    args = ["--warcs", str(tmp_path / "crawl.warc.gz")]
    args += ["--reddit", str(tmp_path / "RS.ndjson")] if mode == "scan" else ["--no-links"]
    counters, ids = _run(tmp_path, files, args)
    assert ids == _ids(pages) and counters["extract.too_large"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"", b"not a warc at all\n" * 100, os.urandom(5000), b"\x1f\x8b\x08\x00garbage"],
                         ids=["empty", "text", "random", "bad_gzip"])
def test_a_file_that_is_not_a_warc_is_one_error(tmp_path, pages, content):
    files = {"good.warc.gz": _records(pages, None), "bad.warc.gz": content, "RS.ndjson": _dump(u for u, _ in pages)}
    counters, ids = _run(tmp_path, files, ["--warcs", str(tmp_path / "good.warc.gz"), str(tmp_path / "bad.warc.gz"),
                                           "--reddit", str(tmp_path / "RS.ndjson")])
    assert ids == _ids(pages) and counters["warc.errors"] == 1 and counters["warc.files"] == 2


@pytest.mark.slow
def test_idna_hosts_and_percent_encoded_paths_join(tmp_path, pages):
    """Reddit users paste Unicode; crawlers record IDNA and %-escapes: the join key is the same."""
    html = pages[0][1]
    crawled = ["http://xn--mnchen-3ya.de/", "https://example.org/caf%C3%A9?q=%C3%BC", "https://example.net/a%20b"]
    linked = ["http://münchen.de/", "https://example.org/café?q=ü", "https://EXAMPLE.net/a b#x"]
    warc = warc_file([warc_record(u, http_block(html)) for u in crawled])
    counters, ids = _run(tmp_path, {"c.warc.gz": warc, "RS.ndjson": _dump(linked)},
                         ["--warcs", str(tmp_path / "c.warc.gz"), "--reddit", str(tmp_path / "RS.ndjson")])
    assert counters["join.matched"] == 3 and ids == {doc_id(canonical_url(u)) for u in crawled}


# --- Reddit dumps ----------------------------------------------------------------------------------

HOSTILE_LINES = {
    "lone_surrogate_url": '{"url": "https://x.example/\\ud800", "score": 9, "subreddit": "a"}',
    "lone_surrogate_subreddit": '{"url": "https://surrogate.example/", "score": 9, "subreddit": "bad\\udfffname"}',
    "score_2_63": json.dumps({"url": "https://big.example/", "score": 2**63, "subreddit": "a"}),
    "score_negative_huge": json.dumps({"url": "https://big2.example/", "score": -(2**70), "subreddit": "a"}),
    "score_float_overflow": '{"url": "https://big3.example/", "score": 1e400, "subreddit": "a"}',
    "deep_nesting": "[" * 100_000 + "]" * 100_000,
    "deep_object": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "not_utf8": b'{"url": "https://x.example/\xff\xfe", "score": 5}'.decode("latin-1"),
    "nul_bytes": '{"url": "https://x.example/a\\u0000b", "score": 5, "subreddit": "\\u0000"}',
    "not_an_object": "[1, 2, 3]",
    "url_not_a_string": json.dumps({"url": {"a": 1}, "score": 5}),
    "huge_line": json.dumps({"url": "https://huge.example/", "score": 5, "title": "x" * (20 << 20)}),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(HOSTILE_LINES))
def test_a_hostile_line_costs_only_itself(tmp_path, pages, case):
    urls = [u for u, _ in pages]
    line = HOSTILE_LINES[case]
    raw = "\n".join([submission(u) for u in urls[:4]] + [line] + [submission(u) for u in urls[4:]]) + "\n"
    files = {"c.warc.gz": _records(pages, None), "RS.ndjson": raw.encode("utf-8", "surrogatepass")}
    if case == "not_utf8":
        files["RS.ndjson"] = raw.encode("latin-1", "replace")
    counters, ids = _run(tmp_path, files, ["--warcs", str(tmp_path / "c.warc.gz"), "--reddit", str(tmp_path / "RS.ndjson")])
    assert ids == _ids(pages)
    assert counters["reddit.lines"] == len(urls) + 1 and counters["reddit.errors"] == 0
    if case == "lone_surrogate_subreddit":
        assert counters["reddit.kept"] == len(urls) + 1  # the link is fine; its subreddit name is mended
    elif case != "nul_bytes":
        assert counters["reddit.invalid"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".zst", ".gz", ".xz", ".bz2"])
def test_a_dump_cut_short_is_counted_and_keeps_what_it_read(tmp_path, pages, suffix):
    urls = [u for u, _ in pages]
    lines = [submission(u) for u in urls] + [submission(f"https://filler{i}.example/") for i in range(20000)]
    packed = compress(("\n".join(lines) + "\n").encode(), suffix)
    files = {"c.warc.gz": _records(pages, None), f"RS{suffix}": packed[: len(packed) * 2 // 3]}
    counters, ids = _run(tmp_path, files, ["--warcs", str(tmp_path / "c.warc.gz"), "--reddit", str(tmp_path / f"RS{suffix}")])
    assert ids == _ids(pages)  # the links come first in the dump
    assert counters["reddit.errors"] == 1 and 0 < counters["reddit.lines"] < len(lines)


@pytest.mark.slow
def test_a_warc_index_is_read_only_inside_the_page_limit(tmp_path, pages):
    """Index mode on the damaged cases too: a bomb costs too_large, a cut member a counted error."""
    good = [member(warc_record(u, http_block(h))) for u, h in pages]
    bomb = zeros_record("https://bomb.example/warc", 64 << 20)
    members = good[:4] + [bomb] + good[4:]
    from hostile import cdxj_line

    urls = [u for u, _ in pages[:4]] + ["https://bomb.example/warc"] + [u for u, _ in pages[4:]]
    index = "\n".join(cdxj_line(u, "c.warc.gz", o, n) for u, (o, n) in zip(urls, offsets(members))) + "\n"
    files = {"c.warc.gz": b"".join(members), "cdx.cdxj": index.encode(), "RS.ndjson": _dump(urls)}
    counters, ids = _run(tmp_path, files, ["--cc-index", str(tmp_path / "cdx.cdxj"), "--cc-base", str(tmp_path),
                                           "--reddit", str(tmp_path / "RS.ndjson")])
    assert ids == _ids(pages) and counters["extract.too_large"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layout", ["whole_file", "two_in_one_member"])
def test_records_sharing_a_gzip_member_are_all_read(tmp_path, pages, mode, layout):
    """A WARC gzipped whole (one member for every record) is legal, and so are a few records per member."""
    records = [warc_record(u, http_block(h)) for u, h in pages]
    if layout == "whole_file":
        warc = gzip.compress(b"".join(records), mtime=0)
    else:
        warc = b"".join(member(r) for r in records[:3]) + member(records[3] + records[4]) + b"".join(member(r) for r in records[5:])
    counters, ids = _modes(tmp_path, pages, warc, mode)
    assert ids == _ids(pages) and counters["warc.errors"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("codec", ["zstd", "bz2", "xz"])
def test_a_warc_in_another_compression_is_one_counted_error_never_a_silent_part(tmp_path, pages, codec):
    import bz2
    import lzma

    import zstandard

    plain = b"".join(warc_record(u, http_block(h)) for u, h in pages)
    packed = {"zstd": zstandard.ZstdCompressor().compress, "bz2": bz2.compress, "xz": lzma.compress}[codec](plain)
    files = {"good.warc.gz": _records(pages[:4], None), "other.warc.x": packed, "RS.ndjson": _dump(u for u, _ in pages)}
    counters, ids = _run(tmp_path, files, ["--warcs", str(tmp_path / "good.warc.gz"), str(tmp_path / "other.warc.x"),
                                           "--reddit", str(tmp_path / "RS.ndjson")])
    assert ids == _ids(pages[:4]) and counters["warc.errors"] == 1


@pytest.mark.slow
def test_a_brotli_bomb_stops_at_the_page_limit(tmp_path, pages):
    brotli = pytest.importorskip("brotli")
    bomb = brotli.compress(bytes(256 << 20))
    record = member(warc_record("https://bomb.example/br", http_block(bomb, headers=(("Content-Type", "text/html"), ("Content-Encoding", "br")))))
    files = {"c.warc.gz": _records(pages, record), "RS.ndjson": _dump([u for u, _ in pages] + ["https://bomb.example/br"])}
    counters, ids = _run(tmp_path, files, ["--warcs", str(tmp_path / "c.warc.gz"), "--no-links"])
    assert ids == _ids(pages) and counters["extract.too_large"] == 1


def test_a_dump_that_is_a_pipe_is_one_clear_line(tmp_path, pages, capsys):
    fifo = tmp_path / "RS.fifo"
    os.mkfifo(fifo)
    (tmp_path / "c.warc.gz").write_bytes(_records(pages, None))
    assert run_build_corpus(["--warcs", str(tmp_path / "c.warc.gz"), "--reddit", str(fifo), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "not a regular file" in err and err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize("score", [5.0, "5", " 12 "])
def test_whole_number_scores_in_other_spellings_count(tmp_path, pages, score):
    raw = "\n".join(json.dumps({"url": u, "score": score, "subreddit": "s"}) for u, _ in pages) + "\n"
    files = {"c.warc.gz": _records(pages, None), "RS.ndjson": raw.encode()}
    counters, ids = _run(tmp_path, files, ["--warcs", str(tmp_path / "c.warc.gz"), "--reddit", str(tmp_path / "RS.ndjson")])
    assert ids == _ids(pages) and counters["reddit.invalid"] == 0
