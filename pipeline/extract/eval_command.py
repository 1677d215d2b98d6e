"""`webtext eval-extract FOLDER...`: extraction quality and speed per setting, trafilatura's defaults beside.

For each ground-truth folder (either layout of extract/evaluate.py: any held-out set in the same
format works) and each setting: macro precision, recall and F1 with 95% bootstrap intervals over
pages, and the F1 difference to trafilatura's defaults with a paired interval (an interval that
excludes 0 is a real difference). Then the speed of each setting on all pages together, in
documents per CPU-second of this one process (one core), from `--repeat` interleaved passes, and
its ratio to trafilatura's defaults measured in the same pass.

The reference row is `trafilatura.extract(html, url=url)` itself; every other row runs the extract
stage's own `main_text` (extract/worker.py), so "configured" is what the pipeline writes.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from webtext.cli_args import ArgumentParser
from webtext.errors import UserError
from webtext.pipeline.extract.evaluate import GoldPage, bootstrap_interval, load_gold, mean
from webtext.pipeline.extract.settings import TRAFILATURA_DEFAULTS, ExtractSettings

REFERENCE = "trafilatura defaults"
NO_COMMENTS = dict(include_comments=False, focus="balanced")
# The settings the defaults were chosen among (docs/extraction.md); `--all` scores every one.
CANDIDATES = {
    "comments off": ExtractSettings(**NO_COMMENTS, fallback="always"),
    "comments off, recall": ExtractSettings(**{**NO_COMMENTS, "focus": "recall"}, fallback="always"),
    "comments off, fast": ExtractSettings(**NO_COMMENTS, fallback="never"),
    "comments off, fast, recall": ExtractSettings(**{**NO_COMMENTS, "focus": "recall"}, fallback="never"),
}
MORE_CANDIDATES = {
    "comments off, precision": ExtractSettings(**{**NO_COMMENTS, "focus": "precision"}, fallback="always"),
    "comments off, no tables": ExtractSettings(**NO_COMMENTS, include_tables=False, fallback="always"),
    "comments off, fast, precision": ExtractSettings(**{**NO_COMMENTS, "focus": "precision"}, fallback="never"),
    "comments off, fast, no tables": ExtractSettings(**NO_COMMENTS, include_tables=False, fallback="never"),
    "comments off, balanced, fallback short": ExtractSettings(**NO_COMMENTS, fallback="short"),
}
FALLBACK_BELOW = (250, 1000)  # with --all, the configured settings with these thresholds too


def _reference(page: GoldPage) -> str | None:
    import trafilatura

    return trafilatura.extract(page.html, url=page.url)


def _runner(settings: ExtractSettings):
    from trafilatura.utils import load_html

    from webtext.pipeline.extract.worker import main_text

    def run(page: GoldPage) -> str | None:
        tree = load_html(page.html)
        return None if tree is None else main_text(tree, page.url, settings)

    return run


def _configured(config: str | None) -> ExtractSettings:
    from webtext.pipeline.run.config import load_config

    return ExtractSettings.from_config(load_config(config)["extract"])


def measure(rows: dict, pages: list[GoldPage], repeat: int) -> tuple[dict, dict]:
    """(outputs of each row's first pass, docs/s of each row in each pass); rows interleaved and
    rotated pass by pass, so a change in the machine's load falls on all of them alike."""
    _reference(pages[0])  # imports and trafilatura's lazy set-up out of the timing
    outputs, speed = {}, {name: [] for name in rows}
    names = list(rows)
    for r in range(repeat):
        for name in names[r % len(names):] + names[: r % len(names)]:
            run = rows[name]
            start = time.process_time()
            out = [run(p) for p in pages]
            speed[name].append(len(pages) / max(time.process_time() - start, 1e-9))
            outputs.setdefault(name, out)
    return outputs, speed


def _ci(lo_hi: tuple[float, float]) -> str:
    return f"[{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]"


def report(sets: dict, outputs: dict, speed: dict, n_boot: int) -> str:
    lines = []
    width = max(map(len, outputs)) + 2
    for set_name, (start, pages) in sets.items():
        scores = {name: [p.score(o) for p, o in zip(pages, out[start : start + len(pages)])] for name, out in outputs.items()}
        ref_f1 = [s[2] for s in scores[REFERENCE]]
        lines += ["", f"{set_name} ({len(pages)} pages): macro P / R / F1, 95% bootstrap intervals over pages ({n_boot} resamples)"]
        lines.append(f"  {'setting':<{width}}{'P':>6} {'R':>6} {'F1':>6} {'F1 interval':>16}   {'F1 - defaults':>14} {'interval':>18}")
        for name, s in scores.items():
            f1 = [x[2] for x in s]
            diff = "" if name == REFERENCE else f"{mean(f1) - mean(ref_f1):+14.3f} {_ci(bootstrap_interval(f1, ref_f1, n_boot)):>18}"
            lines.append(f"  {name:<{width}}{mean(x[0] for x in s):6.3f} {mean(x[1] for x in s):6.3f} {mean(f1):6.3f} {_ci(bootstrap_interval(f1, None, n_boot)):>16}   {diff}")
        oracle = [max(col) for col in zip(*([x[2] for x in s] for s in scores.values()))]
        lines.append(f"  {'(per-page best of these rows)':<{width}}{'':6} {'':6} {mean(oracle):6.3f}")
    n = sum(len(p) for _, p in sets.values())
    runs = len(speed[REFERENCE])
    lines += ["", f"speed on all {n} pages, one process (documents per CPU-second), {runs} interleaved passes: min-max"]
    lines.append(f"  {'setting':<{width}}{'docs/s':>16} {'x defaults':>14}")
    for name, dps in speed.items():
        ratios = [a / b for a, b in zip(dps, speed[REFERENCE])]
        lines.append(f"  {name:<{width}}{min(dps):7.1f}-{max(dps):<7.1f} {min(ratios):6.2f}-{max(ratios):<6.2f}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = ArgumentParser(prog="webtext eval-extract", description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", help="ground-truth folders (AEB's ground-truth.json + html/, or a trafilatura-eval segment index *.json + pages)")
    ap.add_argument("--config", default=None, help="a build-corpus config file whose [extract] section is the 'configured' row (default: the shipped defaults)")
    ap.add_argument("--all", action="store_true", help="also score every other candidate setting the defaults were chosen among")
    ap.add_argument("--only-configured", action="store_true", help="score only the configured settings beside trafilatura's defaults (a held-out check)")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the pages (quality comes from the first)")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of the pages")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.bootstrap < 10:
        raise UserError("eval: --repeat must be at least 1 and --bootstrap at least 10")
    sets, pages = {}, []
    for folder in args.folders:
        gold = load_gold(folder)
        name = Path(folder).resolve().name
        if name in sets:
            raise UserError(f"eval: two folders named {name!r}")
        sets[name] = (len(pages), gold)
        pages += gold
    configured = _configured(args.config)
    rows = {REFERENCE: _reference, "configured": _runner(configured)}
    if not args.only_configured:
        rows.update({name: _runner(s) for name, s in CANDIDATES.items()})
    if args.all:
        rows.update({name: _runner(s) for name, s in MORE_CANDIDATES.items()})
        for below in FALLBACK_BELOW:
            rows[f"configured, fallback below {below}"] = _runner(dataclasses.replace(configured, fallback="short", fallback_below=below))
    print(f"configured: {configured}\ntrafilatura defaults: {TRAFILATURA_DEFAULTS}", flush=True)
    outputs, speed = measure(rows, pages, args.repeat)
    print(report(sets, outputs, speed, args.bootstrap))
    return 0
