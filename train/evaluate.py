"""`webtext eval`: a model's loss, perplexity and bits per byte on token shards or on a Parquet corpus.

    webtext eval --run RUNDIR --data BINDIR            # its validation shards (val_*.bin; --split train)
    webtext eval --run RUNDIR --data CORPUS            # any Parquet corpus, tokenized on the fly

Loss and perplexity are per token, so they depend on the tokenizer: a model with a larger vocabulary
predicts fewer, harder tokens. Bits per byte divides the same total negative log-likelihood by the UTF-8
bytes of the text the predicted tokens stand for, so models with different tokenizers compare:

    bits per byte = sum over predicted tokens of -ln p(token) / (ln 2 * sum of their byte lengths)

A token's byte length is the length of its bytes in the tokenizer's vocabulary; the <|endoftext|> that
starts every document stands for no text (0 bytes) but its prediction is counted in the loss, as it is
in training. The text is cut into the same windows training validates on: non-overlapping runs of
T + 1 tokens, each scored alone (the first token of a window is context only, never predicted).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from webtext.cli_args import ArgumentParser
from webtext.errors import UserError


def byte_lengths(tokdir: str | Path, rows: int | None = None) -> torch.Tensor:
    """UTF-8 byte length of every token id of a tokenizer folder (special tokens 0), as an int64 tensor
    of `rows` entries (the model's padded vocabulary; ids past the tokenizer's have 0)."""
    from webtext.tokenizer.encoding import read_tokenizer

    meta, ranks = read_tokenizer(tokdir)
    lengths = np.zeros(max(rows or 0, meta["n_vocab"]), dtype=np.int64)
    for token, rank in ranks.items():
        lengths[rank] = len(token)
    return torch.from_numpy(lengths)


@torch.no_grad()
def nll_and_bytes(model, batches, lengths: torch.Tensor | None, device, autocast) -> tuple[float, int, int]:
    """Summed negative log-likelihood (nats), predicted tokens and their bytes over (x, y) batches."""
    nll = torch.zeros((), dtype=torch.float64, device=device)
    nbytes = torch.zeros((), dtype=torch.int64, device=device)
    tokens = 0
    lengths = lengths.to(device) if lengths is not None else None
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        with autocast():
            _, loss = model(x, y)
        nll += loss.double() * y.numel()  # the model returns the mean over the batch's targets
        tokens += y.numel()
        if lengths is not None:
            nbytes += lengths[y].sum()
    return float(nll), tokens, int(nbytes)


def figures(nll: float, tokens: int, nbytes: int) -> dict:
    loss = nll / tokens
    return {"loss": loss, "perplexity": math.exp(min(loss, 700.0)), "tokens": tokens, "bytes": nbytes,
            "bits_per_byte": nll / (math.log(2) * nbytes) if nbytes else None,
            "bytes_per_token": nbytes / tokens if nbytes else None}


def _corpus_windows(corpus: Path, enc, eot: int, T: int, max_tokens: int | None) -> np.ndarray:
    """The corpus's documents encoded as `webtext tokenize` encodes them (<|endoftext|> then the text),
    cut into windows of T + 1 tokens; the last partial window is dropped, as in the shards' stream."""
    from webtext.tokenizer.corpus import iter_texts, list_corpus

    files = list_corpus(corpus)
    if not files:
        raise UserError(f"--data {corpus}: no Parquet shards and no token shards")
    need = None if max_tokens is None else (-(-max_tokens // T) + 1) * T
    pieces, have = [], 0
    for texts in iter_texts(files):
        for ids in enc.encode_ordinary_batch([t for t in texts if t]):
            pieces.append(np.array([eot, *ids], dtype=np.int64))
            have += len(ids) + 1
        if need is not None and have >= need:
            break
    tokens = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    n = (tokens.size - 1) // T if tokens.size else 0
    if max_tokens is not None:
        n = min(n, -(-max_tokens // T))
    if n == 0:
        raise UserError(f"--data {corpus}: fewer than {T + 1} tokens of text")
    return np.stack([tokens[i * T: i * T + T + 1] for i in range(n)])


def evaluate(run: str | None, data: str, *, checkpoint: str | None = None, split: str = "val",
             tokenizer: str | None = None, seq_len: int | None = None, batch_size: int = 8,
             max_tokens: int | None = None, device: str = "cpu", dtype: str = "fp32") -> dict:
    from webtext.train.data import ShardStream, find_shards, read_meta
    from webtext.train.inference import load_checkpoint, model_from, tokenizer_dir
    from webtext.train.device import autocast_for, resolve_device_and_dtype

    ckpt = load_checkpoint(run, checkpoint)
    dev, dtype = resolve_device_and_dtype(device, dtype)
    model = model_from(ckpt, dev)
    T = seq_len or int((ckpt.get("train_config") or {}).get("seq_len") or model.config.block_size)
    if T > model.config.block_size:
        raise UserError(f"--seq-len {T} is longer than the model's context ({model.config.block_size})")
    tokdir = tokenizer_dir(tokenizer, ckpt)
    datadir = Path(data)
    if not datadir.is_dir():
        raise UserError(f"--data {data}: no such folder")
    shards = find_shards(datadir, split)
    if shards:
        meta = read_meta(datadir)
        if tokdir is None and meta.get("tokenizer") and Path(meta["tokenizer"]).is_dir():
            tokdir = Path(meta["tokenizer"])
        want = (ckpt.get("meta") or {}).get("tokenizer_fingerprint")
        if want and meta.get("tokenizer_fingerprint") and meta["tokenizer_fingerprint"] != want:
            raise UserError(f"--data {data} was tokenized with another tokenizer than the model's data "
                            f"(fingerprint {meta['tokenizer_fingerprint']} vs {want})")
        stream = ShardStream(shards, T, batch_size, shuffle=False)
        n = stream.total if max_tokens is None else max(1, min(stream.total, -(-max_tokens // T)))
        windows = np.stack([stream.window(g) for g in range(n)])
        source = {"shards": [str(p) for p in shards], "split": split}
    elif find_shards(datadir, "train" if split == "val" else "val"):
        raise UserError(f"--data {data} has no {split}_*.bin shards (try --split {'train' if split == 'val' else 'val'})")
    else:
        if tokdir is None:
            raise UserError("the model's tokenizer folder is not found; pass --tokenizer TOKDIR to tokenize the corpus")
        from webtext.tokenizer.encoding import load_encoding

        enc = load_encoding(tokdir)
        windows = _corpus_windows(datadir, enc, enc.eot_token, T, max_tokens)
        source = {"corpus": str(datadir)}
    if int(windows.max()) >= model.config.n_vocab:
        raise UserError(f"--data {data} holds token id {int(windows.max())}, past the model's vocabulary ({model.config.n_vocab:,})")
    lengths = byte_lengths(tokdir, model.config.vocab_size) if tokdir is not None else None
    rows = torch.from_numpy(windows)
    batches = ((rows[i:i + batch_size, :-1], rows[i:i + batch_size, 1:]) for i in range(0, len(rows), batch_size))
    nll, tokens, nbytes = nll_and_bytes(model, batches, lengths, dev, autocast_for(dev, dtype))
    out = figures(nll, tokens, nbytes)
    if lengths is None:
        out["note"] = "no tokenizer folder found: bits per byte needs the token byte lengths (pass --tokenizer)"
    out.update(data=source, seq_len=T, windows=len(rows), tokenizer=str(tokdir) if tokdir else None,
               step=int(ckpt.get("step", 0)), params=model.num_params(), n_vocab=model.config.n_vocab)
    return out


def main(argv: list[str]) -> int:
    ap = ArgumentParser(prog="webtext eval", description="Loss, perplexity and bits per byte of a model on token "
                        "shards or a Parquet corpus; prints JSON.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", metavar="RUNDIR", help="the newest checkpoint of a run folder")
    src.add_argument("--checkpoint", metavar="FILE", help="one checkpoint file")
    ap.add_argument("--data", required=True, metavar="BINDIR|CORPUS",
                    help="a folder of token shards (webtext tokenize) or of Parquet shards (build-corpus)")
    ap.add_argument("--split", default="val", choices=("val", "train"), help="which token shards of BINDIR")
    ap.add_argument("--tokenizer", metavar="TOKDIR", help="tokenizer folder (default: the one the model's data names)")
    ap.add_argument("--seq-len", type=int, metavar="T", help="tokens of context per window (default: the training run's)")
    ap.add_argument("--batch-size", type=int, default=8, help="windows per forward pass")
    ap.add_argument("--max-tokens", type=int, metavar="N", help="score at most about N tokens (default: all)")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    ap.add_argument("--dtype", default="fp32", help="fp32, bf16 or fp16 (autocast)")
    ap.add_argument("--out", metavar="FILE", help="also write the JSON here (atomically)")
    args = ap.parse_args(argv)
    for name in ("seq_len", "batch_size", "max_tokens"):
        if (v := getattr(args, name)) is not None and v < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, not {v}")
    result = evaluate(args.run, args.data, checkpoint=args.checkpoint, split=args.split, tokenizer=args.tokenizer,
                      seq_len=args.seq_len, batch_size=args.batch_size, max_tokens=args.max_tokens,
                      device=args.device, dtype=args.dtype)
    text = json.dumps(result, indent=2)
    if args.out:
        from webtext import atomic

        atomic.write_text(args.out, text + "\n")
    print(text)
    bpb = f", {result['bits_per_byte']:.4f} bits/byte" if result["bits_per_byte"] is not None else ""
    print(f"loss {result['loss']:.4f} nats/token, perplexity {result['perplexity']:.2f}{bpb} over "
          f"{result['tokens']:,} tokens", file=sys.stderr)
    return 0
