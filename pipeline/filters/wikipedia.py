"""The wikipedia stage: drop every *.wikipedia.org page (all languages, mobile), before extraction.

GPT-2 held Wikipedia out of WebText because it is in so many evaluation sets; dropping it before
extraction means no time is spent on those pages. Counted in `wikipedia.dropped`.
"""

from __future__ import annotations

from webtext.pipeline.core.block import Drop, Filter
from webtext.pipeline.sources.urls import is_wikipedia


class WikipediaFilter(Filter):
    name = "wikipedia"
    funnel = ("wikipedia.dropped",)

    def decide(self, page: dict):
        return Drop() if is_wikipedia(page["host"]) else page
