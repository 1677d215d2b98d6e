"""What killed runs leave behind, stale outputs, and inputs that must be one clear line: a re-run never
sees a half file, a stale shard or a temp file, workers die with their parent, and a damaged
tokenizer folder or an out-of-range setting is exit 2 with one line, never a traceback."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import SKIP_ALL, read_corpus, run_build_corpus
from hostile import http_block, real_pages, submission, warc_file, warc_record
from test_train_fixtures import make_byte_shards, subprocess_env

from webtext import atomic
from webtext.cli import main as webtext
from webtext.pipeline.core.document import doc_id
from webtext.pipeline.sources.urls import canonical_url
from webtext.tokenizer.encoding import META_FILE, save_tokenizer
from webtext.corpus_layout import DEMO_INPUTS, MANIFEST, REPORT_DIR


def _corpus_run(tmp_path, pages, out, per_shard):
    (tmp_path / "c.warc.gz").write_bytes(warc_file([warc_record(u, http_block(h)) for u, h in pages]))
    (tmp_path / "RS.ndjson").write_text("\n".join(submission(u) for u, _ in pages) + "\n")
    return run_build_corpus(["--warcs", str(tmp_path / "c.warc.gz"), "--reddit", str(tmp_path / "RS.ndjson"),
                             "--out", str(out), "--docs-per-shard", str(per_shard), *SKIP_ALL])


@pytest.mark.slow
def test_a_rerun_with_other_inputs_leaves_no_stale_shard(data_dir, tmp_path):
    pages = real_pages(data_dir, 8)
    shards = 4

    def shard(url):
        return int(doc_id(canonical_url(url))[:15], 16) % shards

    # Fewer pages, the same shard count (per_shard 2), and one shard index holding none of them.
    for drop in range(shards):
        fewer = [p for p in pages if shard(p[0]) != drop]
        if len(fewer) > 2 * (shards - 1):
            break
    else:
        pytest.skip("the pages spread too evenly for this check")
    out = tmp_path / "out"
    assert _corpus_run(tmp_path, pages, out, 2) == 0
    (out / ".train-00001-of-00004.parquet.tmp-99-dead").write_bytes(b"a crashed writer's half file")
    assert _corpus_run(tmp_path, fewer, out, 2) == 0
    manifest, rows = read_corpus(out)
    assert manifest["counters"]["docs.written"] == len(rows) == len(fewer) == manifest["documents"]
    assert sorted(p.name for p in out.iterdir() if p.name != DEMO_INPUTS) == sorted(
        [f"train-{i:05d}-of-00004.parquet" for i in range(4)] + [MANIFEST, REPORT_DIR])
    empty = pq.read_table(out / f"train-{drop:05d}-of-00004.parquet")
    assert empty.num_rows == 0 and "text" in empty.column_names  # written, empty: the old one is gone


def _byte_tokenizer(folder: Path, **meta_changes) -> Path:
    ranks = {bytes([b]): b for b in range(256)}
    save_tokenizer(folder, ranks, name="bytes")
    if meta_changes:
        meta = json.loads((folder / META_FILE).read_text())
        meta.update(meta_changes)
        meta.pop("fingerprint", None)
        (folder / META_FILE).write_text(json.dumps(meta))
    return folder


def _small_corpus(folder: Path, texts) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"text": list(texts)}), folder / "part-00000-of-00001.parquet")
    return folder


def _ranks_lines(folder: Path, lines: list[str]) -> None:
    (folder / "tokenizer.tiktoken").write_text("\n".join(lines) + "\n")
    meta = json.loads((folder / META_FILE).read_text())
    meta.pop("fingerprint", None)
    (folder / META_FILE).write_text(json.dumps(meta))


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


TOKENIZER_DAMAGE = {
    "duplicate_rank": (lambda f: _ranks_lines(f, [f"{_b64(bytes([b]))} {b if b != 7 else 6}" for b in range(256)]), "0..n-1"),
    "rank_gap": (lambda f: _ranks_lines(f, [f"{_b64(bytes([b]))} {b + (b > 100)}" for b in range(256)]), "0..n-1"),
    "missing_byte": (lambda f: _ranks_lines(f, [f"{_b64(bytes([b]))} {b}" for b in range(255)]), "single-byte"),
    "duplicate_token": (lambda f: _ranks_lines(f, [f"{_b64(bytes([b]))} {b}" for b in range(256)] + [f"{_b64(b'a')} 256"]), "second time"),
    "eot_collides": (lambda f: _byte_tokenizer(f, special_tokens={"<|endoftext|>": 100}), "after the"),
    "special_as_list": (lambda f: _byte_tokenizer(f, special_tokens=["<|endoftext|>"]), "special_tokens must be"),
    "invalid_pat_str": (lambda f: _byte_tokenizer(f, pat_str="(unclosed"), "pat_str"),
    "catastrophic_pat_str": (lambda f: _byte_tokenizer(f, pat_str="(a+)+$"), "pat_str"),
    "pat_str_drops_text": (lambda f: _byte_tokenizer(f, pat_str="[a-z]+"), "pat_str"),
    "n_vocab_a_string": (lambda f: _byte_tokenizer(f, n_vocab="257"), "n_vocab"),
    "not_json": (lambda f: (f / META_FILE).write_text("{nope"), "not a webtext tokenizer.json"),
}


@pytest.mark.parametrize("case", sorted(TOKENIZER_DAMAGE))
def test_a_damaged_tokenizer_folder_is_one_line(tmp_path, capsys, case):
    tok = _byte_tokenizer(tmp_path / "tok")
    damage, message = TOKENIZER_DAMAGE[case]
    damage(tok)
    corpus = _small_corpus(tmp_path / "corpus", ["hello world"] * 10)
    assert webtext(["tokenize", "--corpus", str(corpus), "--tokenizer", str(tok), "--out", str(tmp_path / "bin")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("webtext tokenize: error: ") and err.count("\n") == 1 and message in err, err


def test_tokenize_over_a_killed_run_leaves_no_temp_files(tmp_path):
    tok = _byte_tokenizer(tmp_path / "tok")
    corpus = _small_corpus(tmp_path / "corpus", ["some text of a document"] * 50)
    out = tmp_path / "bin"
    assert webtext(["tokenize", "--corpus", str(corpus), "--tokenizer", str(tok), "--out", str(out), "--workers", "1"]) == 0
    for name in (".train_000000.bin.tmp-4242-abc", ".meta.json.tmp-1-x", "tokenizer/.tokenizer.json.tmp-7-y"):
        (out / name).write_bytes(b"half")
    assert webtext(["tokenize", "--corpus", str(corpus), "--tokenizer", str(tok), "--out", str(out), "--workers", "1", "--overwrite"]) == 0
    left = [p for p in out.rglob("*") if atomic.is_temp_name(p.name)]
    assert not left and (out / "meta.json").is_file()


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux's")
def test_tokenize_workers_die_with_their_parent(tmp_path):
    tok = _byte_tokenizer(tmp_path / "tok")
    text = "A long document of plain words, repeated to keep the workers busy for a while. " * 2000
    corpus = _small_corpus(tmp_path / "corpus", [text] * 3000)
    cmd = [sys.executable, "-m", "webtext.cli", "tokenize", "--corpus", str(corpus), "--tokenizer", str(tok),
           "--out", str(tmp_path / "bin"), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=subprocess_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, workers = time.time() + 60, []
    while time.time() < deadline and len(workers) < 2 and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the worker pool never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.05)
    alive = [w for w in workers if Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text()]
    assert not alive, f"workers {alive} outlived their parent"


def test_train_removes_the_temp_checkpoint_of_a_run_killed_while_saving(tmp_path):
    data = make_byte_shards(tmp_path / "bin")
    run = tmp_path / "run"
    base = ["train-on-shards", "--data", str(data), "--out", str(run), "--preset", "tiny", "--batch-size", "2",
            "--seq-len", "32", "--device", "cpu", "--no-plot", "--val-every", "0", "--log-every", "100"]
    assert webtext([*base, "--steps", "2"]) == 0
    half = run / "checkpoints" / ".step_00000004.pt.tmp-4242-abc"
    half.write_bytes(b"\0" * 1000)
    assert webtext([*base, "--steps", "4", "--resume"]) == 0
    assert not half.exists() and (run / "checkpoints" / "step_00000004.pt").is_file()


def test_a_shard_with_an_id_past_the_vocabulary_is_one_line_before_training(tmp_path, capsys):
    import numpy as np

    from webtext.tokenizer.shards import write_shard

    data = make_byte_shards(tmp_path / "bin")
    tokens = np.full(5000, 65, dtype=np.int64)
    tokens[-1] = 300  # the byte vocabulary has 257 ids; this one is far from the first tokens
    write_shard(data / "train_000009.bin", tokens, 65536)
    assert webtext(["train-on-shards", "--data", str(data), "--out", str(tmp_path / "r"), "--steps", "1", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "train_000009.bin holds token id 300" in err and err.count("\n") == 1, err


@pytest.mark.parametrize("toml, message", [
    ("[dedup]\nnum_perm = 100000000", "num_perm must lie in"),
    ("[extract]\ntimeout_s = -1.0", "extract.timeout_s"),
    ("[extract]\nmax_html_bytes = 0", "extract.max_html_bytes"),
    ("[extract]\nmax_html_bytes = 1099511627776", "extract.max_html_bytes"),
    ("[index]\nmax_record_bytes = 0", "index.max_record_bytes"),
    ("[lang]\nbatch_size = 0", "lang.batch_size"),
    ("[dedup]\nmax_rounds = 1000", "max_rounds"),
    ("[write]\ndocs_per_shard = -1", "docs_per_shard"),
])
def test_out_of_range_settings_are_one_line(tmp_path, capsys, toml, message):
    path = tmp_path / "c.toml"
    path.write_text(toml)
    assert run_build_corpus(["--out", str(tmp_path / "o"), "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", os.urandom(4096)], ids=["empty", "text", "random"])
def test_sample_from_a_bad_checkpoint_is_one_line(tmp_path, capsys, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    assert webtext(["sample", "--checkpoint", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("webtext sample: error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize("args, message", [
    (["--runner", "NoSuchRunner"], "Unexpected pipeline runner"),
    (["--runner", "DaskRunner"], "DaskRunner drops"),
    (["--direct_num_workers=abc"], "invalid int value"),
    (["--direct_running_mode=bogus"], "invalid choice"),
])
def test_bad_runner_and_beam_options_are_one_line(tmp_path, capsys, args, message):
    assert run_build_corpus(["--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
