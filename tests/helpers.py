"""Small helpers the end-to-end tests share."""

import json

import pyarrow.parquet as pq

from webtext.cli import main
from webtext.corpus_layout import MANIFEST

SKIP_ALL = ["--skip", "lang,quality,dedup"]


def run_build_corpus(args) -> int:
    """build-corpus in this process, as the console script runs it; returns the exit status."""
    return main(["build-corpus", *args])


def read_corpus(out):
    """(manifest, rows of every shard) of a corpus folder."""
    manifest = json.loads((out / MANIFEST).read_text())
    rows = [r for s in manifest["shards"] for r in pq.read_table(out / s["path"]).to_pylist()]
    return manifest, rows


def write_warc(path, pages) -> str:
    """A gzipped WARC of HTTP-200 HTML responses, one per (url, html bytes) or (url, html bytes, the
    WARC-Payload-Digest to claim; otherwise warcio writes the true one)."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for url, html, *claim in pages:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(html)))], protocol="HTTP/1.1")
            headers = {"WARC-Payload-Digest": claim[0]} if claim else None
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(html), http_headers=http,
                                                          warc_headers_dict=headers))
    return str(path)


def write_dump(path, urls, score: int = 10) -> str:
    """A Pushshift submissions dump (.zst) linking each URL, with karma `score`."""
    import zstandard

    lines = "\n".join(json.dumps({"url": url, "score": score, "subreddit": "test", "is_self": False}) for url in urls)
    path.write_bytes(zstandard.ZstdCompressor().compress(lines.encode()))
    return str(path)


def write_config(path, text: str) -> str:
    path.write_text(text)
    return str(path)
