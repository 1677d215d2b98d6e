"""The cost of build-corpus's live progress line: pipeline docs/s with it and without it (--quiet).

    python bench/bench_progress.py [--copies 2] [--runs 3]

The same inputs as bench_pipeline.py (the 181 real AEB article pages, written `--copies` times into a
WARC, with a dump linking every URL), every stage on, FnApiRunner in_memory, one worker. Runs are
interleaved (on, off, on, off, ...) so a change in the machine's load hits both alike. With the line
on, stderr is a (fake) terminal, so the line is redrawn twice a second as a user sees it. docs/s is
extracted documents over the pipeline's own time (the manifest's elapsed_s: no start-up of the CLI,
no report). Prints min-max of each and the ratio of the medians, with the load average of each run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import load_pages, write_inputs  # noqa: E402

from webtext.cli import main as webtext_main  # noqa: E402
from webtext.corpus_layout import MANIFEST  # noqa: E402


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def run_once(warc: str, dump: str, out: str, line: bool) -> tuple[float, int]:
    flags = [] if line else ["--quiet"]
    err = _Terminal()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = webtext_main(["build-corpus", "--warcs", warc, "--reddit", dump, "--out", out, "--no-report", *flags,
                           "--direct_running_mode=in_memory", "--direct_num_workers=1"])
    assert rc == 0
    if line:
        assert "\r[0:00:0" in err.getvalue(), "the progress line was not drawn"
    m = json.loads(Path(out, MANIFEST).read_text())
    return m["counters"]["extract.docs"] / m["elapsed_s"], m["counters"]["extract.docs"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warc, dump = write_inputs(load_pages(args.copies, distinct=True), Path(tmp))
        run_once(warc, dump, f"{tmp}/warm", False)  # imports, caches: not timed
        rates: dict[bool, list[float]] = {True: [], False: []}
        for i in range(args.runs):
            for line in ((True, False) if i % 2 == 0 else (False, True)):  # ABBA: no side always first
                rate, docs = run_once(warc, dump, f"{tmp}/out", line)
                rates[line].append(rate)
                load = " ".join(f"{x:.2f}" for x in os.getloadavg())
                print(f"run {i + 1} {'with line   ' if line else 'without line'}  {rate:7.2f} docs/s  ({docs} docs)  load {load}",
                      flush=True)
    on, off = rates[True], rates[False]
    print(f"\nbuild-corpus docs/s, {args.runs} interleaved runs each (order alternating) ({docs} documents per run):")
    print(f"  with the progress line     {min(on):7.2f} - {max(on):7.2f}   median {statistics.median(on):7.2f}")
    print(f"  without (--quiet)          {min(off):7.2f} - {max(off):7.2f}   median {statistics.median(off):7.2f}")
    print(f"  ratio with/without (medians) {statistics.median(on) / statistics.median(off):.3f}")


if __name__ == "__main__":
    main()
