"""The extract stage: pages in, documents out, with trafilatura's main text, title and date.

The text is exactly what `trafilatura.extract(html, **settings)` returns under the section's
trafilatura settings (extract/settings.py: no comments, favor_recall, the readability/jusText
fallback only for short texts; chosen by measurement with `webtext eval-extract`). Each page is extracted in
a child process (extract/isolated.py): a page that takes longer than `timeout_s` is counted in
`extract.timeouts` (part of `extract.errors`) and the run goes on. Pages with the same payload are
extracted once (`same_payload_once`, extract/same_payload.py: the join hands them over one after the
other): `extract.same_payload` counts the extractions saved; the documents are those a separate
extraction of each page gives.

Title and date cost ~15% of an extraction on top of trafilatura.extract's own work. With
`metadata_process = "own"` they are found in a second child process, side by side with the one that
extracts the text, which then does exactly trafilatura.extract's work: on a worker with a core to spare
(local workers at most half the cores, e.g. the one in-memory worker of a default run: what "auto"
picks) the page takes the time of the text alone. It costs a second parse of the page (~2 ms of CPU),
so where every core already runs a worker ("shared"; "auto" for a worker per core, Dataflow, Flink,
Spark) one process does both.

Config [extract]: timeout_s, max_html_bytes, same_payload_once, metadata_process, and trafilatura's settings (extract/settings.py).
"""

from __future__ import annotations

import logging
import time

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from webtext.errors import UserError
from webtext.pipeline.core.block import Block
from webtext.pipeline.core.counters import counter
from webtext.pipeline.core.document import document_from_page, payload_key
from webtext.pipeline.extract.isolated import ExtractError, ExtractTimeout, IsolatedExtractor, decode_html, page_message
from webtext.pipeline.extract.same_payload import PayloadRuns
from webtext.pipeline.extract.settings import ExtractSettings
from webtext.pipeline.extract.worker import extract_page

log = logging.getLogger(__name__)

MAX_HTML_BYTES = 1 << 30  # one page's HTML is held several times over while it is read, decoded and parsed


METADATA_PROCESS = ("auto", "shared", "own")


class _ExtractDoFn(beam.DoFn):
    """Pages -> their documents (core/document.py), or nothing (counted per page).

    `same_payload_once`: consecutive pages with one payload are extracted once (extract/same_payload.py).
    `own_metadata_process`: title and date come from a second child process, side by side with the one
    that extracts the text (which then does exactly trafilatura.extract's work); see Extract."""

    def __init__(self, timeout_s: float, max_html_bytes: int, settings: ExtractSettings, same_payload_once: bool = True,
                 own_metadata_process: bool = False):
        self.timeout_s, self.max_html_bytes, self.settings = timeout_s, max_html_bytes, settings
        self.same_payload_once, self.own_metadata_process = same_payload_once, own_metadata_process
        names = ("pages", "empty", "errors", "timeouts", "too_large", "docs", "ms", "same_payload")
        self.c = {n: counter(f"extract.{n}") for n in names}

    def setup(self):
        self.extractors = []
        if self.timeout_s > 0:  # every page goes to each child; each answers in the order the pages went in
            parts = ("text", "meta") if self.own_metadata_process else ("all",)
            self.extractors = [IsolatedExtractor(self.timeout_s, self.settings, part=part) for part in parts]
        self.runs = PayloadRuns()
        self._ms = 0.0

    def teardown(self):
        for extractor in self.extractors:
            extractor.close()

    def process(self, page, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        self.c["pages"].inc()
        if page.get("too_large") or len(page["html"]) > self.max_html_bytes:
            self.c["too_large"].inc()
            return
        joined, ended = self.runs.add(page, payload_key(page) if self.same_payload_once else None, (timestamp, window))
        if joined:
            self.c["same_payload"].inc()  # one extraction saved
        if ended is not None:
            for doc, _, _ in self._extract(*ended):
                yield doc

    def finish_bundle(self):
        ended = self.runs.flush()
        ready = self._extract(*ended) if ended is not None else ()
        for doc, timestamp, window in ready:
            yield WindowedValue(doc, timestamp, [window])  # outside process() Beam wants WindowedValues
        while self.extractors and self.extractors[0].pending():
            for doc, timestamp, window in self._collect():
                yield WindowedValue(doc, timestamp, [window])

    def _extract(self, run, context):
        """Start on one run of pages (one payload): the documents of earlier runs that are ready, as
        (document, timestamp, window)."""
        (page, same), (timestamp, window) = run, context
        html = decode_html(page["html"], page["charset"])
        more_urls = [p["url"] for p in same]
        if not self.extractors:
            start = time.perf_counter()
            try:
                result = extract_page(html, page["url"], self.settings, more_urls)
            except Exception as e:  # noqa: BLE001 - an in-process failure: counted, run goes on
                result = e
            for doc in self._documents(page, same, result, (time.perf_counter() - start) * 1000):
                yield doc, timestamp, window
            return
        # One run in flight ahead: the children extract it while we emit the one before and Beam runs the
        # stages fused with this one, before it (fetching the next records) and after (they run on our
        # core; each child has its own).
        if self.extractors[0].pending() >= self.extractors[0].depth:
            yield from self._collect()
        message = page_message(html, page["url"], more_urls)  # pickled once, whatever the number of children
        for extractor in self.extractors:
            extractor.submit_message(message, tag=(page, same, timestamp, window))

    def _collect(self):
        """The oldest run's documents, from its answer from every child: the text and (own metadata
        process) its title and date. Every child is asked, even after another failed: each keeps its own order."""
        answers, ms = [], 0.0
        for extractor in self.extractors:
            try:
                (page, same, timestamp, window), answer, part_ms = extractor.collect()
            except (ExtractTimeout, ExtractError) as e:
                (page, same, timestamp, window), answer, part_ms = e.tag, e, getattr(e, "ms", 0.0)
            answers.append(answer)
            ms += part_ms
        for doc in self._documents(page, same, _merged(answers), ms):
            yield doc, timestamp, window

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
        for other, date in zip(same, result.get("dates") or [None] * len(same)):
            yield document_from_page(other, result["text"], result["title"], date)


def _merged(answers: list):
    """One page's result from its children's answers (the text's first): the text's failure or None (a
    page without text is empty, whatever its metadata did), else the metadata's failure, else the text
    with the title and date."""
    text, *meta = answers
    if text is None or isinstance(text, Exception) or not meta:
        return text
    return meta[0] if isinstance(meta[0], Exception) else {**text, **(meta[0] or {"title": None, "date": None})}


class _Extract(beam.PTransform):
    def __init__(self, extract: _ExtractDoFn):
        super().__init__()
        self.extract = extract

    def expand(self, pages):
        return pages | "Trafilatura" >> beam.ParDo(self.extract), None


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
        if cfg["metadata_process"] not in METADATA_PROCESS:
            raise UserError(f"config: extract.metadata_process must be one of {', '.join(METADATA_PROCESS)}, got {cfg['metadata_process']!r}")
        ExtractSettings.from_config(cfg)  # trafilatura's settings: one line per bad value

    def transform(self) -> beam.PTransform:
        # "auto" is settled by build-corpus, which knows the runner (run/beam_options.py); a graph built
        # without one (a test's TestPipeline) shares the process
        extract = _ExtractDoFn(self.cfg["timeout_s"], self.cfg["max_html_bytes"], ExtractSettings.from_config(self.cfg),
                               self.cfg["same_payload_once"], self.cfg["metadata_process"] == "own")
        return _Extract(extract)
