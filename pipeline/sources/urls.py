"""Canonical URLs: the join key between Reddit links and crawled pages.

The rule (docs/architecture.md): lower-case scheme and host, default port dropped, fragment dropped,
`utm_*` query parameters dropped; path and every other parameter kept exactly as they are (a path is case-sensitive
on most servers, and reordering parameters would merge pages that a server may treat differently).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": "80", "https": "443"}


# Most URLs are canonical already: an http(s) scheme, a lower-case host, no port, no fragment, no
# empty or utm_* parameter. One regex recognises them (several times faster than parsing); any
# other URL takes the full parse. tests/test_urls_http.py checks the two agree on real URLs.
_SIMPLE = re.compile(r"(https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*)(/[^?#\s]*)?(?:\?([^#\s]+))?")


def canonical_url(url: str) -> str | None:
    """The canonical form of an http(s) URL, or None when `url` is not one."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    m = _SIMPLE.fullmatch(url)
    if m is not None:
        origin, path, query = m.groups()
        if not query:
            return origin + (path or "/")
        if "utm_" not in query.lower() and "&&" not in query and query[0] != "&" and query[-1] != "&":
            return f"{origin}{path or '/'}?{query}"
    return _slow_canonical(url)


def _slow_canonical(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        host = parts.hostname.rstrip(".")  # .hostname is already lower-case, without userinfo or port
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    if ":" in host:  # an IPv6 literal needs its brackets back
        host = f"[{host}]"
    netloc = host if port is None or str(port) == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("utm_"))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def host_of(canonical: str) -> str:
    """The host of a canonical URL (no port)."""
    netloc = urlsplit(canonical).netloc
    return netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc


def is_wikipedia(host: str) -> bool:
    """True for wikipedia.org and every language and mobile edition (en.m.wikipedia.org, ...)."""
    return host == "wikipedia.org" or host.endswith(".wikipedia.org")
