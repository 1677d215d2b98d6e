"""`webtext report CORPUS`: CORPUS/_report/ with report.md, its PNG plots, report.json (the same
numbers, for tools) and dataset_card.md (a Hugging Face dataset card). build-corpus writes it after
every run.

    webtext report webtext-demo                       # -> webtext-demo/_report/report.md
    webtext report corpus/ --tokenizer TOKDIR         # document lengths in tokens too

The funnel's numbers are the manifest's, as they are (run/funnel.py); the distributions are measured
on the shards (report/stats.py). The plots need matplotlib (`pip install 'webtext[report]'`); without
it the report is written with a one-line note instead of each plot (a pipeline-only install, e.g. a
Beam worker image, should not have to carry a plotting library).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from webtext import atomic
from webtext.cli_args import ArgumentParser, count
from webtext.corpus_layout import REPORT_DIR, manifest_of
from webtext.errors import UserError
from webtext.pipeline.report import card
from webtext.pipeline.report.stats import CorpusStats, measure
from webtext.pipeline.run.funnel import StageFunnel, funnel

NO_PLOTS = "plots need matplotlib: pip install 'webtext[report]' (or matplotlib), then run webtext report again"


def _describe(values: np.ndarray) -> dict:
    if not len(values):
        return {}
    q = np.percentile(values, [10, 50, 90])
    return {"total": int(values.sum()), "mean": float(values.mean()), "p10": float(q[0]), "median": float(q[1]),
            "p90": float(q[2]), "max": int(values.max())}


def _plots(stages: list[StageFunnel], st: CorpusStats, folder: Path) -> dict[str, str | None] | None:
    try:
        from webtext.pipeline.report import plots
    except ImportError:
        return None
    return {"funnel": plots.funnel_chart(stages, folder), "lengths": plots.lengths(st, folder),
            "hosts": plots.top_hosts(st, folder), "languages": plots.languages(st, folder),
            "reddit_score": plots.reddit_scores(st, folder), "drop_reasons": plots.drop_reasons(stages, folder),
            "clusters": plots.cluster_sizes(stages, folder)}


def report_data(manifest: dict, stages: list[StageFunnel], st: CorpusStats) -> dict:
    return {
        "documents": manifest.get("documents", 0), "measured": st.measured, "sampled": st.sampled,
        "funnel": [{"stage": s.name, "in": s.n_in, "out": s.n_out, "kept": s.kept,
                    "counters": {line.counter: line.value for line in s.lines},
                    "histograms": {k: dict(v) for k, v in s.histograms.items()}} for s in stages],
        "words": _describe(st.words), "tokens": _describe(st.tokens) if st.tokens is not None else None,
        "characters": st.chars, "hosts": dict(st.hosts.most_common(50)), "distinct_hosts": len(st.hosts),
        "languages": dict(st.languages.most_common()), "reddit_score": _describe(st.reddit_scores),
    }


def _figure(plots: dict | None, key: str, alt: str) -> str:
    if plots is None:
        return f"_({NO_PLOTS})_"
    return f"![{alt}]({plots[key]})" if plots.get(key) else "_(nothing to plot)_"


def _stat_line(d: dict, unit: str) -> str:
    if not d:
        return f"no {unit} measured"
    return (f"{d['total']:,} {unit} in all; per document: mean {d['mean']:,.0f}, 10th percentile {d['p10']:,.0f}, "
            f"median {d['median']:,.0f}, 90th percentile {d['p90']:,.0f}, longest {d['max']:,}")


def report_markdown(name: str, manifest: dict, stages: list[StageFunnel], data: dict, plots: dict | None) -> str:
    shards = manifest.get("shards") or []
    sample = (f"Distributions below are measured on a uniform sample of {data['measured']:,} of the {data['documents']:,} "
              "documents (by id)." if data["sampled"] else f"Distributions below are measured on all {data['measured']:,} documents.")
    hosts = "\n".join(f"| {h} | {c:,} |" for h, c in list(data["hosts"].items())[:20])
    langs = "\n".join(f"| {lang} | {c:,} |" for lang, c in data["languages"].items())
    words = _stat_line(data["words"], "words") + "." + (f" {_stat_line(data['tokens'], 'tokens')}." if data["tokens"] else
                                                        " (Tokens: pass --tokenizer TOKDIR to count them.)")
    return "\n".join([
        f"# Corpus report: {name}", "",
        f"{manifest.get('documents', 0):,} documents in {len(shards)} shard(s), {sum(s['bytes'] for s in shards):,} bytes; "
        f"built {manifest.get('created', '?')} by webtext {manifest.get('webtext_version', '?')} in {manifest.get('elapsed_s', 0):,.1f} s "
        f"(runner {(manifest.get('options') or {}).get('runner', '?')}). {sample}", "",
        "## Funnel", "",
        "Each stage in pipeline order: what came in, what went on, the share kept, and every counter of the stage "
        "(drop reasons marked; damage in bold). From `_manifest.json`.", "",
        card.funnel_table(stages), "", _figure(plots, "funnel", "funnel"), "",
        "## Drop reasons", "", _figure(plots, "drop_reasons", "drop reasons"), "",
        "## Document length", "", words, "", _figure(plots, "lengths", "document lengths"), "",
        "## Hosts", "", f"{data['distinct_hosts']:,} distinct hosts. The top 20:", "", "| host | documents |", "|---|---:|",
        hosts, "", _figure(plots, "hosts", "top hosts"), "",
        "## Languages", "", "| language | documents |", "|---|---:|", langs, "", _figure(plots, "languages", "language mix"), "",
        "## Reddit score", "", _stat_line(data["reddit_score"], "karma") + ".", "", _figure(plots, "reddit_score", "reddit_score"), "",
        "## Duplicate clusters", "", _figure(plots, "clusters", "duplicate cluster sizes"), "",
        "## Settings", "", card.settings_table(manifest), "",
        "The dataset card for sharing this corpus: [dataset_card.md](dataset_card.md).", "",
    ])


def _load_manifest(corpus: str) -> dict:
    path = manifest_of(corpus)
    if path is None:
        raise UserError(f"{corpus} has no _manifest.json: not a finished build-corpus folder")
    try:
        return json.loads(Path(path).read_text())
    except ValueError as e:
        raise UserError(f"{path}: not valid JSON ({e})") from None


def write_report(corpus: str, manifest: dict | None = None, out: str | None = None, encoding=None,
                 max_docs: int = 1_000_000) -> str:
    """Write the report of a corpus folder; returns the path of report.md."""
    manifest = manifest if manifest is not None else _load_manifest(corpus)
    folder = Path(out or Path(corpus) / REPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(corpus).resolve().name
    stages = funnel(manifest)
    st = measure(corpus, max_docs, encoding)
    data = report_data(manifest, stages, st)
    plots = _plots(stages, st, folder)
    data["plots"] = {k: v for k, v in (plots or {}).items() if v}
    if plots is None:
        print(f"note: {NO_PLOTS}")
    atomic.write_json(folder / "report.json", data)
    atomic.write_text(folder / "dataset_card.md", card.dataset_card(manifest, stages, st, name))
    return atomic.write_text(folder / "report.md", report_markdown(name, manifest, stages, data, plots))


def main(argv: list[str]) -> int:
    ap = ArgumentParser(prog="webtext report", description="Write a corpus folder's report: report.md with PNG plots "
                        "(funnel, document lengths, hosts, languages, reddit_score, drop reasons, duplicate clusters), "
                        "report.json and a Hugging Face dataset card, under CORPUS/_report/.")
    ap.add_argument("corpus", metavar="CORPUS", help="a build-corpus output folder (with _manifest.json)")
    ap.add_argument("--out", metavar="DIR", help="where to write the report (default: CORPUS/_report)")
    ap.add_argument("--tokenizer", metavar="TOKDIR", help="also count each document's tokens with this tokenizer folder")
    ap.add_argument("--max-docs", type=count, default=1_000_000, metavar="N",
                    help="measure a uniform sample of N documents at most (the funnel is always the whole run's)")
    args = ap.parse_args(argv)
    if args.max_docs < 1:
        raise UserError(f"--max-docs must be at least 1, not {args.max_docs}")
    encoding = None
    if args.tokenizer:
        from webtext.tokenizer import load_encoding

        encoding = load_encoding(args.tokenizer)
    print(f"report: {write_report(args.corpus, out=args.out, encoding=encoding, max_docs=args.max_docs)}")
    return 0
