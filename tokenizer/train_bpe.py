"""Train a GPT-2-style byte-level BPE on a corpus with HF `tokenizers`, and save it for tiktoken.

The trainer is HF's Rust BpeTrainer (fed batches as they stream out of Parquet; it keeps only word
counts, so a corpus larger than memory trains fine). Its setup mirrors GPT-2: GPT-2's split regex, the
256 bytes as the base alphabet, no prefix space, no normaliser, and `<|endoftext|>` as the one special
token, added after training so it takes the last id (as GPT-2's 50256 does).

Why the conversion is exact: the trainer gives each new token the next free id, so a merged token's id
is its merge's position, and the 256 byte tokens come first (in GPT-2's byte order). tiktoken treats a
token's id as its merge priority, so using HF's ids as tiktoken ranks gives the same merges in the same
order. tiktoken's rule (merge any adjacent pair whose concatenation is a token) is looser than HF's
(merge only listed pairs), so equality is an empirical property of trained vocabularies, and train()
checks it on a sample of the training text before saving anything.
"""

from __future__ import annotations

import json
import os
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator

from webtext.errors import UserError
from webtext.tokenizer import encoding

CHECK_CHARS = 2_000_000
DEFAULT_VOCAB_SIZE = 50257  # GPT-2's: 256 bytes + 50,000 merges + <|endoftext|>
DEFAULT_MIN_FREQUENCY = 2  # training text kept to compare tiktoken's encoding with the trainer's


def new_hf_tokenizer():
    """An untrained HF tokenizer set up as GPT-2's."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    return tok


def hf_to_ranks(hf_tokenizer) -> dict[bytes, int]:
    """tiktoken ranks from a trained HF byte-level BPE: token bytes -> HF id (specials left out)."""
    model = json.loads(hf_tokenizer.to_str())["model"]
    table = encoding.gpt2_unicode_to_bytes()
    specials = {t.content for t in hf_tokenizer.get_added_tokens_decoder().values()}
    ranks = {encoding.token_str_to_bytes(tok, table): i for tok, i in model["vocab"].items() if tok not in specials}
    if len(ranks) != len(model["vocab"]) - len(specials):
        raise RuntimeError("two HF tokens decode to the same bytes; not a GPT-2 byte-level vocabulary")
    encoding.check_ranks(ranks)
    return ranks


def _keep_sample(batches: Iterable[list[str]], sample: list[str], limit: int) -> Iterator[list[str]]:
    """Pass batches through, keeping the first `limit` characters' worth of documents in `sample`."""
    kept = 0
    for batch in batches:
        for text in batch:
            if kept >= limit:
                break
            sample.append(text)
            kept += len(text)
        yield batch


def check_same_encoding(enc, hf_tokenizer, texts: list[str]) -> int:
    """Raise if tiktoken and the HF tokenizer encode any text differently; returns the tokens compared."""
    ours = enc.encode_ordinary_batch(texts)
    theirs = [e.ids for e in hf_tokenizer.encode_batch(texts, add_special_tokens=False)]
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            at = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            raise RuntimeError(f"tiktoken and the trainer disagree on sample document {i} at token {at}")
    return sum(map(len, ours))


def train(batches: Iterable[list[str]], vocab_size: int, out_dir: str | os.PathLike, *, min_frequency: int = DEFAULT_MIN_FREQUENCY,
          name: str = "webtext-bpe", trained_on: dict | None = None, progress: bool = False) -> dict:
    """Train on batches of texts and write the tokenizer folder; returns tokenizer.json's contents.

    `vocab_size` counts every token, `<|endoftext|>` included (GPT-2: 50257). A corpus too small to
    support that many merges gives a smaller vocabulary; the returned n_vocab says which.
    """
    from tokenizers import pre_tokenizers, trainers

    if vocab_size < 257:
        raise ValueError("vocab_size must be at least 257 (256 bytes + <|endoftext|>)")
    hf = new_hf_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - 1,  # the special token is added afterwards
        min_frequency=min_frequency,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes, seen in the corpus or not
        special_tokens=[],
        show_progress=progress,
    )
    sample: list[str] = []
    counted = {"docs": 0, "chars": 0}

    def counting(batches):
        for batch in batches:
            counted["docs"] += len(batch)
            counted["chars"] += sum(map(len, batch))
            yield batch

    hf.train_from_iterator(_keep_sample(counting(batches), sample, CHECK_CHARS), trainer)
    if counted["docs"] == 0:
        raise ValueError("no documents to train on")
    ranks = hf_to_ranks(hf)
    # checked before <|endoftext|> is added: a page that contains that string literally is plain text to both
    plain = encoding.build_encoding({"pat_str": encoding.GPT2_PAT_STR, "special_tokens": {}, "n_vocab": len(ranks)}, ranks)
    checked = check_same_encoding(plain, hf, sample)
    extra = {
        "vocab_size_requested": vocab_size,
        "trainer": f"huggingface tokenizers BpeTrainer (min_frequency={min_frequency})",
        "trained_on": {**(trained_on or {}), **counted},
        "checked_equal_to_trainer": {"docs": len(sample), "tokens": checked},
    }
    # The folder's Hugging Face files are made from the ranks (as for any tokenizer folder) and checked
    # on the same sample to encode as tiktoken does, so they encode as this trainer did too.
    meta = encoding.save_tokenizer(out_dir, ranks, name=name, extra=extra, check_texts=sample)
    return meta


def train_corpus(corpus_dir: str | os.PathLike, vocab_size: int, out_dir: str | os.PathLike, *,
                 max_chars: int | None = None, min_frequency: int = DEFAULT_MIN_FREQUENCY, progress: bool = False) -> dict:
    """`webtext train-tokenizer`: train on a corpus folder's `text` column (or a sample of --max-chars)."""
    from webtext.tokenizer.corpus import iter_texts, list_corpus

    files = list_corpus(corpus_dir)
    batches = iter_texts(files, max_chars=max_chars)
    first = next(batches, None)
    if first is None:
        raise UserError(f"{corpus_dir}: no non-null text to train on")
    trained_on = {"corpus": str(Path(corpus_dir).resolve()), "files": len(files), "max_chars": max_chars}
    return train(chain([first], batches), vocab_size, out_dir, min_frequency=min_frequency,
                 name=Path(out_dir).name or "webtext-bpe", trained_on=trained_on, progress=progress)
