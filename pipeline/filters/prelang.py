"""The prelang stage: a cheap language guess on the raw page, so pages the lang stage would drop are
never given to trafilatura (off by default; meant for --no-links runs, where extraction is nearly all
the cost and most of Common Crawl is not in the wanted languages).

The page's visible text comes from resiliparse's plain-text extractor (lexbor, C; a fraction of a
millisecond a page, against ~20 ms for trafilatura), with its main-content heuristics; lid.176 then
gives the probability that the text is in one of the wanted languages. Only a page that is confidently
something else (probability under a lenient `threshold`, far below the lang stage's 0.65) is dropped,
counted in prelang.dropped.other_language; a page with too little text to judge (`min_chars`) goes on
to extraction and the lang stage decides. bench/bench_pipeline.py measures, on the real multilingual
crawls of ../shared/data/warc, the extraction it saves and the English documents it keeps.

Config [prelang]: enabled, langs (as [lang] langs; --langs sets both), threshold, min_chars, max_chars,
batch_size.
"""

from __future__ import annotations

from webtext.errors import UserError
from webtext.pipeline.core.block import Drop, Filter
from webtext.pipeline.extract.isolated import decode_html
from webtext.pipeline.filters.lang import LanguageIdentifier


def plain_text(html: bytes, charset: str | None, max_chars: int) -> str:
    """The visible main-content text of a page, cheaply: resiliparse's extractor, decoded as the
    extractor would (the HTTP charset when it is usable, else resiliparse's detection)."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    decoded = decode_html(html, charset)
    if isinstance(decoded, bytes):
        decoded = bytes_to_str(decoded, detect_encoding(decoded))
    return extract_plain_text(decoded, main_content=True)[:max_chars]


class LanguagePrefilter(Filter):
    """Drops, before extraction, the pages whose plain text is confidently in no wanted language."""

    name = "prelang"
    funnel = ("prelang.dropped.other_language",)

    def __init__(self, cfg: dict):
        super().__init__(cfg)
        self.langs = frozenset(cfg["langs"])
        self.batch_size = cfg["batch_size"]

    @classmethod
    def validate(cls, cfg: dict) -> None:
        if not 0.0 <= cfg["threshold"] <= 1.0:
            raise UserError(f"config: prelang.threshold must lie in [0, 1], got {cfg['threshold']}")
        if not 0 <= cfg["min_chars"] <= cfg["max_chars"]:
            raise UserError(f"config: prelang needs 0 <= min_chars <= max_chars, got {cfg['min_chars']} and {cfg['max_chars']}")
        if not 1 <= cfg["batch_size"] <= 1_000_000:
            raise UserError(f"config: prelang.batch_size must lie in [1, 1000000], got {cfg['batch_size']}")
        if cfg["enabled"] and not cfg["langs"]:
            raise UserError("config: prelang needs langs to keep (with --langs all there is nothing to pre-filter; switch prelang off)")

    def setup(self):
        self.identifier = LanguageIdentifier()

    def decide_batch(self, pages):
        texts, judged = [], []
        for i, page in enumerate(pages):
            if page.get("too_large"):
                continue  # counted by the extractor, as without the pre-filter
            try:
                text = plain_text(page["html"], page.get("charset"), self.cfg["max_chars"])
            except Exception:  # noqa: BLE001 - a page resiliparse cannot read is left to trafilatura
                self.count("unreadable")
                continue
            if len(text.strip()) >= self.cfg["min_chars"]:
                texts.append(text)
                judged.append(i)
        out = list(pages)
        if texts:
            for i, p in zip(judged, self.identifier.probability_of(texts, self.langs)):
                if p < self.cfg["threshold"]:
                    out[i] = Drop("other_language")
        return out
