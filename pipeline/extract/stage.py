"""The extract stage: pages in, documents out, with trafilatura's main text, title and date.

The text is exactly what `trafilatura.extract(html, **settings)` returns under the section's
trafilatura settings (extract/settings.py: no comments, favor_recall, the readability/jusText
fallback only for short texts; chosen by measurement with `webtext eval-extract`). Each page is extracted in
a child process (extract/isolated.py): a page that takes longer than `timeout_s` is counted in
`extract.timeouts` (part of `extract.errors`) and the run goes on. Pages with the same payload are
extracted once (`same_payload_once`, extract/same_payload.py): `extract.same_payload` counts the
extractions saved; the documents are those a separate extraction of each page gives.

Config [extract]: timeout_s, max_html_bytes, same_payload_once, and trafilatura's settings (extract/settings.py).
"""

from __future__ import annotations

import logging
import time

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from webtext.errors import UserError
from webtext.pipeline.core.block import Block
from webtext.pipeline.core.counters import counter
from webtext.pipeline.core.document import document_from_page
from webtext.pipeline.extract.isolated import ExtractError, ExtractTimeout, IsolatedExtractor, decode_html
from webtext.pipeline.extract.same_payload import GroupSamePayload
from webtext.pipeline.extract.settings import ExtractSettings
from webtext.pipeline.extract.worker import extract_page

log = logging.getLogger(__name__)

MAX_HTML_BYTES = 1 << 30  # one page's HTML is held several times over while it is read, decoded and parsed


class _ExtractDoFn(beam.DoFn):
    """(a page, [pages with the same payload]) -> their documents (core/document.py), or nothing (counted per page)."""

    def __init__(self, timeout_s: float, max_html_bytes: int, settings: ExtractSettings):
        self.timeout_s, self.max_html_bytes, self.settings = timeout_s, max_html_bytes, settings
        names = ("pages", "empty", "errors", "timeouts", "too_large", "docs", "ms", "same_payload")
        self.c = {n: counter(f"extract.{n}") for n in names}

    def setup(self):
        self.extractor = IsolatedExtractor(self.timeout_s, self.settings) if self.timeout_s > 0 else None
        self._ms = 0.0

    def teardown(self):
        if self.extractor is not None:
            self.extractor.close()

    def process(self, group, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        page, same = group
        n = 1 + len(same)
        self.c["pages"].inc(n)
        if page.get("too_large") or len(page["html"]) > self.max_html_bytes:
            self.c["too_large"].inc(n)
            return
        self.c["same_payload"].inc(n - 1)
        html = decode_html(page["html"], page["charset"])
        more_urls = [p["url"] for p in same]
        if self.extractor is None:
            start = time.perf_counter()
            try:
                result = extract_page(html, page["url"], self.settings, more_urls)
            except Exception as e:  # noqa: BLE001 - an in-process failure: counted, run goes on
                result = e
            yield from self._documents(page, same, result, (time.perf_counter() - start) * 1000)
            return
        # One page in flight ahead: the child extracts it while we emit the one before and Beam runs the
        # stages fused after this one (they run on our core; the child has its own).
        if self.extractor.pending() >= self.extractor.depth:
            yield from self._collect(wrap=False)
        self.extractor.submit(html, page["url"], more_urls, tag=(page, same, timestamp, window))

    def finish_bundle(self):
        while self.extractor is not None and self.extractor.pending():
            yield from self._collect(wrap=True)  # outside process() Beam wants WindowedValues

    def _collect(self, wrap: bool):
        try:
            (page, same, timestamp, window), result, ms = self.extractor.collect()
        except (ExtractTimeout, ExtractError) as e:
            (page, same, timestamp, window), result, ms = e.tag, e, getattr(e, "ms", 0.0)
        docs = self._documents(page, same, result, ms)
        yield from ((WindowedValue(d, timestamp, [window]) for d in docs) if wrap else docs)

    def _documents(self, page, same, result, ms: float):
        """The documents of a page and of those with the same payload, from the extractor's result (a dict,
        None for no text, or the exception it raised): counted either way."""
        n = 1 + len(same)
        self._ms += ms  # whole milliseconds to the counter, the rest carried: no rounding lost per page
        self.c["ms"].inc(int(self._ms))
        self._ms -= int(self._ms)
        if isinstance(result, Exception):
            if isinstance(result, ExtractTimeout):
                self.c["timeouts"].inc(n)
            self.c["errors"].inc(n)
            log.warning("extract: %s: %s", page["url"], result)
            return
        if result is None:
            self.c["empty"].inc(n)
            return
        self.c["docs"].inc(n)
        yield document_from_page(page, result["text"], result["title"], result["date"])
        for other, date in zip(same, result.get("dates", ())):
            yield document_from_page(other, result["text"], result["title"], date)


class _Extract(beam.PTransform):
    def __init__(self, timeout_s: float, max_html_bytes: int, settings: ExtractSettings, same_payload_once: bool):
        super().__init__()
        self.timeout_s, self.max_html_bytes, self.settings = timeout_s, max_html_bytes, settings
        self.same_payload_once = same_payload_once

    def expand(self, pages):
        if self.same_payload_once:
            groups = pages | "SamePayload" >> GroupSamePayload()
        else:
            groups = pages | "OnePage" >> beam.Map(lambda page: (page, []))
        return groups | "Trafilatura" >> beam.ParDo(_ExtractDoFn(self.timeout_s, self.max_html_bytes, self.settings)), None


class Extract(Block):
    """Page records -> documents with trafilatura's text, title and date."""

    name = "extract"
    funnel = ("extract.pages", "extract.empty", "extract.errors", "extract.timeouts", "extract.too_large", "extract.docs",
              "extract.same_payload", "extract.ms")
    flow_in, flow_out = "extract.pages", "extract.docs"
    losses = ("extract.empty", "extract.errors", "extract.timeouts", "extract.too_large")
    errors = ("extract.timeouts",)

    @classmethod
    def validate(cls, cfg: dict) -> None:
        if not 0 <= cfg["timeout_s"] <= 86_400:
            raise UserError(f"config: extract.timeout_s must lie in [0, 86400] seconds (0: no child process, no timeout), got {cfg['timeout_s']}")
        if not 1 <= cfg["max_html_bytes"] <= MAX_HTML_BYTES:
            raise UserError(f"config: extract.max_html_bytes must lie in [1, {MAX_HTML_BYTES}] (it bounds a worker's memory), got {cfg['max_html_bytes']}")
        ExtractSettings.from_config(cfg)  # trafilatura's settings: one line per bad value

    def transform(self) -> beam.PTransform:
        return _Extract(self.cfg["timeout_s"], self.cfg["max_html_bytes"], ExtractSettings.from_config(self.cfg),
                        self.cfg["same_payload_once"])
