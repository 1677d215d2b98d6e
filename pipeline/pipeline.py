"""build-corpus as one Beam graph: the stages of DESIGN.md, in order, each its own PTransform.

    reddit ─┐
            ├─ join ─ wikipedia ─ extract ─ lang ─ quality ─ dedup ─ write
    warc ───┘

The join runs on index entries (URL, file, offset, length): from a Common Crawl index (--cc-index), or
made on the fly by reading only the HTTP heads of the WARCs (scan mode). Only the linked records are
then read in full, each by one byte-range read, so no page body is ever shuffled.

Every filter stage hands back (kept, dropped); with --keep-dropped the dropped documents, each with
its drop_reason, are written under OUT/dropped/.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import apache_beam as beam

from webtext.pipeline.ccindex import ReadIndexCaptures
from webtext.pipeline.extract import Extract
from webtext.pipeline.join import FetchLinkedRecords, OneCapturePerUrl
from webtext.pipeline.reddit import ReadRedditLinks
from webtext.pipeline.schema import DROPPED_SCHEMA, SCHEMA
from webtext.pipeline.warc import ReadWarcPages, ScanWarcCaptures
from webtext.pipeline.wikipedia import DropWikipedia
from webtext.pipeline.writer import WriteShards

STAGES = ("lang", "quality", "dedup")  # the stages --skip may switch off


@dataclass
class CorpusJob:
    """Everything one build-corpus run needs, already validated (paths expanded, config loaded)."""

    warcs: list[str]
    reddit: list[str]
    out: str
    config: dict
    cc_index: list[str] = field(default_factory=list)  # index mode: fetch linked records by byte range
    cc_base: str = ""  # where the index's WARC filenames live
    min_karma: int = 3
    no_links: bool = False
    skip: frozenset = frozenset()
    langs: list[str] | None = field(default_factory=lambda: ["en"])  # None = every language
    lang_threshold: float = 0.65
    quality_model: str | None = None
    quality_threshold: float | None = None
    keep_dropped: bool = False
    docs_per_shard: int = 50_000


def _filter_stages(job: CorpusJob) -> list[tuple[str, beam.PTransform]]:
    """The enabled filter stages, in DESIGN.md's order. Imported lazily: each pulls in its own model code."""
    stages = []
    if "lang" not in job.skip:
        from webtext.pipeline.lang import LanguageFilter

        stages.append(("Lang", LanguageFilter(langs=job.langs, threshold=job.lang_threshold)))
    if "quality" not in job.skip:
        from webtext.pipeline.quality import QualityFilter

        stages.append(("Quality", QualityFilter(job.config["quality"], model_path=job.quality_model, threshold=job.quality_threshold)))
    if "dedup" not in job.skip:
        from webtext.pipeline.dedup import Dedup

        stages.append(("Dedup", Dedup(job.config["dedup"])))
    return stages


def build(p: beam.Pipeline, job: CorpusJob):
    """Add the whole corpus job to pipeline `p`; returns the PCollection of written shard paths."""
    if job.no_links:  # every page of the WARCs: read them whole, one capture per URL
        pages = p | "Warc" >> ReadWarcPages(job.warcs)
        joined = pages | "OneCapturePerUrl" >> OneCapturePerUrl()
    else:
        # Join the links with index entries (from a CC index, or made by scanning the WARCs' heads),
        # then fetch only the linked records: page bodies never go through the shuffle.
        links = p | "Reddit" >> ReadRedditLinks(job.reddit, job.min_karma)
        if job.cc_index:
            captures = p | "CcIndex" >> ReadIndexCaptures(job.cc_index)
        else:
            captures = p | "ScanWarcs" >> ScanWarcCaptures(job.warcs)
        joined = {"links": links, "captures": captures} | "FetchLinked" >> FetchLinkedRecords(job.cc_base if job.cc_index else "",
                                                                                            after_scan=not job.cc_index)
    extract_cfg = job.config["extract"]
    docs = (
        joined
        | "Wikipedia" >> DropWikipedia()
        | "Extract" >> Extract(timeout_s=extract_cfg["timeout_s"], max_html_bytes=extract_cfg["max_html_bytes"])
    )
    dropped = []
    for name, stage in _filter_stages(job):
        docs, stage_dropped = docs | name >> stage
        dropped.append(stage_dropped)
    written = docs | "Write" >> WriteShards(job.out, SCHEMA, job.docs_per_shard)
    if job.keep_dropped and dropped:
        (
            dropped
            | "AllDropped" >> beam.Flatten()
            | "WriteDropped" >> WriteShards(f"{job.out.rstrip('/')}/dropped", DROPPED_SCHEMA, job.docs_per_shard, counter_name="docs.dropped_written")
        )
    return written
