"""`webtext finetune` and `webtext classify` on a real labelled task (bench/finetune_task.py): the pieces
(sequences, the head, labels, metrics), the run folder, exact resume, mistakes as one line."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from webtext.cli import main
from webtext.errors import UserError
from webtext.train import checkpoint as ckpt_io
from webtext.train.classifier_head import GPTClassifier, predict_probs
from webtext.train.finetune import FinetuneConfig, finetune
from webtext.train.labelled_data import LabelMap, accuracy_and_macro_f1, encode, read_labelled
from webtext.train.metrics import read_metrics
from webtext.train.model import GPT, GPTConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import finetune_task  # noqa: E402  (bench/ is scripts, not a package)


@pytest.fixture(autouse=True)
def _one_thread_and_private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: one thread is faster than two fighting a busy machine
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def task(tmp_path_factory) -> dict[str, Path]:
    return finetune_task.write_task(tmp_path_factory.mktemp("task"))


@pytest.fixture(scope="session")
def short_run(tmp_path_factory) -> Path:
    """A pretraining run of a few steps: enough for the mechanics (not for accuracy)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return finetune_task.pretrain(tmp_path_factory.mktemp("pre"), steps=3, seq_len=32, batch_size=4)
    finally:
        torch.set_num_threads(threads)  # later modules (in-process runs compared with subprocesses) get the default


def small_cfg(run, task, out, **over) -> FinetuneConfig:
    base = dict(train=str(task["train"]), val=str(task["val"]), out=str(out), run=str(run) if run else None, steps=6, batch_size=8,
                seq_len=32, lr=5e-4, device="cpu", val_every=3, checkpoint_every=3, keep_checkpoints=0, plot=False)
    return FinetuneConfig(**{**base, **over})


def one_line_error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# ---- pieces --------------------------------------------------------------------------------------------

class _Bytes:
    """A stand-in for a tiktoken Encoding: one token per byte, end-of-text 256."""
    eot_token = 256

    def encode_ordinary_batch(self, texts):
        return [list(t.encode()) for t in texts]


def test_sequences_start_with_end_of_text_and_keep_the_beginning():
    ids, lengths = encode(_Bytes(), ["abc", "x" * 100], 10)
    assert ids[0, :4].tolist() == [256, 97, 98, 99] and lengths[0] == 4
    assert ids[1].tolist() == [256] + [120] * 9 and lengths[1] == 10  # the first 9 of 100 kept
    with pytest.raises(UserError):
        encode(_Bytes(), ["a"], 1)


def test_head_reads_the_last_real_token_whatever_the_padding():
    torch.manual_seed(0)
    model = GPTClassifier(GPT(GPTConfig(2, 2, 32, 16, 300)), 3).eval()
    ids, lengths = encode(_Bytes(), ["short", "a longer text"], 16)
    both = predict_probs(model, ids, lengths, 2, "cpu", nullcontext)
    alone = predict_probs(model, ids[:1, : lengths[0]], lengths[:1], 1, "cpu", nullcontext)
    np.testing.assert_allclose(both[0], alone[0], rtol=1e-5, atol=1e-6)
    changed = ids.copy()
    changed[0, lengths[0]:] = 7  # other padding: the same answer
    np.testing.assert_allclose(predict_probs(model, changed, lengths, 2, "cpu", nullcontext), both, rtol=1e-5, atol=1e-6)
    # L1 counts real next tokens only: a sequence's L1 is the same alone and padded in a batch
    x, n = torch.from_numpy(ids), torch.from_numpy(lengths)
    _, l1_alone = model(x[:1, : lengths[0]], n[:1])
    _, l1_padded = model(x[:1], n[:1])
    assert torch.allclose(l1_alone, l1_padded)


