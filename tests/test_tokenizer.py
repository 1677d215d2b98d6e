"""Tokenizer stage on real text: BPE training, tiktoken equality, corpus -> shards round trip, GPT-2 import, CLI.

Real inputs only (../shared/data): Common Crawl text, 181 news articles in 8 languages, evaluation-page
segments in 20 languages, a Wikipedia article, raw HTML. Nothing is downloaded.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tiktoken
import tiktoken.load
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from webtext.cli import main as webtext
from webtext.tokenizer import load_encoding
from webtext.tokenizer.hf_format import HF_FILE
from webtext.tokenizer.train_bpe import train

VOCAB = 3000
EOT = "<|endoftext|>"


# --- real text -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def articles(data_dir) -> list[str]:
    """181 news/blog article bodies (en, pt, ru, ko, it, id, de, ja) plus 10 Common Crawl documents."""
    truth = json.loads((data_dir / "extraction/scrapinghub-aeb/ground-truth.json").read_text())
    cc = [json.loads(line)["text"] for line in gzip.open(data_dir / "text/dolma-cc_en_head-0091.jsonl.gz", "rt")]
    return [v["articleBody"] for v in truth.values()] + cc


@pytest.fixture(scope="session")
def held_out(data_dir) -> list[str]:
    """Text the tokenizer was not trained on: page segments in 20 languages, a Wikipedia article, raw HTML,
    and the awkward corners (a literal <|endoftext|>, CRLF, runs of spaces, emoji, combining marks)."""
    evald = json.loads((data_dir / "extraction/trafilatura-eval/evaldata-subset.json").read_text())
    texts = ["\n".join(v["with"] + v["without"]) for v in evald.values()]
    texts.append((data_dir / "wikipedia/en.wikipedia.org-Mona_Lisa.txt").read_text())
    html = sorted((data_dir / "extraction/scrapinghub-aeb/html").glob("*.html.gz"))[:8]
    texts += [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in html]
    texts += [f"a {EOT} b", "line\r\nnext\r\n\r\n", "x" + " " * 17 + "y\t\t\n \n", "👩‍👩‍👧 ok 🙂", "é vs é, 12,345.67", ""]
    return texts


@pytest.fixture(scope="session")
def trained(articles, tmp_path_factory):
    """(tokenizer folder, the trainer's own HF tokenizer) trained on the articles."""
    tokdir = tmp_path_factory.mktemp("tok") / "webtext-bpe"
    batches = [articles[i:i + 50] for i in range(0, len(articles), 50)] + [[f"a page that quotes {EOT} as text"]]
    meta = train(batches, VOCAB, tokdir)
    assert meta["n_vocab"] == VOCAB
    return tokdir, Tokenizer.from_file(str(tokdir / HF_FILE))


TEXT_TYPES = (pa.string(), pa.large_string(), pa.string_view())  # what other writers (Spark, Polars) produce


def write_corpus(folder: Path, texts: list, files: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-len(texts) // files)
    for i in range(files):
        part = texts[i * per:(i + 1) * per]
        text = pa.array(part, TEXT_TYPES[i % len(TEXT_TYPES)])
        pq.write_table(pa.table({"id": list(range(len(part))), "text": text}),
                       folder / f"part-{i:03d}.parquet", compression="zstd", row_group_size=17)
    return folder


def llmc_read(path: Path) -> np.ndarray:
    """An independent reader that knows only llm.c's format (as llm.c's own Python loader reads shards)."""
    with open(path, "rb") as f:
        header = np.frombuffer(f.read(256 * 4), dtype=np.int32)
        assert header[0] == 20240520, "magic number mismatch in the data .bin file"
        assert header[1] == 1, "unsupported version"
        tokens = np.frombuffer(f.read(), dtype=np.uint16)
    assert len(tokens) == header[2], "number of tokens read does not match header"
    return tokens


def tiktoken_from_files(tokdir: Path, monkeypatch) -> tiktoken.Encoding:
    """Built with tiktoken's own loader and nothing of ours: the two saved files are all it needs."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken's file cache is keyed by path; read the file itself
    meta = json.loads((tokdir / "webtext-tokenizer.json").read_text())
    ranks = tiktoken.load.load_tiktoken_bpe(str(tokdir / "tokenizer.tiktoken"))
    return tiktoken.Encoding("t", pat_str=meta["pat_str"], mergeable_ranks=ranks,
                             special_tokens=meta["special_tokens"], explicit_n_vocab=meta["n_vocab"])


# --- the tokenizer ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_tiktoken_encodes_exactly_as_the_trainer(trained, articles, held_out, monkeypatch):
    tokdir, hf = trained
    enc = tiktoken_from_files(tokdir, monkeypatch)
    texts = articles + held_out
    # the trainer's tokenizer knows <|endoftext|> as a special token, so tiktoken is asked to allow it too
    ours = enc.encode_batch(texts, allowed_special="all")
    theirs = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
    assert ours == theirs
    assert sum(map(len, ours)) > 500_000  # a real amount of text, not a handful of words
    # the shards use encode_to_numpy without specials: a literal <|endoftext|> in a page is plain text
    ordinary = enc.encode_ordinary_batch(texts)
    assert [t.tolist() for t in map(_numpy_encoder(enc), texts)] == ordinary
    assert [t for t, s in zip(ordinary, texts) if EOT not in s] == [t for t, s in zip(ours, texts) if EOT not in s]
    assert all(enc.decode_bytes(t) == s.encode() for t, s in zip(ordinary, texts))


def _numpy_encoder(enc):
    return lambda s: enc.encode_to_numpy(s, allowed_special=set(), disallowed_special=())


@pytest.mark.slow
def test_transformers_loads_the_tokenizer_folder_as_it_is(trained, articles, held_out):
    """The folder is also a Hugging Face tokenizer: AutoTokenizer reads it and encodes as tiktoken."""
    from transformers import AutoTokenizer

    tokdir, _ = trained
    hf = AutoTokenizer.from_pretrained(str(tokdir))
    enc = load_encoding(tokdir)
    for text in articles[:20] + held_out:
        if EOT not in text:  # HF reads a literal "<|endoftext|>" as the token; the corpus tokenizer as text
            assert hf(text, add_special_tokens=False)["input_ids"] == enc.encode_ordinary(text)
    assert hf.eos_token == EOT and hf.eos_token_id == enc.eot_token
    assert hf.decode(enc.encode_ordinary(held_out[0])) == held_out[0]


def test_tokenizer_folder_layout(trained):
    tokdir, _ = trained
    meta = json.loads((tokdir / "webtext-tokenizer.json").read_text())
    assert meta["special_tokens"] == {EOT: VOCAB - 1} and meta["n_vocab"] == VOCAB
    assert meta["pat_str"] == r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    assert meta["fingerprint"].startswith("sha256:")
    enc = load_encoding(tokdir)
    assert enc.n_vocab == VOCAB and enc.eot_token == VOCAB - 1
    # the 256 byte tokens come first, in GPT-2's byte order ('!' is 0, as in GPT-2's encoder.json)
    assert sorted(enc.decode_single_token_bytes(i) for i in range(256)) == [bytes([b]) for b in range(256)]
    assert enc.decode_single_token_bytes(0) == b"!"


def test_max_chars_samples_every_file(articles, tmp_path):
    corpus = write_corpus(tmp_path / "corpus", articles, files=4)
    assert webtext(["train-tokenizer", "--corpus", str(corpus), "--vocab-size", "600", "--max-chars", "40k",
                    "--out", str(tmp_path / "tok")]) == 0
    seen = json.loads((tmp_path / "tok/webtext-tokenizer.json").read_text())["trained_on"]
    assert seen["files"] == 4 and 40_000 <= seen["chars"] < 40_000 + 4 * max(map(len, articles))
    assert seen["docs"] < len(articles) / 2


# --- corpus -> shards ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus_texts(articles, held_out) -> list:
    texts = articles + held_out[:60] + [None, "", f"text with a literal {EOT} inside"]
    return texts


@pytest.fixture(scope="session")
def tokenized(trained, corpus_texts, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shards")
    corpus = write_corpus(tmp / "corpus", corpus_texts, files=3)
    for skipped in ("dropped", "_temporary"):  # rejected documents, a half-written Spark output
        (corpus / skipped).mkdir()
        pq.write_table(pa.table({"text": ["not part of the corpus"]}), corpus / skipped / "part-0.parquet")
    out = tmp / "bin"
    rc = webtext(["tokenize", "--corpus", str(corpus), "--tokenizer", str(trained[0]), "--out", str(out),
                  "--shard-tokens", "60000", "--val-tokens", "25000", "--workers", "2"])
    assert rc == 0
    return corpus, out


def test_round_trip_byte_for_byte(tokenized, trained, corpus_texts, monkeypatch):
    _, out = tokenized
    meta = json.loads((out / "meta.json").read_text())
    enc = tiktoken_from_files(out / "tokenizer", monkeypatch)
    files = [s["file"] for s in meta["val"]["shards"]] + [s["file"] for s in meta["train"]["shards"]]
    tokens = np.concatenate([llmc_read(out / f) for f in files]).astype(np.int64)
    assert tokens[0] == enc.eot_token
    starts = np.flatnonzero(tokens == enc.eot_token)
    docs = [enc.decode_bytes(d[1:].tolist()) for d in np.split(tokens, starts[1:])]
    assert docs == [t.encode() for t in corpus_texts if t is not None]


def test_meta_and_shard_layout(tokenized, trained, corpus_texts):
    _, out = tokenized
    meta = json.loads((out / "meta.json").read_text())
    n_docs = sum(t is not None for t in corpus_texts)
    assert meta["docs"] == n_docs and meta["null_texts_skipped"] == 1
    assert meta["tokenizer_fingerprint"] == json.loads((trained[0] / "webtext-tokenizer.json").read_text())["fingerprint"]
    assert load_encoding(meta["tokenizer"]).n_vocab == VOCAB and meta["dtype"] == "uint16"
    assert [s["path"] for s in meta["sources"]] == ["part-000.parquet", "part-001.parquet", "part-002.parquet"]
    for split in ("train", "val"):
        shards = meta[split]["shards"]
        assert all(s["tokens"] == 60000 for s in shards[:-1]) and 0 < shards[-1]["tokens"] <= 60000
        assert sum(s["tokens"] for s in shards) == meta[split]["tokens"]
        assert sum(s["docs"] for s in shards) == meta[split]["docs"]
        assert sorted(p.name for p in out.glob(f"{split}_*.bin")) == [s["file"] for s in shards]
    assert len(meta["train"]["shards"]) > 1
    # validation: whole documents, the last of which reaches --val-tokens
    val = np.concatenate([llmc_read(out / s["file"]) for s in meta["val"]["shards"]])
    assert meta["val"]["tokens"] >= 25000 and val.size == meta["val"]["tokens"]
    last_doc = val.size - np.flatnonzero(val == VOCAB - 1)[-1]
    assert meta["val"]["tokens"] - last_doc < 25000
    assert not list(out.glob(".*tmp*"))


@pytest.mark.parametrize("workers, start_method", [(1, "fork"), (2, "spawn")])
def test_same_bytes_whatever_the_workers(tokenized, trained, tmp_path, monkeypatch, workers, start_method):
    """One in-process encoder, or spawned workers (macOS, Windows) instead of forked ones: the same shards."""
    import webtext.tokenizer.tokenize_corpus as tc

    monkeypatch.setattr(tc, "START_METHOD", start_method)
    corpus, out = tokenized
    assert webtext(["tokenize", "--corpus", str(corpus), "--tokenizer", str(trained[0]), "--out", str(tmp_path),
                    "--shard-tokens", "60000", "--val-tokens", "25000", "--workers", str(workers)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.bin")) == sorted(p.name for p in out.glob("*.bin"))
    for shard in out.glob("*.bin"):
        assert (tmp_path / shard.name).read_bytes() == shard.read_bytes()


def test_small_corpus_keeps_documents_for_training(trained, articles, tmp_path):
    corpus = write_corpus(tmp_path / "corpus", articles[:3], files=1)
    assert webtext(["tokenize", "--corpus", str(corpus), "--tokenizer", str(trained[0]), "--out", str(tmp_path / "bin"),
                    "--workers", "1"]) == 0  # default --val-tokens (10M) is far more than the corpus
    meta = json.loads((tmp_path / "bin/meta.json").read_text())
    assert (meta["val"]["docs"], meta["train"]["docs"]) == (1, 2)
    assert webtext(["tokenize", "--corpus", str(corpus), "--tokenizer", str(trained[0]), "--out", str(tmp_path / "bin"),
                    "--workers", "1", "--val-tokens", "0", "--overwrite"]) == 0
    meta = json.loads((tmp_path / "bin/meta.json").read_text())
    assert meta["val"]["docs"] == 0 and not list((tmp_path / "bin").glob("val_*"))


def test_vocabulary_past_65536_writes_uint32_shards(trained, tmp_path):
    """A vocabulary of 70,001 (padded with tokens no UTF-8 text can reach): <|endoftext|> is 70,000."""
    from webtext.tokenizer.encoding import read_tokenizer, save_tokenizer
    from webtext.tokenizer.shards import MAGIC_UINT32, open_shard

    _, ranks = read_tokenizer(trained[0])
    ranks |= {b"\xff\xfe" + i.to_bytes(4, "little"): i for i in range(len(ranks), 70_000)}
    save_tokenizer(tmp_path / "big", ranks, name="big")
    corpus = write_corpus(tmp_path / "corpus", ["Ein kurzer Text.", "Un texte court.", "短いテキスト"], files=1)
    assert webtext(["tokenize", "--corpus", str(corpus), "--tokenizer", str(tmp_path / "big"), "--out",
                    str(tmp_path / "bin"), "--val-tokens", "0", "--workers", "1"]) == 0
    meta = json.loads((tmp_path / "bin/meta.json").read_text())
    assert (meta["magic"], meta["dtype"], meta["eot_token"]) == (MAGIC_UINT32, "uint32", 70_000)
    tokens = open_shard(tmp_path / "bin/train_000000.bin")
    assert tokens.dtype == np.uint32 and np.count_nonzero(tokens == 70_000) == 3
    assert load_encoding(tmp_path / "big").decode(tokens.tolist()).split(EOT) == ["", "Ein kurzer Text.", "Un texte court.", "短いテキスト"]


# --- GPT-2's own vocabulary files -------------------------------------------------------------------------


def write_data_gym(hf: Tokenizer, folder: Path) -> Path:
    """encoder.json and vocab.bpe in the exact format OpenAI published GPT-2's in."""
    model = json.loads(hf.to_str())["model"]
    folder.mkdir()
    encoder = dict(model["vocab"], **{EOT: len(model["vocab"])})
    (folder / "encoder.json").write_text(json.dumps(encoder))
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    (folder / "vocab.bpe").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_gpt2_vocabulary_import(trained, tokenized, held_out, tmp_path, monkeypatch):
    tokdir, hf = trained
    src = write_data_gym(hf, tmp_path / "gpt2")
    assert webtext(["train-tokenizer", "--from-gpt2", str(src), "--out", str(tmp_path / "tok")]) == 0
    enc = load_encoding(tmp_path / "tok")
    # tiktoken's own reader of these files agrees with ours, and the ids are encoder.json's
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    assert enc._mergeable_ranks == tiktoken.load.data_gym_to_mergeable_bpe_ranks(str(src / "vocab.bpe"), str(src / "encoder.json"))
    assert enc.eot_token == json.loads((src / "encoder.json").read_text())[EOT]
    # and it encodes as a BPE loaded the classic way (vocab + merges files) does
    classic = Tokenizer(models.BPE.from_file(str(src / "encoder.json"), str(src / "vocab.bpe")))
    classic.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    classic.decoder = decoders.ByteLevel()
    assert enc.encode_ordinary_batch(held_out) == [e.ids for e in classic.encode_batch(held_out)]
    # shards made with it are the ones made with the tokenizer it was exported from
    corpus, out = tokenized
    assert webtext(["tokenize", "--corpus", str(corpus), "--tokenizer", str(tmp_path / "tok"), "--out",
                    str(tmp_path / "bin"), "--shard-tokens", "60000", "--val-tokens", "25000", "--workers", "1"]) == 0
    assert (tmp_path / "bin/train_000000.bin").read_bytes() == (out / "train_000000.bin").read_bytes()


def test_gpt2_files_that_disagree_are_refused(trained, tmp_path, capsys):
    src = write_data_gym(trained[1], tmp_path / "gpt2")
    lines = (src / "vocab.bpe").read_text().splitlines()
    lines[5], lines[6] = lines[6], lines[5]  # merge order no longer matches the ids
    (src / "vocab.bpe").write_text("\n".join(lines) + "\n")
    assert webtext(["train-tokenizer", "--from-gpt2", str(src), "--out", str(tmp_path / "tok")]) == 2
    assert "does not make token id" in capsys.readouterr().err


# --- user mistakes: one line, exit status 2 -------------------------------------------------------------


def _mistakes(tmp: Path, tokdir: Path) -> list[tuple[list[str], str]]:
    good = write_corpus(tmp / "good", ["one document", "another document"], files=1)
    (tmp / "empty").mkdir()
    notext = tmp / "notext"
    notext.mkdir()
    pq.write_table(pa.table({"body": ["x"]}), notext / "a.parquet")
    ints = tmp / "ints"
    ints.mkdir()
    pq.write_table(pa.table({"text": [1, 2]}), ints / "a.parquet")
    broken = tmp / "broken"
    broken.mkdir()
    (broken / "a.parquet").write_bytes(b"not parquet at all")
    (tmp / "tokless").mkdir()
    used = tmp / "used"
    used.mkdir()
    (used / "meta.json").write_text("{}")
    tok = ["--tokenizer", str(tokdir)]
    return [
        (["tokenize", "--corpus", str(tmp / "missing"), *tok, "--out", str(tmp / "o")], "does not exist"),
        (["tokenize", "--corpus", str(tmp / "empty"), *tok, "--out", str(tmp / "o")], "no .parquet files"),
        (["tokenize", "--corpus", str(notext), *tok, "--out", str(tmp / "o")], "no 'text' column"),
        (["tokenize", "--corpus", str(ints), *tok, "--out", str(tmp / "o")], "not a string"),
        (["tokenize", "--corpus", str(broken), *tok, "--out", str(tmp / "o")], "not a readable Parquet"),
        (["tokenize", "--corpus", str(good), "--tokenizer", str(tmp / "tokless"), "--out", str(tmp / "o")], "has no tokenizer"),
        (["tokenize", "--corpus", str(good), *tok, "--out", str(used)], "--overwrite"),
        (["tokenize", "--corpus", str(good), *tok], "--out"),
        (["tokenize", "--corpus", str(good), *tok, "--out", str(tmp / "o"), "--shard-tokens", "lots"], "cannot read 'lots' as a number"),
        (["train-tokenizer", "--corpus", str(good), "--vocab-size", "100", "--out", str(tmp / "t")], "at least 257"),
        (["train-tokenizer", "--corpus", str(tmp / "empty"), "--out", str(tmp / "t")], "no .parquet files"),
        (["train-tokenizer", "--from-gpt2", str(tmp / "empty"), "--out", str(tmp / "t")], "vocab.bpe"),
        (["train-tokenizer", "--out", str(tmp / "t")], "one of the arguments"),
    ]


def test_user_mistakes_are_one_line_and_exit_2(trained, tmp_path, capsys):
    for argv, expected in _mistakes(tmp_path, trained[0]):
        rc = webtext(argv)
        err = capsys.readouterr().err
        assert rc == 2, argv
        assert err.startswith(f"webtext {argv[0]}: error: ") and err.count("\n") == 1, err
        assert expected in err, (argv, err)
