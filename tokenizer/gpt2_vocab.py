"""Import OpenAI's original GPT-2 vocabulary (`encoder.json` + `vocab.bpe`) into a tokenizer folder, offline.

Shards made with it use the token ids that published GPT-2 checkpoints expect. The user supplies the two
files (nothing is downloaded). encoder.json maps GPT-2 byte-level token strings to ids; vocab.bpe lists the
merges in priority order after a `#version` line. The ids are kept as they are, so `<|endoftext|>` stays
50256, and we check that merge number i makes the token with id 256 + i: that is what lets tiktoken's
rank-ordered BPE reproduce GPT-2's merge-ordered one.

tiktoken has a reader for these files (tiktoken.load.data_gym_to_mergeable_bpe_ranks), but it caches file
contents by path in a temp folder without a hash, so a changed file at the same path would be read stale;
the format is simple enough to read here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from webtext.errors import UserError
from webtext.tokenizer import encoding

SPECIALS = ("<|endoftext|>", "<|startoftext|>")


def read_data_gym(vocab_bpe: Path, encoder_json: Path) -> dict[bytes, int]:
    """Token bytes -> id from GPT-2's two files, checked to agree with each other."""
    table = encoding.gpt2_unicode_to_bytes()
    try:
        encoder = json.loads(encoder_json.read_text(encoding="utf-8"))
        ranks = {encoding.token_str_to_bytes(tok, table): int(i) for tok, i in encoder.items() if tok not in SPECIALS}
    except (ValueError, AttributeError, TypeError) as e:
        raise UserError(f"{encoder_json}: not a GPT-2 encoder.json ({e})") from None
    if encoder.get(encoding.EOT, len(ranks)) != len(ranks):
        raise UserError(f"{encoder_json}: {encoding.EOT} has id {encoder[encoding.EOT]}, expected {len(ranks)} (after every BPE token)")
    try:
        encoding.check_ranks(ranks)
    except ValueError as e:
        raise UserError(f"{encoder_json}: {e}") from None

    lines = vocab_bpe.read_text(encoding="utf-8").splitlines()
    merges = [ln for ln in lines if ln.strip() and not ln.startswith("#version")]
    if len(merges) != len(ranks) - 256:
        raise UserError(f"{vocab_bpe} has {len(merges)} merges but {encoder_json} has {len(ranks) - 256} merged tokens")
    for i, line in enumerate(merges):
        parts = line.split(" ")
        if len(parts) != 2:
            raise UserError(f"{vocab_bpe}: merge {i + 1} is not two tokens: {line!r}")
        merged = b"".join(encoding.token_str_to_bytes(p, table) for p in parts)
        if ranks.get(merged) != 256 + i:
            raise UserError(f"{vocab_bpe}: merge {i + 1} ({line!r}) does not make token id {256 + i} of {encoder_json}")
    return ranks


def import_gpt2(src_dir: str | os.PathLike, out_dir: str | os.PathLike) -> dict:
    """`webtext train-tokenizer --from-gpt2 DIR --out TOKDIR`; returns tokenizer.json's contents."""
    src = Path(src_dir)
    files = [src / "vocab.bpe", src / "encoder.json"]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise UserError(f"--from-gpt2 {src}: no {' or '.join(missing)} there (GPT-2's vocab.bpe and encoder.json)")
    ranks = read_data_gym(*files)
    return encoding.save_tokenizer(out_dir, ranks, name="gpt2", extra={"imported_from": str(src.resolve())})
