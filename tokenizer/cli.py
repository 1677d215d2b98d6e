"""`webtext train-tokenizer` and `webtext tokenize`.

    webtext train-tokenizer --corpus DIR --vocab-size 50257 --out TOKDIR [--max-chars N] [--min-frequency 2]
    webtext train-tokenizer --from-gpt2 DIR --out TOKDIR     (GPT-2's own vocab.bpe + encoder.json, no training)
    webtext tokenize --corpus DIR --tokenizer TOKDIR --out BINDIR [--shard-tokens N] [--val-tokens N] [--workers N]
"""

from __future__ import annotations

from webtext.cli_args import ArgumentParser, count
from webtext.errors import UserError
from webtext.tokenizer.train_bpe import DEFAULT_MIN_FREQUENCY, DEFAULT_VOCAB_SIZE


def train_tokenizer_main(argv: list[str]) -> int:
    ap = ArgumentParser(prog="webtext train-tokenizer",
                 description="Train a GPT-2-style byte-level BPE on a corpus's text column, or import GPT-2's own vocabulary.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--corpus", metavar="DIR", help="folder of Parquet files with a 'text' column")
    src.add_argument("--from-gpt2", metavar="DIR", help="folder with GPT-2's vocab.bpe and encoder.json: convert, don't train")
    ap.add_argument("--out", required=True, metavar="TOKDIR", help="tokenizer folder to write (tokenizer.tiktoken, tokenizer.json)")
    ap.add_argument("--vocab-size", type=count, default=DEFAULT_VOCAB_SIZE, metavar="N",
                    help="tokens in all, <|endoftext|> included (default: %(default)s, GPT-2's)")
    ap.add_argument("--max-chars", type=count, metavar="N", help="train on a sample of about N characters, drawn from every file (default: all the text)")
    ap.add_argument("--min-frequency", type=int, default=DEFAULT_MIN_FREQUENCY, metavar="N", help="a pair must occur N times to be merged")
    ap.add_argument("--progress", action="store_true", help="show the trainer's progress bars")
    args = ap.parse_args(argv)

    if args.from_gpt2:
        from webtext.tokenizer.gpt2_vocab import import_gpt2

        meta = import_gpt2(args.from_gpt2, args.out)
        print(f"imported GPT-2's vocabulary: n_vocab {meta['n_vocab']:,}, {meta['fingerprint']} -> {args.out}")
        return 0

    if not 257 <= args.vocab_size < 2**31:
        raise UserError(f"--vocab-size {args.vocab_size}: must be at least 257 (256 bytes + <|endoftext|>) and below 2^31")
    if args.max_chars is not None and args.max_chars < 1:
        raise UserError("--max-chars must be positive")
    if args.min_frequency < 0:
        raise UserError("--min-frequency must be 0 or more")
    from webtext.tokenizer.train_bpe import train_corpus

    meta = train_corpus(args.corpus, args.vocab_size, args.out, max_chars=args.max_chars,
                        min_frequency=args.min_frequency, progress=args.progress)
    seen = meta["trained_on"]
    note = "" if meta["n_vocab"] == args.vocab_size else f" (the corpus supports no more than {meta['n_vocab']:,})"
    print(f"trained on {seen['docs']:,} docs, {seen['chars']:,} chars: n_vocab {meta['n_vocab']:,}{note}; "
          f"tiktoken matches the trainer on {meta['checked_equal_to_trainer']['tokens']:,} tokens -> {args.out}")
    return 0


def tokenize_main(argv: list[str]) -> int:
    from webtext.tokenizer import tokenize_corpus as tc

    ap = ArgumentParser(prog="webtext tokenize", description="Encode a corpus's text column into llm.c-format token shards.")
    ap.add_argument("--corpus", required=True, metavar="DIR", help="folder of Parquet files with a 'text' column")
    ap.add_argument("--tokenizer", required=True, metavar="TOKDIR", help="tokenizer folder (webtext train-tokenizer)")
    ap.add_argument("--out", required=True, metavar="BINDIR", help="folder for train_*.bin, val_*.bin, meta.json")
    ap.add_argument("--shard-tokens", type=count, default=tc.DEFAULT_SHARD_TOKENS, metavar="N",
                    help="tokens per shard")
    ap.add_argument("--val-tokens", type=count, default=tc.DEFAULT_VAL_TOKENS, metavar="N",
                    help="validation split: whole documents from the corpus start until N tokens, at most half the "
                         "documents; 0 for none")
    ap.add_argument("--workers", type=int, default=0, metavar="N", help="encoding processes (default: every core)")
    ap.add_argument("--overwrite", action="store_true", help="replace the shards and meta.json already in BINDIR")
    ap.add_argument("--format", default="llmc", choices=tc.FORMATS,
                    help="llmc: llm.c shards (train_*.bin, val_*.bin, 1024-byte headers); nanogpt: nanoGPT's train.bin, "
                         "val.bin (raw uint16) and meta.pkl, for nanoGPT's train.py as it is")
    args = ap.parse_args(argv)
    if args.workers < 0:
        raise UserError("--workers must be 0 (every core) or more")
    tc.tokenize_corpus(args.corpus, args.tokenizer, args.out, shard_tokens=args.shard_tokens,
                       val_tokens=args.val_tokens, workers=args.workers or None, overwrite=args.overwrite, fmt=args.format)
    return 0
