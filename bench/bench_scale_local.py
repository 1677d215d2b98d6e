"""How build-corpus's cost grows with its input and with workers, on a synthetic crawl of real text.

    python bench/bench_scale_local.py [--records 5000 20000 80000] [--repeat 3]

The crawl: WARC files (2,000 records each: a request and a response per page) whose pages are built
from the real text of ../shared/data, mutated so every stage has work:
  60% distinct articles (6-14 paragraphs drawn from 181 real news articles, in a news-site template)
  10% near copies of an earlier article (one paragraph replaced: MinHash's work)
   5% exact copies under another URL (syndication: exact dedup's work)
  10% foreign articles (the benchmark's pt/ru/ko/... paragraphs: lang drops them)
  10% real pages verbatim (the benchmark's own HTML, under new URLs: real extraction cost)
   5% link lists (the quality rules drop them)
and a Pushshift-style dump of 5 lines per record: 15% of the pages linked (a fifth of those links
written as URL variants), the rest links to pages the crawl does not have, below the karma bar, or
self posts.

Per size, printed side by side:
  * pages/s per core, `--direct_running_mode=multi_processing` with 1 and 2 workers (wall clock of the
    whole command, start-up included; min-max over --repeat runs), and their ratio;
  * peak memory of the whole run: the sum of the resident memory of the command and every process
    under it (Beam workers, extractor children), sampled every 0.2 s;
  * shuffle bytes per document: the pickled size of every element entering a GroupByKey (CoGroupByKey
    and Reshuffle included), from an in-process run, over the documents written;
  * dedup rounds to convergence: the fewest large-star/small-star rounds for which the dedup stage,
    run alone on the run's documents, leaves dedup.cc_not_converged at 0.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("WEBTEXT_TEST_DATA", HERE.parents[1] / "shared" / "data"))
sys.path.insert(0, str(HERE.parent / "tests"))

from hostile import http_block, member, warc_record  # noqa: E402

from webtext.corpus_layout import MANIFEST, SHARD_PREFIX  # noqa: E402

RECORDS_PER_FILE = 2000


def _sources():
    truth = json.loads((DATA / "extraction/scrapinghub-aeb/ground-truth.json").read_text())
    from webtext.pipeline.filters.lang import LanguageIdentifier

    bodies = [v["articleBody"] for _, v in sorted(truth.items())]
    langs = [lang for lang, _ in LanguageIdentifier().predict_batch(bodies)]
    paras = lambda text: [p for p in text.split("\n") if len(p) > 80]  # noqa: E731
    english = [p for b, lang in zip(bodies, langs) if lang == "en" for p in paras(b)]
    foreign = [p for b, lang in zip(bodies, langs) if lang != "en" for p in paras(b)]
    real = [gzip.decompress(p.read_bytes()) for p in sorted((DATA / "extraction/scrapinghub-aeb/html").glob("*.html.gz"))]
    return english, foreign, real


def _article(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    nav = "".join(f'<li><a href="/s/{i}">Section {i}</a></li>' for i in range(8))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body><header><ul>{nav}"
            f"</ul></header><main><article><h1>{title}</h1>{body}</article></main><footer>Copyright</footer></body></html>").encode()


def build_crawl(folder: Path, records: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    english, foreign, real = _sources()
    pages, articles = [], []
    for i in range(records // 2):
        url = f"https://site{i % 997}.example/{i // 997}/story-{i}"
        kind = rng.random()
        if kind < 0.60 or not articles:
            paras = rng.sample(english, rng.randint(6, 14))
            articles.append(paras)
            html = _article(f"Story {i}", paras)
        elif kind < 0.70:
            paras = list(rng.choice(articles))
            paras[rng.randrange(len(paras))] = rng.choice(english)
            html = _article(f"Story {i} (updated)", paras)
        elif kind < 0.75:
            html = _article("Syndicated", rng.choice(articles))
        elif kind < 0.85:
            html = _article(f"Artigo {i}", rng.sample(foreign, min(len(foreign), rng.randint(4, 10))))
        elif kind < 0.95:
            html = rng.choice(real)
        else:
            html = _article("Best deals", [f"Cheap deal number {k} click here" for k in range(40)])
        pages.append((url, html))
    warcs = []
    for start in range(0, len(pages), RECORDS_PER_FILE // 2):
        path = folder / f"crawl-{start // (RECORDS_PER_FILE // 2):05d}.warc.gz"
        with open(path, "wb") as f:
            for url, html in pages[start:start + RECORDS_PER_FILE // 2]:
                f.write(member(warc_record(url, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", rtype="request")))
                f.write(member(warc_record(url, http_block(html))))
        warcs.append(str(path))
    lines = []
    for url, _ in pages:
        if rng.random() < 0.15:
            linked = url if rng.random() < 0.8 else url.replace("https://", "HTTPS://").replace(".example", ".EXAMPLE") + "?utm_source=reddit"
            lines.append({"url": linked, "score": rng.randint(3, 500), "subreddit": "news", "is_self": False})
    while len(lines) < 5 * records:
        r = rng.random()
        lines.append({"url": f"https://elsewhere{rng.randrange(10**6)}.example/p", "score": rng.randint(0, 50) if r < 0.8 else 1,
                      "subreddit": "misc", "is_self": r > 0.95})
    rng.shuffle(lines)
    dump = folder / "RS_bench.ndjson"
    dump.write_text("\n".join(map(json.dumps, lines)) + "\n")
    return {"warcs": warcs, "dump": str(dump), "pages": len(pages), "lines": len(lines)}


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, MB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total / 2**20


def timed_run(crawl: dict, out: Path, workers: int) -> tuple[float, float, dict]:
    """(seconds, peak MB of the process tree, counters) of one multi_processing build-corpus."""
    exe = str(Path(sys.executable).parent / "build-corpus")
    cmd = [exe, "--warcs", *crawl["warcs"], "--reddit", crawl["dump"], "--out", str(out),
           "--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"build-corpus failed:\n{err[-3000:]}")
    return elapsed, peak[0], json.loads((out / MANIFEST).read_text())["counters"]


def shuffle_bytes(crawl: dict, out: Path) -> int:
    """Pickled bytes of every element entering a GroupByKey, from one in-process run."""
    import pickle

    import apache_beam as beam

    from webtext.pipeline.core.counters import counter
    from webtext.pipeline.run import build_corpus

    original = beam.Pipeline.apply
    seen = [0]

    def count(element, bytes_in=counter("bench.shuffle_bytes")):
        bytes_in.inc(len(pickle.dumps(element, protocol=4)))
        return element

    def apply(self, transform, pvalueish=None, label=None):
        if isinstance(transform, beam.GroupByKey) and pvalueish is not None:
            seen[0] += 1
            pvalueish = original(self, beam.Map(count), pvalueish, f"MeasureShuffle{seen[0]}")
        return original(self, transform, pvalueish, label)

    beam.Pipeline.apply = apply
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            assert build_corpus.main(["--warcs", *crawl["warcs"], "--reddit", crawl["dump"], "--out", str(out)]) == 0
    finally:
        beam.Pipeline.apply = original
    return json.loads((out / MANIFEST).read_text())["counters"]["bench.shuffle_bytes"]


def dedup_rounds(corpus: Path) -> int | None:
    """The fewest connected-components rounds that leave nothing unconverged on these documents."""
    sys.path.insert(0, str(HERE))
    import pyarrow.parquet as pq

    import dedup_set

    docs = [r for p in sorted(corpus.glob(f"{SHARD_PREFIX}*.parquet")) for r in pq.read_table(p).to_pylist()]
    for rounds in range(1, 9):
        _, _, counters = dedup_set.run(docs, {"max_rounds": rounds})
        if not counters.get("dedup.cc_not_converged"):
            return rounds
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, nargs="+", default=[5000, 20000, 80000])
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per size and worker count (min-max shown)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for records in args.records:
            folder = Path(tmp) / f"r{records}"
            folder.mkdir()
            crawl = build_crawl(folder, records)
            timing = {}
            for workers in (1, 2):
                runs = [timed_run(crawl, folder / f"out-{workers}-{k}", workers) for k in range(args.repeat)]
                pages = runs[0][2]["extract.pages"]
                rates = [pages / s / workers for s, _, _ in runs]
                timing[workers] = (min(rates), max(rates), max(m for _, m, _ in runs), runs[0][2])
            in_process = folder / "out-shuffle"
            shuffled = shuffle_bytes(crawl, in_process)
            docs = timing[1][3]["docs.written"]
            skipped = folder / "out-nodedup"
            from webtext.pipeline.run import build_corpus

            with contextlib.redirect_stdout(io.StringIO()):
                assert build_corpus.main(["--warcs", *crawl["warcs"], "--reddit", crawl["dump"], "--out", str(skipped), "--skip", "dedup"]) == 0
            rows.append((records, crawl["lines"], timing, shuffled / max(docs, 1), dedup_rounds(skipped), docs))
    print(f"\n{'records':>8} {'dump lines':>10} {'pages':>6} {'docs':>6} {'pages/s/core 1w':>16} {'pages/s/core 2w':>16} "
          f"{'2w/1w pages/s':>13} {'peak MB 1w':>10} {'peak MB 2w':>10} {'shuffle B/doc':>13} {'dedup rounds':>12}")
    for records, lines, t, per_doc, rounds, docs in rows:
        lo1, hi1, m1, c1 = t[1]
        lo2, hi2, m2, _ = t[2]
        ratio = f"{2 * lo2 / hi1:.2f}-{2 * hi2 / lo1:.2f}"
        print(f"{records:>8,} {lines:>10,} {c1['extract.pages']:>6,} {docs:>6,} {lo1:>7.1f}-{hi1:<8.1f} {lo2:>7.1f}-{hi2:<8.1f} "
              f"{ratio:>13} {m1:>10.0f} {m2:>10.0f} {per_doc:>13,.0f} {rounds if rounds else '>8':>12}")


if __name__ == "__main__":
    main()