def test_label_map_strings_ints_and_mistakes(tmp_path):
    labels = LabelMap.from_labels(["spam", "ham", "spam"], "--train")
    assert labels.names == ["ham", "spam"] and labels.indices(["spam", "ham"], "--val").tolist() == [1, 0]
    assert LabelMap.from_labels([3, 1, 3], "--train").names == [1, 3]
    labels.save(tmp_path)
    assert LabelMap.load(tmp_path).names == ["ham", "spam"]
    for bad, words in ((["a", "a"], "at least two classes"), ([1, "a"], "all strings or all integers"),
                       ([1.5, 2.5], "all strings or all integers"), ([], "no labelled examples")):
        with pytest.raises(UserError, match=words):
            LabelMap.from_labels(bad, "--train")
    with pytest.raises(UserError, match="'eggs' do not occur in the training data"):
        labels.indices(["eggs"], "--val")


def test_accuracy_and_macro_f1_by_hand():
    gold, pred = np.array([0, 0, 0, 1, 1, 2]), np.array([0, 0, 1, 1, 2, 2])
    # class 0: tp 2 fp 0 fn 1 -> 4/5; class 1: tp 1 fp 1 fn 1 -> 1/2; class 2: tp 1 fp 1 fn 0 -> 2/3
    acc, f1 = accuracy_and_macro_f1(pred, gold, 4)  # class 3 occurs nowhere: left out, as scikit-learn does
    assert acc == pytest.approx(4 / 6) and f1 == pytest.approx((4 / 5 + 1 / 2 + 2 / 3) / 3)


def test_the_task_is_real_and_split_by_page(task):
    urls = {s: set(pq.read_table(p, columns=["url"]).column(0).to_pylist()) for s, p in task.items()}
    assert not (urls["train"] & urls["test"]) and not (urls["train"] & urls["val"]) and not (urls["val"] & urls["test"])
    texts, labels, skipped = read_labelled(task["train"], "text", "label", "--train")
    assert len(texts) > 300 and set(labels) == {"en", "other"} and not any(skipped.values())
    assert 0.1 < labels.count("other") / len(labels) < 0.3


# ---- the run folder, classify, resume ------------------------------------------------------------------

