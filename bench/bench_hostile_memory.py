"""Peak memory of build-corpus on decompression bombs, measured with /usr/bin/time -v.

The input: eight real pages (../shared/data) with two bombs between them: a response record whose
body is N GiB of zeros in one gzip member (about N MB on disk), and one whose HTTP body is
Content-Encoding: gzip of N GiB of zeros. Each of the three ways a run reads WARCs (scan joined with
the links, --no-links, index mode) is run in its own process; the table is the peak resident memory
of that process and its children (the extractor), against the bombs' inflated size.

    python bench/bench_hostile_memory.py [--gib 2]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
DATA = HERE.parents[1] / "shared" / "data"

from hostile import cdxj_line, http_block, member, offsets, real_pages, submission, warc_record, zeros_record  # noqa: E402


def build(folder: Path, n: int) -> dict:
    pages = real_pages(DATA, 8)
    good = [member(warc_record(u, http_block(h))) for u, h in pages]
    bombs = [zeros_record("https://bomb.example/warc", n), zeros_record("https://bomb.example/http", n, http_gzip=True)]
    members = good[:4] + bombs + good[4:]
    urls = [u for u, _ in pages[:4]] + ["https://bomb.example/warc", "https://bomb.example/http"] + [u for u, _ in pages[4:]]
    (folder / "bomb.warc.gz").write_bytes(b"".join(members))
    (folder / "RS.ndjson").write_text("\n".join(submission(u) for u in urls) + "\n")
    (folder / "cdx.cdxj").write_text("\n".join(cdxj_line(u, "bomb.warc.gz", o, k) for u, (o, k) in zip(urls, offsets(members))) + "\n")
    return {"bytes_on_disk": (folder / "bomb.warc.gz").stat().st_size}


def run(folder: Path, mode: str) -> tuple[float, float, str]:
    exe = str(Path(sys.executable).parent / "build-corpus")
    args = {"scan": ["--warcs", "bomb.warc.gz", "--reddit", "RS.ndjson"],
            "no-links": ["--warcs", "bomb.warc.gz", "--no-links"],
            "index": ["--cc-index", "cdx.cdxj", "--cc-base", ".", "--reddit", "RS.ndjson"]}[mode]
    cmd = ["/usr/bin/time", "-v", exe, *args, "--out", f"out-{mode}", "--skip", "lang,quality,dedup"]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{mode}: build-corpus failed\n{done.stderr[-2000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    too_large = re.search(r"extract\.too_large\s+([\d,]+)", done.stdout).group(1)
    return peak_kb / 1024, elapsed, too_large


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gib", type=float, default=2.0, help="inflated size of each bomb, GiB")
    args = ap.parse_args()
    n = int(args.gib * (1 << 30))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        info = build(folder, n)
        print(f"two bombs of {args.gib:g} GiB each ({info['bytes_on_disk'] / 1e6:.1f} MB on disk) among 8 real pages")
        print(f"{'mode':10s} {'peak RSS':>10s} {'wall':>7s} {'extract.too_large':>18s}")
        for mode in ("scan", "no-links", "index"):
            mb, s, too_large = run(folder, mode)
            print(f"{mode:10s} {mb:8.0f} MB {s:6.1f}s {too_large:>18s}")


if __name__ == "__main__":
    main()
