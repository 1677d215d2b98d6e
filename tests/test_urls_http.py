"""Canonical URLs (the join key) and the lenient HTTP parsing that real WARCs need."""

import gzip

import pytest

from webtext.pipeline.sources.http_response import looks_like_html, parse_http_response
from webtext.pipeline.sources.urls import canonical_url, host_of, is_wikipedia


@pytest.mark.parametrize(
    "url, expected",
    [
        ("HTTP://WWW.Example.COM:80/A/b?x=1#frag", "http://www.example.com/A/b?x=1"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/p", "https://example.com:8443/p"),
        ("https://ex.com/p?utm_source=rss&id=3&UTM_Medium=x", "https://ex.com/p?id=3"),
        ("https://ex.com/p?b=2&a=1", "https://ex.com/p?b=2&a=1"),  # other parameters keep their order
        ("https://ex.com/Path/Case", "https://ex.com/Path/Case"),  # paths are case-sensitive
        ("  https://ex.com/x  ", "https://ex.com/x"),
        ("http://[::1]:80/a", "http://[::1]/a"),
        ("http://münchen.de/", "http://xn--mnchen-3ya.de/"),  # IDNA, as crawlers send the host
        ("https://ex.com/café?q=ü", "https://ex.com/caf%C3%A9?q=%C3%BC"),  # RFC 3986: UTF-8, percent-encoded
        ("https://ex.com/caf%c3%a9", "https://ex.com/caf%C3%A9"),  # escapes in upper-case hex
        ("https://ex.com/a b|c", "https://ex.com/a%20b%7Cc"),
        ("https://example.com\\@evil.com/", "https://example.com/@evil.com/"),  # a backslash is a slash, as in browsers
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize("url", ["ftp://ex.com/", "mailto:a@b.c", "http://", "not a url", "http://ex.com:99999/", None, 42,
                                 "https://ex.com/\ud800", "https://" + "a" * 70 + "é.com/", "https://ex.com/" + "x" * 20_000])
def test_canonical_url_rejects_non_http(url):
    assert canonical_url(url) is None


def test_wikipedia_hosts(data_dir):
    urls = [line.strip().strip('"') for line in (data_dir / "wikipedia/nemo-curator-wikipedia_urls.jsonl").open()]
    assert len(urls) == 3818
    assert all(is_wikipedia(host_of(canonical_url(u))) for u in urls)
    for host in ("en.m.wikipedia.org", "an.wikipedia.org", "wikipedia.org"):
        assert is_wikipedia(host)
    for host in ("wikipedia.org.evil.com", "notwikipedia.org", "en.wikiquote.org"):
        assert not is_wikipedia(host)


def test_http_bare_newlines_and_false_content_encoding():
    # ClueWeb09 style: "\n" line ends and a gzip Content-Encoding on a body stored decompressed.
    block = b"HTTP/1.1 200 OK\nContent-Type: text/html; charset=EUC-JP\nContent-Encoding: gzip\n\n<html>x</html>"
    resp = parse_http_response(block)
    assert resp.status == 200 and resp.body == b"<html>x</html>" and resp.charset == "euc_jp"


def test_http_chunked_and_gzip_bodies_are_decoded():
    body = gzip.compress(b"<html><body>hello</body></html>")
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    block = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\nContent-Type: text/html\r\n\r\n" + chunked
    assert parse_http_response(block).body == b"<html><body>hello</body></html>"


def test_http_chunked_header_on_dechunked_body_keeps_body():
    # pywb/wget archives keep "Transfer-Encoding: chunked" on bodies stored de-chunked.
    block = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n<!doctype html><p>x</p>"
    assert parse_http_response(block).body == b"<!doctype html><p>x</p>"


def test_http_not_http_and_html_sniffing():
    assert parse_http_response(b"no blank line at all") is None
    assert parse_http_response(b"GARBAGE 200\r\n\r\nbody") is None
    assert not looks_like_html(parse_http_response(b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n\r\n%PDF"))
    assert looks_like_html(parse_http_response(b"HTTP/1.1 200 OK\r\n\r\n  <!DOCTYPE html><html></html>"))
    assert parse_http_response(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=nope\r\n\r\nx").charset is None


def test_fast_path_agrees_with_the_full_parse(data_dir, real_warcs):
    """canonical_url's regex fast path must give what the full urlsplit path gives, on real URLs."""
    import lzma
    import json as _json

    from webtext.pipeline.sources.urls import _slow_canonical
    from webtext.pipeline.sources.warc_reader import warc_pages

    urls = [line.strip().strip('"') for line in (data_dir / "wikipedia/nemo-curator-wikipedia_urls.jsonl").open()]
    for month in ("2005-06", "2005-07"):
        raw = lzma.decompress((data_dir / f"reddit/jcpeterson-openwebtext/RS_v2_{month}.xz").read_bytes())
        urls += [_json.loads(line)["url"] for line in raw.splitlines() if line.strip()]
    urls += [p.url for w in real_warcs for p in warc_pages(str(w))]
    urls += [_json.loads(line.split(" ", 2)[2])["url"] for line in (data_dir / "warc/pywb/iana.cdxj").read_text().splitlines()]
    tricky = ["https://x.org", "https://x.org?a=1", "https://x.org/?", "https://x.org/p?a=1&&b=2", "https://x.org/p?&a",
              "https://x.org/p?a&", "https://x.org/p?utm_x=1", "https://x.org./p", "https://a..b/", "https://x.org/p?a=1?b",
              "https://x.org//double", "https://x.org/p;params?q", "http://x.org/\tp", "https://xn--bcher-kva.example/p"]
    assert len(urls) > 5000
    for url in urls + tricky:
        assert canonical_url(url) == _slow_canonical(url.strip()), url


def test_http_head_header_matching():
    from webtext.pipeline.sources.http_response import parse_http_head

    head = (b"HTTP/1.1 200 OK\r\nContent-Type-Options: nosniff\r\nCONTENT-TYPE : Text/HTML; Charset=UTF-8\r\n"
            b"Content-Type: text/plain\r\nX-Transfer-Encoding: chunked\r\n\r\nbody")
    status, headers, body_at = parse_http_head(head)
    assert status == 200 and head[body_at:] == b"body"
    assert headers == {"content-type": "text/html; charset=utf-8"}  # first one wins; prefixes and X- names do not match
    assert parse_http_head(b"HTTP/1.0 404 Not Found\n\nx")[0] == 404
