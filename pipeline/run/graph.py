"""build-corpus as one Beam graph: sources by input mode, then the stage list (run/stages.py), then
the sink.

    reddit ─┐
            ├─ join ─ wikipedia ─ urlfilter ─ extract ─ lang ─ quality ─ dedup ─ write
    warc ───┘

The join runs on index entries (URL, file, offset, length): from a Common Crawl index (--cc-index), or
made on the fly by reading only the HTTP heads of the WARCs (scan mode). Only the linked records are
then read in full, each by one byte-range read, so no page body is ever shuffled. With --no-links the
WARCs are read whole, one capture kept per URL.

Every stage hands back (kept, dropped); with [write] keep_dropped the dropped documents of the stages
after extraction, each with its drop_reason, are written under OUT/dropped/.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import apache_beam as beam

from webtext.pipeline.core.block import Block
from webtext.pipeline.extract.stage import Extract
from webtext.pipeline.run.stages import SINK, enabled_stages, section
from webtext.pipeline.sources.ccindex import IndexSource
from webtext.pipeline.sources.join import Join
from webtext.pipeline.sources.reddit import RedditLinks
from webtext.pipeline.sources.warc import WarcSource


@dataclass
class Inputs:
    """What a run reads, already expanded: WARC paths (scan, crawl or --no-links), Reddit dumps (none
    with --no-links), Common Crawl index files and the base their WARC names are relative to."""

    warcs: list[str]
    reddit: list[str]
    cc_index: list[str] = field(default_factory=list)
    cc_base: str = ""
    demo: bool = False

    def as_dict(self) -> dict:
        return {"warcs": self.warcs, "reddit": self.reddit, "cc_index": self.cc_index,
                "cc_base": self.cc_base if self.cc_index else None, "demo": self.demo}


@dataclass
class CorpusJob:
    """Everything one build-corpus run needs, already validated."""

    inputs: Inputs
    out: str
    config: dict  # run/config.py: every section, validated

    @property
    def no_links(self) -> bool:
        return not self.inputs.reddit


def _block(cls: type[Block], job: CorpusJob):
    return cls(section(job.config, cls))


def source_blocks(job: CorpusJob) -> list[type[Block]]:
    """The source blocks this run's input mode uses, in funnel order."""
    links = [] if job.no_links else [RedditLinks]
    index = [IndexSource] if job.inputs.cc_index else []
    return [*links, *index, WarcSource, Join]


def run_blocks(job: CorpusJob) -> list[Block]:
    """Every block of the run, in funnel order: sources, enabled stages, sink."""
    return [*(_block(b, job) for b in source_blocks(job)), *enabled_stages(job.config), _block(SINK, job)]


def read_pages(p: beam.Pipeline, job: CorpusJob):
    """The sources and the join: one page record per URL."""
    inputs, warc, join = job.inputs, _block(WarcSource, job), _block(Join, job)
    max_body = job.config["extract"]["max_html_bytes"]  # what the readers read of a body, at most
    if job.no_links:  # every page of the WARCs: read them whole, one capture per URL
        return p | "Warc" >> warc.pages(inputs.warcs, max_body) | "OneCapturePerUrl" >> join.unlinked()
    # Join the links with index entries (from a CC index, or made by scanning the WARCs' heads),
    # then fetch only the linked records: page bodies never go through the shuffle.
    links = p | "Reddit" >> _block(RedditLinks, job).links(inputs.reddit)
    if inputs.cc_index:
        captures = p | "CcIndex" >> _block(IndexSource, job).captures(inputs.cc_index)
    else:
        captures = p | "ScanWarcs" >> warc.captures(inputs.warcs, max_body)
    return {"links": links, "captures": captures} | "FetchLinked" >> join.linked(
        inputs.cc_base if inputs.cc_index else "", after_scan=not inputs.cc_index, max_body=max_body,
        group_same_payload=job.config["extract"]["same_payload_once"],
    )


def build(p: beam.Pipeline, job: CorpusJob):
    """Add the whole corpus job to pipeline `p`; returns the PCollection of written shard paths."""
    elements, dropped, documents = read_pages(p, job), [], False
    for stage in enabled_stages(job.config):
        if isinstance(stage, Extract) and job.no_links and stage.cfg["same_payload_once"]:
            # a linked run's join already hands pages with one payload over one after the other
            elements = elements | "OnePayloadTogether" >> _block(Join, job).pages_with_one_payload_together()
        elements, stage_dropped = elements | stage.name.capitalize() >> stage.transform()
        if documents and stage_dropped is not None:  # pages dropped before extraction have no text to keep
            dropped.append(stage_dropped)
        documents = documents or isinstance(stage, Extract)
    sink = _block(SINK, job)
    written = elements | "Write" >> sink.corpus(job.out)
    if sink.cfg["keep_dropped"] and dropped:
        dropped | "AllDropped" >> beam.Flatten() | "WriteDropped" >> sink.dropped(job.out)
    return written
