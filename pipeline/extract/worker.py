"""The extraction worker: trafilatura in a process of its own, spoken to over stdin/stdout.

Run as `python -m webtext.pipeline.extract.worker [SETTINGS_JSON [PART]]` (extract/settings.py, PARTS); messages are length-prefixed pickles:
(html, url, more_urls) in, ("ok", result, ms) or ("error", message, ms) out (ms: the page's time in the child). Deliberately free of Beam imports, so a
(re)started worker is ready in well under a second.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import time

from webtext.pipeline.extract.settings import ExtractSettings

DEFAULT_SETTINGS = ExtractSettings()


def main_text(tree, url: str | None, settings: ExtractSettings) -> str | None:
    """The one call of trafilatura: its "txt" output under `settings`, which equals
    `trafilatura.extract(html, url=url, **settings.trafilatura_kwargs())` character for character
    (fallback "short": the fast pass's text when it is long enough, else the full cascade's)."""
    import trafilatura
    from trafilatura.core import determine_returnstring
    from trafilatura.settings import Extractor

    def one_pass(fast: bool | None) -> str | None:
        doc = trafilatura.bare_extraction(tree, url=url, **settings.trafilatura_kwargs(fast))  # works on its own copy
        return None if doc is None else determine_returnstring(doc, Extractor(output_format="txt"))

    if settings.fallback != "short":
        return one_pass(None)
    text = one_pass(True)
    return text if text and len(text) >= settings.fallback_below else one_pass(False)


PARTS = ("all", "text", "meta")  # what one extractor process computes of a page (see extract_page)


def extract_page(html: bytes | str, url: str | None = None, settings: ExtractSettings = DEFAULT_SETTINGS,
                 more_urls=(), part: str = "all") -> dict | None:
    """trafilatura's extraction under `settings` plus title and date: {"text", "title", "date"}, or None.

    The text is main_text()'s; title and date are what
    `bare_extraction(..., with_metadata=True)` gives (tests check all three on 181 real pages).
    We compute only those two of trafilatura's metadata fields, on the tree parsed once: author,
    site name, categories, tags and license would add a third to the cost of every page.

    `more_urls`: other URLs the same payload was captured under (the extract stage extracts a payload
    once). The text and title do not depend on the URL under these settings (no links in the text); the
    date may (htmldate reads dates in URLs), so `dates` gives each of them its own, as a separate
    extraction under that URL would.

    `part`: "all" as above; "text": {"text"} or None, exactly trafilatura.extract's work; "meta":
    {"title", "date"(, "dates")} or None (not HTML), computed whether or not the page has text. The
    extract stage can run "text" and "meta" in two processes at once (extract/stage.py): their union
    is the "all" result of a page with text.
    """
    from trafilatura.utils import load_html

    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    tree = load_html(html)
    if tree is None:
        return None
    meta = None if part == "text" else _metadata(tree)
    if part != "meta":
        text = main_text(tree, url, settings)  # on its own copy of the tree: the dates below read the page as parsed
        if not text or not text.strip():
            return None
        if part == "text":
            return {"text": text}
    result = {"text": text} if part == "all" else {}
    dates = _Dates(tree, meta)
    result.update(title=meta.title, date=dates(url))
    if more_urls:
        result["dates"] = [dates(u) for u in more_urls]
    return result


def _metadata(tree):
    """trafilatura's metadata of the page, as far as title and date need it."""
    from trafilatura.metadata import examine_meta, extract_meta_json, extract_title

    meta = examine_meta(tree)
    try:
        meta = extract_meta_json(tree, meta)
    except Exception:  # noqa: BLE001 - malformed JSON-LD: trafilatura itself ignores it the same way
        pass
    meta.title = meta.title or extract_title(tree)
    meta.clean_and_trim()
    return meta


class _Dates:
    """htmldate's date of the page under a capture URL, as bare_extraction(with_metadata=True) finds it:
    the page's own URL (canonical, og:url) or the one it was captured under, then the page. Found once per
    URL it reads: a page with its own URL dates every capture alike, so a run of thousands of captures
    costs one search, not thousands within one timeout."""

    def __init__(self, tree, meta):
        self.tree, self.meta, self.found = tree, meta, {}

    def __call__(self, url: str | None) -> str | None:
        from htmldate import find_date
        from trafilatura.metadata import extract_url
        from trafilatura.settings import set_date_params

        read = self.meta.url or extract_url(self.tree, url)
        if read not in self.found:
            self.found[read] = find_date(self.tree, **set_date_params(True), url=read)
        return self.found[read]


def _read_exact(stream, n: int) -> bytes:
    chunks, left = [], n
    while left:
        data = stream.read(left)  # an unbuffered pipe may return less than asked
        if not data:
            raise EOFError
        chunks.append(data)
        left -= len(data)
    return b"".join(chunks)


def encode(obj) -> bytes:
    """One message as it goes down the pipe: its length, then its pickle."""
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("<Q", len(payload)) + payload


def send(stream, obj) -> None:
    stream.write(encode(obj))
    stream.flush()


def recv(stream):
    (n,) = struct.unpack("<Q", _read_exact(stream, 8))
    return pickle.loads(_read_exact(stream, n))


def serve(stdin=None, stdout=None, settings: ExtractSettings = DEFAULT_SETTINGS, part: str = "all") -> None:
    """Child process loop: (html, url, more_urls) in, ("ok", result, ms) or ("error", message, ms) out, length-prefixed pickles;
    `part` of each page (extract_page)."""
    if stdout is None:
        # Keep the protocol pipe to ourselves: anything a library prints goes to stderr instead.
        stdout = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    stdin = stdin or sys.stdin.buffer
    import trafilatura  # noqa: F401 - import once, before the first page

    while True:
        try:
            html, url, more_urls = recv(stdin)
        except EOFError:
            return
        start = time.perf_counter()
        try:
            status, value = "ok", extract_page(html, url, settings, more_urls, part)
        except Exception as e:  # noqa: BLE001 - any extractor failure is reported, the child lives on
            status, value = "error", f"{type(e).__name__}: {e}"
        send(stdout, (status, value, (time.perf_counter() - start) * 1000))


if __name__ == "__main__":
    serve(settings=ExtractSettings.from_json(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SETTINGS,
          part=sys.argv[2] if len(sys.argv) > 2 else "all")
