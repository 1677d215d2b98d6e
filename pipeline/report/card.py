"""The dataset card of a corpus, in the layout of Hugging Face dataset cards (FineWeb's among them):
YAML front matter whose `configs`/`data_files` make `datasets.load_dataset` read the shards as the
train split, then summary, sources, processing steps with the funnel, the filters and their
thresholds (from the manifest's options), personal and sensitive information, licence, limitations.

To share the corpus, copy the shards and this file, renamed README.md, into a dataset repository.
"""

from __future__ import annotations

import numpy as np

from webtext.corpus_layout import SHARD_PREFIX
from webtext.pipeline.core.document import SCHEMA
from webtext.pipeline.report.stats import CorpusStats
from webtext.pipeline.run.funnel import StageFunnel

_COLUMN_DOCS = {
    "id": "SHA-256 of the canonical URL (first 32 hex digits)", "url": "the page's URL", "host": "its host",
    "title": "title (trafilatura)", "text": "main text (trafilatura)", "date": "publication date if the page gives one",
    "reddit_score": "highest score of a Reddit submission linking the URL", "reddit_subreddits": "subreddits that linked it",
    "reddit_submissions": "number of submissions linking it", "language": "fastText lid.176 label",
    "language_score": "its probability", "quality_score": "quality classifier score (with a model)",
    "warc_file": "the WARC file the page came from", "warc_record_id": "its WARC-Record-ID", "warc_date": "capture date",
    "warc_truncated": "true when the record was cut short", "crawl": "Common Crawl crawl id",
}


def size_category(n: int) -> str:
    """Hugging Face's size_categories bucket for `n` rows."""
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
              (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]
    return next((label for bound, label in bounds if n < bound), "n>1B")


def _languages(manifest: dict, st: CorpusStats) -> list[str]:
    langs = ((manifest.get("options") or {}).get("config") or {}).get("lang", {}).get("langs") or []
    if langs:
        return list(langs)
    total = sum(st.languages.values()) or 1
    return [lang for lang, c in st.languages.most_common() if c / total >= 0.01 and lang != "(none)"]


