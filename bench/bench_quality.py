"""Cost of the lang + quality stages next to extraction, per core, on real pages.

    .venv/bin/python bench/bench_quality.py [--repeat 3] [--data ../shared/data]

Pages: the 181 article pages of scrapinghub's benchmark and the 210 pages of trafilatura's
(../shared/data/extraction). For each page it times, in this one process (so per core):

    extract   trafilatura.extract(html) with its defaults (what the extract stage runs)
    lang      lid.176 on the extracted text, in batches of 256 (the lang stage)
    quality   every heuristic rule with the default config (the quality stage, no classifier)

CPU time (time.process_time), best of --repeat runs, so other load on the machine matters less.
The lang + quality stages must cost under 10% of extraction. The rules run here on every page,
English or not (the stage skips other languages), so the quality figure is an upper bound.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def load_pages(data: Path) -> list[bytes]:
    aeb = data / "extraction" / "scrapinghub-aeb"
    pages = [gzip.decompress(p.read_bytes()) for p in sorted((aeb / "html").glob("*.html.gz"))]
    evaldata = json.loads((data / "extraction" / "trafilatura-eval" / "evaldata-subset.json").read_text(encoding="utf-8"))
    pages += [gzip.decompress((data / "extraction" / "trafilatura-eval" / e["html_gz"]).read_bytes()) for e in evaldata.values()]
    return pages


def best_cpu_seconds(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared test data folder")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest counts")
    args = ap.parse_args()

    import trafilatura

    from webtext.pipeline.filters.quality import rules
    from webtext.pipeline.run import config
    from webtext.pipeline.filters.lang import LanguageIdentifier

    pages = load_pages(args.data)
    texts = [trafilatura.extract(html) or "" for html in pages]  # warm-up, and the input of the rest
    identifier = LanguageIdentifier()
    cfg = config.load_config()["quality"]

    def lang():
        for i in range(0, len(texts), 256):
            identifier.predict_batch(texts[i : i + 256])

    def quality():
        for text in texts:
            rules.apply_rules(text, cfg)

    n = len(pages)
    extract_s = best_cpu_seconds(lambda: [trafilatura.extract(html) for html in pages], args.repeat)
    lang_s = best_cpu_seconds(lang, args.repeat)
    quality_s = best_cpu_seconds(quality, args.repeat)
    kept = sum(rules.apply_rules(t, cfg)[0] is None for t in texts)

    print(f"{n} real pages, {sum(map(len, texts)) / n:,.0f} characters of extracted text on average; CPU time, best of {args.repeat}")
    print(f"{'stage':<16}{'ms/doc':>10}{'docs/s/core':>14}{'vs extract':>12}")
    for name, seconds in (("extract", extract_s), ("lang", lang_s), ("quality", quality_s), ("lang+quality", lang_s + quality_s)):
        print(f"{name:<16}{1000 * seconds / n:>10.3f}{n / seconds:>14,.0f}{seconds / extract_s:>12.1%}")
    verdict = "OK" if lang_s + quality_s < 0.10 * extract_s else "OVER BUDGET"
    print(f"lang+quality = {(lang_s + quality_s) / extract_s:.1%} of extraction time (target < 10%): {verdict}")
    print(f"({kept} of {n} pages pass the default rules, all languages counted)")


if __name__ == "__main__":
    main()
