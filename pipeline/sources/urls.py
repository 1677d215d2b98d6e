"""Canonical URLs: the join key between Reddit links and crawled pages.

The rule (docs/architecture.md): lower-case scheme and host, default port dropped, fragment dropped,
`utm_*` query parameters dropped; path and every other parameter kept as they are (a path is
case-sensitive on most servers, and reordering parameters would merge pages that a server may treat
differently), but written the way browsers and crawlers send them: a non-ASCII host in IDNA
(`münchen.de` -> `xn--mnchen-3ya.de`), non-ASCII and other characters RFC 3986 does not allow in a
path or query percent-encoded as UTF-8 (`/café` -> `/caf%C3%A9`), escapes with upper-case hex.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": "80", "https": "443"}

# RFC 3986's characters that may stand in a path or query as they are (unreserved, sub-delims, ":",
# "@", "/" and, in a query, "?"); every other character is written as %XX of its UTF-8 bytes.
_SAFE = "-._~!$&'()*+,;=:@/"
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")

# Most URLs are canonical already: an http(s) scheme, a lower-case ASCII host, no port, no fragment,
# a path and query of RFC 3986 characters with upper-case escapes, no empty or utm_* parameter. One
# regex recognises them (several times faster than parsing); any other URL takes the full parse.
# tests/test_urls_http.py checks the two agree on real URLs.
_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})"
_SIMPLE = re.compile(rf"(https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*)(/{_CHAR}*)?(?:\?((?:{_CHAR}|\?)+))?")


def canonical_url(url: str) -> str | None:
    """The canonical form of an http(s) URL, or None when `url` is not one."""
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
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


MAX_URL_CHARS = 16_384  # longer is not a URL a crawler fetched (browsers and CC stop far below)


def _encode(part: str, extra_safe: str = "") -> str:
    """Percent-encode what RFC 3986 does not allow as is (non-ASCII as UTF-8), keep valid escapes and
    write their hex digits upper-case (%c3%a9 and %C3%A9 are the same URL, RFC 3986 6.2.2.1)."""
    encoded = quote(part, safe=_SAFE + extra_safe + "%")
    return _ESCAPE.sub(lambda m: m.group(0).upper(), encoded)


def _host(hostname: str) -> str:
    """The host as a crawler sends it: lower-case, no trailing dot, IDNA (punycode) for non-ASCII."""
    host = hostname.rstrip(".")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")  # UnicodeError for a label IDNA cannot write
    return host.lower()


def _slow_canonical(url: str) -> str | None:
    # Browsers read "\\" as "/" in http(s) URLs (WHATWG): "https://a.com\\@b.com/" is a path on a.com,
    # not user "a.com\\" at b.com, which is what urlsplit would make of it.
    url = url.replace("\\", "/")
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        host = _host(parts.hostname)  # .hostname is already lower-case, without userinfo or port
        port = parts.port  # raises ValueError for a port that is not a number
        path = _encode(parts.path) or "/"
        query = "&".join(_encode(p, "?") for p in parts.query.split("&") if p and not p.lower().startswith("utm_"))
    except (ValueError, UnicodeError):  # a bad port, an unwritable host, a lone surrogate
        return None
    if not host or any(c in host for c in " /\\%@"):
        return None
    if ":" in host:  # an IPv6 literal needs its brackets back
        host = f"[{host}]"
    netloc = host if port is None or str(port) == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(canonical: str) -> str:
    """The host of a canonical URL (no port)."""
    netloc = urlsplit(canonical).netloc
    return netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc


def is_wikipedia(host: str) -> bool:
    """True for wikipedia.org and every language and mobile edition (en.m.wikipedia.org, ...)."""
    return host == "wikipedia.org" or host.endswith(".wikipedia.org")
