"""The embedded demo: a small, deterministic WARC file and Pushshift dump that exercise every stage.

`build-corpus` with no inputs writes these under OUT/demo-inputs/ and builds a corpus from them:
pages above and below the karma bar, a page linked twice (max score, two subreddits), a link whose
URL differs from the crawled one only in case, port, fragment and utm_* (canonical join), a page
captured twice, a Wikipedia page, a self post, malformed dump lines, a German page, a link farm, a
syndicated near-copy, an unlinked page, non-200 / request / revisit records and one corrupt record.
"""

from __future__ import annotations

import html
import io
import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from webtext.pipeline.demo.pages import ARTICLES, LINK_FARM_LINES, LINK_FARM_TITLE

GAZETTE = "https://www.riverside-gazette.example"


def _page(title: str, paragraphs: list[str], lang: str = "en") -> bytes:
    """A news-site page: navigation, sidebar and footer around one article, as real pages have."""
    body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in paragraphs)
    nav = "".join(f'<li><a href="/{s.lower()}">{s}</a></li>' for s in ("News", "Sport", "Culture", "Weather", "Jobs"))
    most_read = "".join(f'<li><a href="/story/{i}">Most read story number {i}</a></li>' for i in range(1, 6))
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{html.escape(title)} | Riverside Gazette</title>
<meta property="og:title" content="{html.escape(title)}">
<meta name="date" content="2024-05-14"></head>
<body>
  <header><a href="/">Riverside Gazette</a><nav><ul>{nav}</ul></nav></header>
  <main>
    <article>
      <h1>{html.escape(title)}</h1>
      <p class="byline">By the Gazette staff, 14 May 2024</p>
{body}
    </article>
    <aside><h2>Most read</h2><ul>{most_read}</ul></aside>
  </main>
  <footer><p>Copyright 2024 Riverside Gazette. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body>
