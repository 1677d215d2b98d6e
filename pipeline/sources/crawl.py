"""Crawl mode's input: the WARC files of one Common Crawl crawl, from its warc.paths.gz listing."""

from __future__ import annotations

import re

from webtext.errors import UserError
from webtext.pipeline.io.files import open_text_lines

CC_BASE = "https://data.commoncrawl.org"
_CRAWL_ID = re.compile(r"CC-MAIN-\d{4}-\d{2}")


def crawl_warcs(crawl: str, base: str = CC_BASE, max_warcs: int | None = None) -> list[str]:
    """The WARC URLs of a Common Crawl crawl, from its warc.paths.gz listing (first `max_warcs`)."""
    if not _CRAWL_ID.fullmatch(crawl):
        raise UserError(f"--crawl: {crawl!r} is not a crawl id like CC-MAIN-2024-22")
    listing = f"{base.rstrip('/')}/crawl-data/{crawl}/warc.paths.gz"
    try:
        with open_text_lines(listing) as lines:
            paths = [line.decode().strip() for line in lines if line.strip()]
    except Exception as e:  # noqa: BLE001 - not found, no network, not gzip: all "cannot list"
        raise UserError(f"cannot read the WARC listing {listing}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if max_warcs is not None:
        paths = paths[:max_warcs]
    return [f"{base.rstrip('/')}/{p}" for p in paths]
