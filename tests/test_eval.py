"""`webtext eval`: bits per byte equal to a hand computation, on token shards and on a Parquet corpus,
and comparable across tokenizers; train-on-shards logs validation bits per byte."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import torch.nn.functional as F
from conftest import DATA

from webtext.cli import main as webtext
from webtext.tokenizer.encoding import load_encoding
from webtext.train.data import ShardStream, find_shards
from webtext.train.inference import load_checkpoint, model_from
from webtext.train.metrics import read_metrics

pytestmark = pytest.mark.slow
SEQ = 64


def real_texts() -> list[str]:
    truth = json.loads((DATA / "extraction/scrapinghub-aeb/ground-truth.json").read_text())
    return [v["articleBody"] for _, v in sorted(truth.items()) if v["articleBody"].strip()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("evalcorpus") / "corpus"
    out.mkdir()
    pq.write_table(pa.table({"text": real_texts()}), out / "train-00000-of-00001.parquet")
    return out


def trained_run(corpus, root, vocab: int, steps: int = 60):
    tok, bindir, run = root / f"tok{vocab}", root / f"bin{vocab}", root / f"run{vocab}"
    assert webtext(["train-tokenizer", "--corpus", str(corpus), "--vocab-size", str(vocab), "--out", str(tok)]) == 0
    assert webtext(["tokenize", "--corpus", str(corpus), "--tokenizer", str(tok), "--out", str(bindir),
                    "--val-tokens", "20000"]) == 0
    assert webtext(["train-on-shards", "--data", str(bindir), "--preset", "tiny", "--out", str(run), "--steps", str(steps),
                    "--batch-size", "8", "--seq-len", str(SEQ), "--val-every", "30", "--val-steps", "4", "--no-plot"]) == 0
    return tok, bindir, run


@pytest.fixture(scope="module")
def runs(corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("evalruns")
    return {v: trained_run(corpus, root, v) for v in (300, 1024)}


def hand_bpb(model, windows: np.ndarray, enc) -> tuple[float, int, int]:
    """Summed -ln p over every predicted token, by log_softmax; bytes by decoding each target token."""
    nll, nbytes = 0.0, 0
    with torch.no_grad():
        for w in windows:
            x, y = torch.from_numpy(w[:-1])[None], torch.from_numpy(w[1:])
            logits, _ = model(x, y[None])
            logp = F.log_softmax(logits[0].double(), dim=-1)
            nll -= float(logp[torch.arange(len(y)), y].sum())
            nbytes += sum(0 if t == enc.eot_token else len(enc.decode_single_token_bytes(int(t))) for t in y)
    return nll, windows.shape[0] * (windows.shape[1] - 1), nbytes


def run_eval(capsys, *args) -> dict:
    capsys.readouterr()
    assert webtext(["eval", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_bits_per_byte_on_shards_equals_a_hand_computation(runs, capsys):
    tok, bindir, run = runs[300]
    got = run_eval(capsys, "--run", str(run), "--data", str(bindir))
    stream = ShardStream(find_shards(bindir, "val"), SEQ, 1, shuffle=False)
    windows = np.stack([stream.window(g) for g in range(stream.total)])
    model = model_from(load_checkpoint(str(run)))
    nll, tokens, nbytes = hand_bpb(model, windows, load_encoding(tok))
    assert got["tokens"] == tokens and got["bytes"] == nbytes and got["windows"] == stream.total
    assert got["bits_per_byte"] == pytest.approx(nll / (math.log(2) * nbytes), rel=1e-6)
    assert got["loss"] == pytest.approx(nll / tokens, rel=1e-6)
    assert got["perplexity"] == pytest.approx(math.exp(nll / tokens), rel=1e-6)
    # the bytes are the text's: the UTF-8 length of the decoded targets, <|endoftext|> standing for nothing
    enc = load_encoding(tok)
    text = b"".join(enc.decode_single_token_bytes(int(t)) for w in windows for t in w[1:] if t != enc.eot_token)
    assert len(text) == got["bytes"]


def test_bits_per_byte_on_a_parquet_corpus(runs, corpus, capsys):
    tok, _, run = runs[300]
    got = run_eval(capsys, "--run", str(run), "--data", str(corpus), "--max-tokens", "4000")
    enc = load_encoding(tok)
    ids = np.concatenate([np.array([enc.eot_token, *enc.encode_ordinary(t)]) for t in real_texts()])
    assert got["windows"] == -(-4000 // SEQ)  # whole windows covering at least --max-tokens
    windows = np.stack([ids[i * SEQ: i * SEQ + SEQ + 1] for i in range(got["windows"])])
    nll, tokens, nbytes = hand_bpb(model_from(load_checkpoint(str(run))), windows, enc)
    assert (got["tokens"], got["bytes"]) == (tokens, nbytes)
    assert got["bits_per_byte"] == pytest.approx(nll / (math.log(2) * nbytes), rel=1e-6)


def test_models_of_different_vocabularies_compare_in_bits_per_byte(runs, tmp_path, capsys):
    head = tmp_path / "head"
    head.mkdir()
    pq.write_table(pa.table({"text": real_texts()[:30]}), head / "train-00000-of-00001.parquet")
    small, large = (run_eval(capsys, "--run", str(runs[v][2]), "--data", str(head)) for v in (300, 1024))
    # the same text is scored: the same bytes (up to the tail each tokenization cuts off), fewer tokens
    assert abs(small["bytes"] - large["bytes"]) <= 2 * SEQ * 8
    assert large["tokens"] < small["tokens"] and large["bytes_per_token"] > small["bytes_per_token"]
    # per token the larger vocabulary looks worse; per byte the two figures are close
    assert large["loss"] > small["loss"]
    bpb_ratio = large["bits_per_byte"] / small["bits_per_byte"]
    assert abs(math.log(bpb_ratio)) < abs(math.log(large["loss"] / small["loss"]))


def test_training_logs_validation_bits_per_byte(runs, capsys):
    tok, bindir, run = runs[300]
    val = [r for r in read_metrics(run / "metrics.jsonl") if r.get("val_loss") is not None]
    assert [r["step"] for r in val] == [30, 60] and all(0 < r["val_bpb"] < 16 for r in val)
    # the loop's figure is the eval command's on the same windows: 4 batches of 8 windows
    got = run_eval(capsys, "--run", str(run), "--data", str(bindir), "--max-tokens", str(4 * 8 * SEQ))
    assert got["windows"] == 32
    assert val[-1]["val_bpb"] == pytest.approx(got["bits_per_byte"], rel=1e-5)
    assert val[-1]["val_loss"] == pytest.approx(got["loss"], rel=1e-5)


@pytest.mark.parametrize("args, message", [
    (["--run", "nowhere", "--data", "."], "--run nowhere: no such folder"),
    (["--data", "."], "one of the arguments --run --checkpoint is required"),
])
def test_eval_mistakes_are_one_line(args, message, capsys):
    code = webtext(["eval", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