</html>""".encode()


def _syndicated(paragraphs: list[str]) -> list[str]:
    """A syndicated copy: same story, a few words changed by another desk."""
    out = [p.replace("Five years ago", "Five years back").replace("great deal", "lot") for p in paragraphs]
    out[-1] = out[-1].replace("always the same", "the same every time")
    return out


def _wikipedia_page() -> bytes:
    paragraphs = [
        "Community gardening is the practice of growing plants on a shared plot of land that is "
        "gardened collectively by a group of people, usually residents of the surrounding area.",
        "Community gardens may be owned by a local authority, a charity or a group of residents, "
        "and they are often created on vacant land in cities.",
    ]
    return _page("Community gardening - Wikipedia", paragraphs)


# (url as crawled, page bytes, HTTP status, WARC-Date); the order is the order in the WARC.
def _captures() -> list[tuple[str, bytes, int, str]]:
    a = ARTICLES
    return [
        (f"{GAZETTE}/2024/05/parking-lot-garden", _page(*a["garden"]), 200, "2024-05-14T08:00:00Z"),
        (f"{GAZETTE}/2024/06/library-of-things?utm_source=rss", _page(*a["library"]), 200, "2024-06-02T09:30:00Z"),
        (f"{GAZETTE}/2024/05/bike-workshop", _page(*a["bikes"]), 200, "2024-05-01T10:00:00Z"),
        (f"{GAZETTE}/2024/05/bike-workshop", _page(a["bikes"][0], a["bikes"][1] + ["Updated: the lease was signed."]), 200, "2024-06-01T10:00:00Z"),
        (f"{GAZETTE}/2024/04/night-bakery", _page(*a["bakery"]), 200, "2024-04-20T04:00:00Z"),
        (f"{GAZETTE}/2024/03/last-ferry-captain", _page(*a["ferry"]), 200, "2024-03-29T12:00:00Z"),
        ("https://www.dorfblatt.example/werkstatt", _page(*a["werkstatt"], lang="de"), 200, "2024-05-05T07:00:00Z"),
        ("https://deals.example/best", _page(LINK_FARM_TITLE, LINK_FARM_LINES), 200, "2024-05-06T07:00:00Z"),
        ("https://www.county-times.example/news/garden-parking-lot", _page(a["garden"][0], _syndicated(a["garden"][1])), 200, "2024-05-15T08:00:00Z"),
        ("https://en.wikipedia.org/wiki/Community_gardening", _wikipedia_page(), 200, "2024-05-10T00:00:00Z"),
        (f"{GAZETTE}/2024/02/moved", b"<html><body>Not here</body></html>", 404, "2024-05-11T00:00:00Z"),
        (f"{GAZETTE}/2024/07/broken-record", _page(a["ferry"][0] + " (broken)", a["ferry"][1]), 200, "2024-07-01T00:00:00Z"),
    ]


BROKEN_URL = f"{GAZETTE}/2024/07/broken-record"

# Pushshift submission dump lines: (url, score, subreddit, is_self); plus malformed lines below.
SUBMISSIONS = [
    (f"{GAZETTE}/2024/05/parking-lot-garden", 57, "gardening", False),
    (f"{GAZETTE}/2024/05/parking-lot-garden#comments", 9, "urbanplanning", False),  # same canonical URL
    ("https://WWW.Riverside-Gazette.example:443/2024/06/library-of-things?utm_medium=social", 23, "libraries", False),
    (f"{GAZETTE}/2024/05/bike-workshop", 5, "bicycling", False),
    (f"{GAZETTE}/2024/04/night-bakery", 2, "food", False),  # below the karma bar
    ("https://www.dorfblatt.example/werkstatt", 14, "de", False),
    ("https://deals.example/best", 4, "deals", False),
    ("https://www.county-times.example/news/garden-parking-lot", 3, "news", False),
    ("https://en.wikipedia.org/wiki/Community_gardening", 40, "todayilearned", False),
    (f"{GAZETTE}/2024/02/moved", 6, "news", False),  # the crawl only has a 404 for it
    (f"{GAZETTE}/2024/07/broken-record", 8, "news", False),  # its WARC record is corrupt
    ("https://www.reddit.com/r/self/comments/abc123/my_garden/", 300, "self", True),  # a self post
]
BAD_LINES = [
    "{this is not json",
    json.dumps({"id": "nourl", "score": 10, "subreddit": "x", "is_self": False}),
    json.dumps({"id": "badscore", "url": f"{GAZETTE}/2024/05/parking-lot-garden", "score": "lots", "subreddit": "x"}),
]


def _record_id(url: str, date: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url + ' ' + date)}>"


def write_demo_warc(path: Path) -> None:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    info = writer.create_warcinfo_record("demo.warc.gz", {"software": "webtext demo", "isPartOf": "webtext-demo"})
    info.rec_headers.replace_header("WARC-Record-ID", _record_id("warcinfo", "demo"))
    info.rec_headers.replace_header("WARC-Date", "2024-07-01T00:00:00Z")
    writer.write_record(info)
    broken_span = None
    for url, page, status, date in _captures():
        start = buf.tell()
        for rec_type in ("request", "response"):
            if rec_type == "request":
                parts = urlsplit(url)
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                http = StatusAndHeaders(f"GET {target} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True)
                payload = b""
            else:
                reason = {200: "OK", 404: "Not Found"}[status]
                http = StatusAndHeaders(f"{status} {reason}", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))], protocol="HTTP/1.1")
                payload = page
            rec = writer.create_warc_record(url, rec_type, payload=io.BytesIO(payload), http_headers=http,
                                            warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": _record_id(url + rec_type, date)})
            writer.write_record(rec)
        if url == BROKEN_URL:
            broken_span = (start, buf.tell())
    # A revisit record (a crawler's "same as before"): must be skipped, not read as a page.
    revisit = writer.create_revisit_record(f"{GAZETTE}/2024/05/parking-lot-garden", digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                           refers_to_uri=f"{GAZETTE}/2024/05/parking-lot-garden", refers_to_date="2024-05-14T08:00:00Z")
    revisit.rec_headers.replace_header("WARC-Record-ID", _record_id("revisit", "demo"))
    revisit.rec_headers.replace_header("WARC-Date", "2024-07-02T00:00:00Z")
    writer.write_record(revisit)
    data = bytearray(buf.getvalue())
    # Corrupt the middle of the broken page's gzip members, as a bad disk or a cut transfer would.
    lo, hi = broken_span
    mid = (lo + hi) // 2
    data[mid : mid + 64] = b"\x00" * 64
    path.write_bytes(bytes(data))


def write_demo_dump(path: Path) -> None:
    lines = []
    for i, (url, score, subreddit, is_self) in enumerate(SUBMISSIONS):
        lines.append(json.dumps({"id": f"demo{i}", "url": url, "score": score, "subreddit": subreddit, "is_self": is_self,
                                 "created_utc": 1715600000 + i, "title": f"Demo submission {i}"}))
    lines[3:3] = BAD_LINES
    raw = ("\n".join(lines) + "\n").encode()
    path.write_bytes(zstandard.ZstdCompressor(level=19).compress(raw))


def write_demo_inputs(directory: Path) -> tuple[list[str], list[str]]:
    """Write the demo WARC and dump into `directory`; returns ([warc paths], [dump paths])."""
    directory.mkdir(parents=True, exist_ok=True)
    warc, dump = directory / "demo.warc.gz", directory / "RS_demo.zst"
    write_demo_warc(warc)
    write_demo_dump(dump)
    return [str(warc)], [str(dump)]