@pytest.mark.slow
def test_finetune_and_classify_from_the_command_line(short_run, task, tmp_path, capsys):
    ft = tmp_path / "ft"
    assert main(["finetune", "--run", str(short_run), "--train", str(task["train"]), "--val", str(task["val"]),
                 "--out", str(ft), "--steps", "4", "--batch-size", "8", "--seq-len", "32", "--val-every", "2",
                 "--device", "cpu"]) == 0
    assert json.loads((ft / "labels.json").read_text()) == {"labels": ["en", "other"]}
    assert (ft / "finetune.png").stat().st_size > 1000 and (ft / "tokenizer" / "tokenizer.tiktoken").is_file()
    recs = read_metrics(ft / "metrics.jsonl")
    assert [r["step"] for r in recs] == [1, 2, 3, 4]
    for r in recs:
        assert r["loss"] == pytest.approx(r["clf_loss"] + 0.5 * r["lm_loss"], rel=1e-5)
    assert {"val_loss", "val_accuracy", "val_macro_f1"} <= set(recs[1]) and "val_accuracy" not in recs[0]

    out = tmp_path / "labelled.parquet"
    capsys.readouterr()
    assert main(["classify", "--run", str(ft), "--input", str(task["test"]), "--out", str(out),
                 "--gold-column", "label", "--label-column", "predicted"]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    table = pq.read_table(out)
    assert table.column_names == ["text", "label", "url", "predicted", "predicted_probs"]
    assert set(table.column("predicted").to_pylist()) <= {"en", "other"}
    probs = np.array(table.column("predicted_probs").to_pylist())
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    names = json.loads(table.schema.metadata[b"webtext.labels"])
    assert [names[i] for i in probs.argmax(1)] == table.column("predicted").to_pylist()
    gold = table.column("label").to_pylist()
    assert scores["accuracy"] == pytest.approx(np.mean([p == g for p, g in zip(table.column("predicted").to_pylist(), gold)]))


@pytest.mark.slow
def test_resume_is_exact(short_run, task, tmp_path):
    full = small_cfg(short_run, task, tmp_path / "a")
    finetune(full)
    expected = read_metrics(tmp_path / "a" / "metrics.jsonl")
    final = ckpt_io.load_latest(tmp_path / "a")[1]["model"]

    # the same run killed after its step-3 checkpoint: the step-6 one and the metrics past it never written
    finetune(small_cfg(short_run, task, tmp_path / "b", steps=6))
    (ckpt_io.checkpoint_dir(tmp_path / "b") / "step_00000006.pt").unlink()
    torch.manual_seed(999)  # whatever the process did meanwhile
    finetune(small_cfg(None, task, tmp_path / "b", resume=True, seq_len=None))  # the folder alone: no --run, its seq_len
    resumed = read_metrics(tmp_path / "b" / "metrics.jsonl")
    timing = ("examples_per_s",)
    assert [{k: v for k, v in r.items() if k not in timing} for r in resumed] == \
           [{k: v for k, v in r.items() if k not in timing} for r in expected]
    again = ckpt_io.load_latest(tmp_path / "b")[1]["model"]
    assert all(torch.equal(final[k], again[k]) for k in final)


def test_jsonl_and_integer_labels(short_run, task, tmp_path, capsys):
    rows = pq.read_table(task["train"]).to_pylist()
    rows = [r for r in rows if r["label"] == "en"][:30] + [r for r in rows if r["label"] == "other"][:10]
    path = tmp_path / "train.jsonl"
    lines = [json.dumps({"body": r["text"], "y": int(r["label"] == "other")}) for r in rows]
    path.write_text("\n".join(lines[:20] + ["{not json", '"a string"', json.dumps({"body": None, "y": 1})] + lines[20:]) + "\n")
    ft = tmp_path / "ft"
    finetune(FinetuneConfig(train=str(path), out=str(ft), run=str(short_run), text_column="body", label_column="y",
                            steps=2, batch_size=4, seq_len=32, device="cpu", plot=False))
    assert "left out 2 bad lines, 1 no text" in capsys.readouterr().out
    assert json.loads((ft / "labels.json").read_text())["labels"] == [0, 1]
    out = tmp_path / "y.parquet"
    assert main(["classify", "--run", str(ft), "--input", str(path), "--text-column", "body", "--label-column", "pred",
                 "--out", str(out)]) == 0
    assert pq.read_table(out).column("pred").type == pa.int64()
    assert pq.read_table(out).column("pred").to_pylist()[20] is None  # the row without text


def test_mistakes_are_one_line(short_run, task, tmp_path, capsys):
    base = ["finetune", "--train", str(task["train"]), "--out", str(tmp_path / "ft"), "--steps", "1", "--device", "cpu"]
    one_class = tmp_path / "one.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "label": ["x", "x"]}), one_class)
    unseen = tmp_path / "unseen.parquet"
    pq.write_table(pa.table({"text": ["a"], "label": ["neither"]}), unseen)
    cases = [
        (base + ["--run", str(tmp_path / "nowhere")], "no such folder"),
        (base, "--run RUNDIR or --init-from"),
        (base + ["--run", str(short_run), "--text-column", "body"], "no column 'body'"),
        (base + ["--run", str(short_run), "--label-column", "url", "--train", str(one_class)], "no column 'url'"),
        (["finetune", "--train", str(one_class), "--out", str(tmp_path / "ft"), "--run", str(short_run)], "at least two classes"),
        (base + ["--run", str(short_run), "--val", str(unseen)], "'neither' do not occur in the training data"),
        (base + ["--run", str(short_run), "--seq-len", "100000"], "longer than the model's context"),
        (["classify", "--run", str(short_run), "--input", str(task["test"]), "--out", str(tmp_path / "o.parquet")],
         "not a finetune run"),
        (["classify", "--run", str(tmp_path / "nowhere"), "--input", str(task["test"]), "--out", str(tmp_path / "o.parquet")],
         "no such folder"),
    ]
    for argv, words in cases:
        assert words in one_line_error(argv, capsys), argv
    ft = tmp_path / "ok"
    finetune(small_cfg(short_run, task, ft, steps=1))
    assert "pass --resume" in one_line_error(["finetune", "--run", str(short_run), "--train", str(task["train"]),
                                              "--out", str(ft)], capsys)
    assert "already has a column 'label'" in one_line_error(
        ["classify", "--run", str(ft), "--input", str(task["test"]), "--out", str(tmp_path / "o.parquet")], capsys)


# ---- the must-show: pretraining pays ---------------------------------------------------------------------

@pytest.mark.slow
def test_pretrained_beats_random_init_and_the_majority_class(tmp_path_factory):
    """tiny pretrained on the AEB article bodies (300 steps, ~90 s on one busy core), then fine-tuned on
    80 labelled examples of the language task (few labels: where pretraining matters); the same run from
    random init and the majority class score lower on the test split. (bench/bench_finetune.py prints
    the table over seeds, with lambda 0 vs 0.5 and all the labels.)"""
    tmp = tmp_path_factory.mktemp("mustshow")
    run = finetune_task.pretrain(tmp / "pre", steps=300)
    task = finetune_task.write_task(tmp / "task", "language", train_examples=80)
    gold = pq.read_table(task["test"], columns=["label"]).column(0).to_pylist()
    top = max(set(gold), key=gold.count)
    majority_acc = gold.count(top) / len(gold)
    majority_f1 = (2 * majority_acc / (1 + majority_acc)) / 2  # F1 of the majority class; the other scores 0

    def test_scores(**over):
        name = "rand" if over.get("random_init") else "pre"
        cfg = FinetuneConfig(train=str(task["train"]), out=str(tmp / name), run=str(run), steps=60, batch_size=16,
                             seq_len=64, lr=5e-4, device="cpu", plot=False, **over)
        finetune(cfg)
        from webtext.train.classify import classify_table, load_classifier

        model, labels, enc, seq_len = load_classifier(str(tmp / name))
        predicted, _ = classify_table(pq.read_table(task["test"]), "text", model, labels, enc, seq_len)
        y, p = labels.indices(gold, "test"), labels.indices(predicted, "test")
        return accuracy_and_macro_f1(p, y, len(labels.names))

    pre_acc, pre_f1 = test_scores()
    rand_acc, rand_f1 = test_scores(random_init=True)
    print(f"majority {majority_acc:.3f}/{majority_f1:.3f}  pretrained {pre_acc:.3f}/{pre_f1:.3f}  "
          f"random init {rand_acc:.3f}/{rand_f1:.3f}")
    # measured (seeds 1337, 2): pretrained 0.853-0.873 / 0.76-0.79, random 0.78-0.80 / 0.53-0.54, majority 0.843 / 0.46
    assert pre_acc > majority_acc and pre_f1 > majority_f1 + 0.2
    assert pre_acc > rand_acc + 0.03 and pre_f1 > rand_f1 + 0.1


def test_init_from_a_hugging_face_folder_starts_where_the_run_does(short_run, task, tmp_path):
    hf = tmp_path / "hf"
    assert main(["export-hf", "--run", str(short_run), "--out", str(hf)]) == 0
    finetune(small_cfg(short_run, task, tmp_path / "a", steps=2, dropout=0.0))
    finetune(small_cfg(None, task, tmp_path / "b", steps=2, dropout=0.0, init_from=str(hf),
                       tokenizer=str(short_run.parent / "tokenizer")))
    a, b = (read_metrics(tmp_path / x / "metrics.jsonl") for x in "ab")
    assert [r["loss"] for r in a] == pytest.approx([r["loss"] for r in b], rel=1e-5)
