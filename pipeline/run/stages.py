"""The stages of build-corpus, in the order documents meet them: the one place the graph, the
config, --skip, the manifest's options and its funnel all read.

    sources (by input mode)       the stage list                                                 sink
    reddit ───────────┐
                      ├─ join ─► wikipedia ─► urlfilter ─► prelang ─► extract ─► lang ─► quality ─► dedup ─► decontam ─► write
    warc scan | index ┘          (pages: html, no text yet)                       (documents)

Adding a stage is one module and one entry in STAGES, plus its section in default_config.toml
(docs/architecture.md shows it with urlfilter). Stages before `extract` see pages, the others
documents; a stage with `enabled` in its section can be switched off (--skip NAME).
"""

from __future__ import annotations

from webtext.pipeline.core.block import Block
from webtext.pipeline.dedup.stage import Dedup
from webtext.pipeline.extract.stage import Extract
from webtext.pipeline.filters.decontam.stage import Decontaminate
from webtext.pipeline.filters.lang import LanguageFilter
from webtext.pipeline.filters.prelang import LanguagePrefilter
from webtext.pipeline.filters.quality.stage import QualityFilter
from webtext.pipeline.filters.urlfilter import UrlFilter
from webtext.pipeline.filters.wikipedia import WikipediaFilter
from webtext.pipeline.sinks.parquet import ParquetSink
from webtext.pipeline.sources.ccindex import IndexSource
from webtext.pipeline.sources.join import Join
from webtext.pipeline.sources.reddit import RedditLinks
from webtext.pipeline.sources.warc import WarcSource

SOURCES: tuple[type[Block], ...] = (RedditLinks, IndexSource, WarcSource, Join)
STAGES: tuple[type[Block], ...] = (WikipediaFilter, UrlFilter, LanguagePrefilter, Extract, LanguageFilter, QualityFilter,
                                   Dedup, Decontaminate)
SINK = ParquetSink
ALL_BLOCKS = (*SOURCES, *STAGES, SINK)


def section(config: dict, block: type[Block]) -> dict:
    return config.get(block.name, {})


def switchable(config: dict) -> list[str]:
    """The stages --skip may name: those whose section has an `enabled` key."""
    return [s.name for s in STAGES if "enabled" in section(config, s)]


def enabled_stages(config: dict) -> list[Block]:
    """The stages of a run, in order, each built from its own section."""
    return [s(section(config, s)) for s in STAGES if s.enabled(section(config, s))]