def _flatten(section: dict, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for key, value in section.items():
        if isinstance(value, dict):
            out += _flatten(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def settings_table(manifest: dict) -> str:
    """Every setting of every stage that ran, as used (the manifest's options.config)."""
    options = manifest.get("options") or {}
    config = options.get("config") or {}
    rows = ["| stage | setting | value |", "|---|---|---|"]
    for stage in options.get("stages") or []:
        for key, value in _flatten(config.get(stage) or {}):
            rows.append(f"| {stage} | `{key}` | `{value!r}` |")
    return "\n".join(rows) if len(rows) > 2 else "(the manifest records no settings)"


def funnel_table(stages: list[StageFunnel]) -> str:
    rows = ["| stage | in | out | kept | drop reasons and other counters |", "|---|---:|---:|---:|---|"]
    for s in stages:
        idle = [line for line in s.losses if not line.value]
        gather = len(idle) > 4  # a stage with many rules: its zeros listed together
        shown = [line for line in s.lines if not (gather and line in idle)]
        detail = ", ".join(f"{'**' if line.error and line.value else ''}{line.label}"
                           f"{' (dropped)' if line.loss and line.label != 'dropped' else ''}: "
                           f"{line.value:,}{'**' if line.error and line.value else ''}" for line in shown)
        if gather:
            detail += "; 0 dropped by: " + ", ".join(line.label for line in idle)
        for label, buckets in s.histograms.items():
            detail += f"; {label}: " + ", ".join(f"{b} {v:,}" for b, v in buckets)
        kept = f"{100 * s.kept:.1f}%" if s.kept is not None else ""
        rows.append(f"| {s.name} | {'' if s.n_in is None else f'{s.n_in:,}'} | {'' if s.n_out is None else f'{s.n_out:,}'} "
                    f"| {kept} | {detail} |")
    return "\n".join(rows)


def dataset_card(manifest: dict, stages: list[StageFunnel], st: CorpusStats, name: str) -> str:
    inputs = manifest.get("inputs") or {}
    options = manifest.get("options") or {}
    langs = _languages(manifest, st)
    crawls = sorted({w.split("crawl-data/")[1].split("/")[0] for w in inputs.get("warcs") or [] if "crawl-data/" in w})
    front = ["---", "pretty_name: " + name, "license: other",
             "license_name: common-crawl-terms-of-use-and-publishers-copyright",
             "license_link: https://commoncrawl.org/terms-of-use", "task_categories:", "- text-generation",
             "language:", *(f"- {lang}" for lang in langs), "size_categories:", f"- {size_category(manifest.get('documents', 0))}",
             "configs:", "- config_name: default", "  data_files:", "  - split: train", f"    path: \"{SHARD_PREFIX}*.parquet\"",
             "---"]
    fields = "\n".join(f"- `{f.name}` ({f.type}): {_COLUMN_DOCS.get(f.name, '')}" for f in SCHEMA)
    warcs, dumps = inputs.get("warcs") or [], inputs.get("reddit") or []
    sources = [f"- Web pages: {len(warcs):,} WARC file(s)" + (f" of Common Crawl {', '.join(crawls)}" if crawls else "")
               + (f", read through the Common Crawl index ({len(inputs.get('cc_index') or [])} file(s))" if inputs.get("cc_index") else ""),
               f"- Links: {len(dumps):,} Reddit submission dump(s) (Pushshift / Arctic Shift)" if dumps
               else "- No Reddit links (`--no-links`): every HTML page of the WARCs"]
    if inputs.get("demo"):
        sources.append("- This is the embedded demo corpus: its WARC and dump were generated by webtext itself.")
    words = st.words
    length = (f"Documents have {np.median(words):,.0f} words at the median ({words.mean():,.0f} on average)"
              if len(words) else "No documents were measured")
    return "\n".join([
        *front, "", f"# Dataset Card for {name}", "",
        "## Dataset Summary", "",
        f"{manifest.get('documents', 0):,} web documents ({', '.join(langs) or 'all languages'}) in the manner of OpenAI's WebText: pages linked from Reddit "
        f"submissions with enough karma, their main text extracted from Common Crawl captures, Wikipedia removed, filtered "
        f"for language and quality and de-duplicated. Built by webtext {manifest.get('webtext_version', '?')} on "
        f"{manifest.get('created', '?')}. {length}.", "",
        "```python", "from datasets import load_dataset", f'ds = load_dataset("path/or/repo/of/{name}", split="train")', "```", "",
        "## Data Fields", "", fields, "",
        "## Source Data", "", *sources, "",
        "## Processing Steps", "",
        "Stages in the order documents met them (`options.stages` of `_manifest.json`): "
        + " → ".join(f"`{s}`" for s in options.get("stages") or []) + ". The funnel of this build:", "",
        funnel_table(stages), "",
        "### Filters and their thresholds", "", settings_table(manifest), "",
        "## Personal and Sensitive Information", "",
        "The texts are public web pages as crawled: they can contain names, e-mail addresses, phone numbers and other "
        "personal data of the people who wrote them or appear in them. No PII was removed or masked. Reddit usernames are "
        "not kept (only scores, subreddit names and submission counts), but a page's own text may name Reddit users.", "",
        "## Licensing Information", "",
        "The pages remain the copyright of their publishers; Common Crawl's data is provided under its Terms of Use "
        "(https://commoncrawl.org/terms-of-use); Reddit submission metadata comes from Pushshift/Arctic Shift dumps of "
        "Reddit users' content. Check that your use (research, training, redistribution) is permitted where you are; "
        "this card gives no licence of its own to the texts.", "",
        "## Limitations", "",
        "- Selection by Reddit karma inherits Reddit's audience: its demographics, topics and opinions, mostly "
        "English-speaking and US-centred; a link's popularity is not a measure of its accuracy.",
        "- Extraction is heuristic (trafilatura): some boilerplate stays, some main text is lost; tables and code suffer most.",
        "- The language and quality filters (fastText lid.176, Gopher/C4/FineWeb rules) drop dialects, short texts and "
        "unusual formatting more often than standard prose; their thresholds are listed above.",
        "- De-duplication is within this corpus only (exact text and MinHash near-duplicates); benchmark test sets are "
        "not removed unless a decontamination stage is listed above.",
        "- No toxicity or NSFW filtering beyond what the stages above do.", "",
    ])
