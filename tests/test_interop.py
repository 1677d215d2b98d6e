"""Our outputs read by the ecosystem's own, unmodified code: a corpus folder by pyarrow, Hugging Face
`datasets`, DuckDB and Spark; a trained run by transformers (export-hf), and the other way in
(--init-from a transformers save); nanoGPT's train.bin/val.bin/meta.pkl as nanoGPT's train.py reads them."""

from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from helpers import read_corpus, run_build_corpus
from test_train_fixtures import EOT, N_VOCAB, make_byte_shards

from webtext.cli import main as webtext
from webtext.corpus_layout import DROPPED_DIR, MANIFEST
from webtext.tokenizer.encoding import save_tokenizer


@pytest.fixture(scope="module")
def corpus(real_run_inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "c"
    assert run_build_corpus(["--warcs", *real_run_inputs["warcs"], "--reddit", real_run_inputs["dump"], "--out", str(out),
                             "--keep-dropped", "--docs-per-shard", "10", "--skip", "dedup"]) == 0
    manifest, rows = read_corpus(out)
    assert manifest["counters"]["docs.dropped_written"] > 0 and len(manifest["shards"]) >= 2
    return out, manifest["counters"]["docs.written"], {r["id"] for r in rows}


@pytest.mark.slow
def test_pyarrow_reads_exactly_the_corpus(corpus):
    import pyarrow.dataset as ds

    out, written, ids = corpus
    assert pq.read_table(out).num_rows == written
    table = ds.dataset(out, format="parquet").to_table()
    assert table.num_rows == written and set(table.column("id").to_pylist()) == ids
    assert "drop_reason" not in table.column_names  # the dropped/ side folder is not read
    assert (out / MANIFEST).is_file() and (out / DROPPED_DIR).is_dir()


def test_hugging_face_datasets_reads_exactly_the_corpus(corpus, tmp_path, monkeypatch):
    from datasets import load_dataset

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    out, written, ids = corpus
    by_dir = load_dataset("parquet", data_dir=str(out), cache_dir=str(tmp_path / "c1"))
    assert list(by_dir) == ["train"] and by_dir["train"].num_rows == written
    assert set(by_dir["train"]["id"]) == ids
    by_glob = load_dataset("parquet", data_files=str(out / "*.parquet"), cache_dir=str(tmp_path / "c2"))["train"]
    assert by_glob.num_rows == written


def test_duckdb_reads_exactly_the_corpus(corpus):
    import duckdb

    out, written, _ = corpus
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{out}/*.parquet')").fetchall()[0][0] == written
    assert duckdb.sql(f"SELECT count(DISTINCT id) FROM '{out}/*.parquet'").fetchall()[0][0] == written


def test_spark_reads_exactly_the_corpus(corpus, tmp_path):
    pyspark = pytest.importorskip("pyspark", reason="pyspark is not in the dev extra (a 430 MB download)")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime")
    from pyspark.sql import SparkSession

    out, written, _ = corpus
    spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
    try:
        assert spark.read.parquet(str(out)).count() == written
    finally:
        spark.stop()
    assert pyspark


# --- models: out to transformers and back in ---------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny model trained on real text as bytes, with a byte-level tokenizer folder (257 tokens)."""
    tmp = tmp_path_factory.mktemp("run")
    data = make_byte_shards(tmp / "bin")
    save_tokenizer(tmp / "tok", {bytes([b]): b for b in range(256)}, name="bytes")
    run = tmp / "run"
    assert webtext(["train-on-shards", "--data", str(data), "--out", str(run), "--preset", "tiny", "--steps", "30",
                    "--batch-size", "4", "--seq-len", "64", "--device", "cpu", "--no-plot", "--val-every", "0",
                    "--dtype", "float32"]) == 0  # PyTorch's spelling of fp32
    return run, tmp / "tok", data


@pytest.mark.slow
def test_export_hf_loads_in_transformers_with_the_same_logits_and_greedy_text(tiny_run, tmp_path, capsys):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from webtext.train.inference import load_checkpoint, model_from

    run, tok, _ = tiny_run
    hf_dir = tmp_path / "hf"
    assert webtext(["export-hf", "--run", str(run), "--out", str(hf_dir), "--tokenizer", str(tok)]) == 0
    capsys.readouterr()
    hf = AutoModelForCausalLM.from_pretrained(str(hf_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(hf_dir))
    ours = model_from(load_checkpoint(str(run)))
    assert type(hf).__name__ == "GPT2LMHeadModel" and hf.config.vocab_size == N_VOCAB
    ids = torch.tensor([tokenizer("The history of the city began", add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        logits_hf = hf(ids).logits
        x = ours.drop(ours.wte(ids) + ours.wpe(torch.arange(ids.shape[1])))
        for block in ours.h:
            x = block(x)
        logits_ours = torch.nn.functional.linear(ours.ln_f(x), ours.wte.weight)[..., :N_VOCAB]
    assert (logits_hf - logits_ours).abs().max().item() < 1e-4
    prompt = "The history of"
    assert webtext(["sample", "--run", str(run), "--prompt", prompt, "--temperature", "0", "--max-new-tokens", "40",
                    "--tokenizer", str(tok)]) == 0
    ours_text = capsys.readouterr().out.rstrip("\n")
    start = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
    greedy = hf.generate(start, max_new_tokens=40, min_new_tokens=40, do_sample=False, pad_token_id=EOT)
    assert tokenizer.decode(greedy[0]) == ours_text


@pytest.mark.slow
def test_gpt1_exports_to_its_own_class(tmp_path, capsys):
    from transformers import AutoModelForCausalLM

    data = make_byte_shards(tmp_path / "bin")
    run = tmp_path / "run"
    args = ["train-on-shards", "--data", str(data), "--out", str(run), "--preset", "gpt1", "--steps", "1", "--batch-size", "1",
            "--seq-len", "16", "--device", "cpu", "--no-plot", "--val-every", "0"]
    assert webtext(args) == 0
    assert webtext(["export-hf", "--run", str(run), "--out", str(tmp_path / "hf"), "--no-tokenizer"]) == 0
    hf = AutoModelForCausalLM.from_pretrained(str(tmp_path / "hf")).eval()
    from webtext.train.inference import load_checkpoint, model_from

    ours = model_from(load_checkpoint(str(run)))
    ids = torch.tensor([[72, 101, 108, 108, 111, 32, 119]])
    with torch.no_grad():
        ours_logits = ours(ids, ids)[0][..., :N_VOCAB]
        assert type(hf).__name__ == "OpenAIGPTLMHeadModel"
        assert (hf(ids).logits - ours_logits).abs().max().item() < 1e-4


def test_init_from_a_transformers_gpt2_gives_its_first_loss(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    from webtext.train.data import ShardStream, find_shards
    from webtext.train.metrics import read_metrics

    data = make_byte_shards(tmp_path / "bin")
    torch.manual_seed(0)
    hf = GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=2, n_embd=64, n_positions=64, vocab_size=N_VOCAB,
                                    resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)).eval()
    hf.save_pretrained(str(tmp_path / "hf"))
    run = tmp_path / "run"
    assert webtext(["train-on-shards", "--data", str(data), "--out", str(run), "--init-from", str(tmp_path / "hf"), "--steps", "2",
                    "--batch-size", "4", "--seq-len", "32", "--device", "cpu", "--no-plot", "--val-every", "0", "--seed", "5"]) == 0
    first = read_metrics(run / "metrics.jsonl")[0]["loss"]
    stream = ShardStream(find_shards(data, "train"), 32, 4, seed=5)
    x, y = stream.next_batch()
    with torch.no_grad():
        expected = hf(torch.cat([x, y[:, -1:]], dim=1), labels=torch.cat([x, y[:, -1:]], dim=1)).loss.item()
    assert abs(first - expected) < 1e-4
    assert webtext(["train-on-shards", "--data", str(data), "--out", str(run), "--init-from", str(tmp_path / "hf"), "--steps", "3",
                    "--batch-size", "4", "--seq-len", "32", "--device", "cpu", "--no-plot", "--val-every", "0", "--seed", "5",
                    "--resume"]) == 0  # and it resumes like any run
    assert [r["step"] for r in read_metrics(run / "metrics.jsonl")] == [1, 2, 3]


@pytest.mark.parametrize("bad, message", [("missing", "no config.json"), ("bert", "not GPT-2-shaped"), ("shape", "has shape")])
def test_init_from_mistakes_are_one_line(tmp_path, capsys, bad, message):
    from transformers import GPT2Config, GPT2LMHeadModel

    data = make_byte_shards(tmp_path / "bin")
    folder = tmp_path / "hf"
    if bad != "missing":
        GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=32, n_positions=64, vocab_size=N_VOCAB)).save_pretrained(str(folder))
        config = json.loads((folder / "config.json").read_text())
        if bad == "bert":
            config["model_type"] = "bert"
        else:
            config["n_embd"] = 48  # the weights say 32
            config["n_head"] = 3
        (folder / "config.json").write_text(json.dumps(config))
    capsys.readouterr()  # what transformers printed while saving
    assert webtext(["train-on-shards", "--data", str(data), "--out", str(tmp_path / "r"), "--init-from", str(folder),
                    "--steps", "1", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


# --- nanoGPT ---------------------------------------------------------------------------------------------


def test_tokenize_for_nanogpt_as_its_train_py_reads_it(tmp_path):
    import pyarrow as pa

    texts = ["The first document.", "A second one, a little longer.", "Drei."]
    (tmp_path / "corpus").mkdir()
    pq.write_table(pa.table({"text": texts * 20}), tmp_path / "corpus" / "train-00000-of-00001.parquet")
    tok = tmp_path / "tok"
    save_tokenizer(tok, {bytes([b]): b for b in range(256)}, name="bytes")
    out = tmp_path / "nano"
    assert webtext(["tokenize", "--corpus", str(tmp_path / "corpus"), "--tokenizer", str(tok), "--out", str(out),
                    "--format", "nanogpt", "--val-tokens", "100", "--workers", "1"]) == 0
    # nanoGPT's train.py: np.memmap(os.path.join(data_dir, 'train.bin'), dtype=np.uint16, mode='r'); meta.pkl's vocab_size
    train = np.memmap(out / "train.bin", dtype=np.uint16, mode="r")
    val = np.memmap(out / "val.bin", dtype=np.uint16, mode="r")
    with open(out / "meta.pkl", "rb") as f:
        assert pickle.load(f)["vocab_size"] == 257
    everything = bytes(int(t) if t != 256 else 0 for t in np.concatenate([val, train])).split(b"\0")
    assert [t.decode() for t in everything[1:]] == texts * 20  # each document after <|endoftext|>, nothing lost
    assert not list(out.glob("train_*.bin"))
