"""The tokenizer folder in Hugging Face's format, next to tiktoken's: `tokenizer.json` (HF tokenizers),
`tokenizer_config.json` and `special_tokens_map.json` (transformers), so that
`AutoTokenizer.from_pretrained(TOKDIR)` and `tokenizers.Tokenizer.from_file(...)` load the folder as
it is, and encode exactly as tiktoken does from `tokenizer.tiktoken`.

The HF file is made from the ranks, whatever made them (our trainer, GPT-2's own files): a byte-level
BPE whose vocabulary is the ranks in GPT-2's byte-to-character alphabet and whose merge list is
recovered from the ranks (each token splits, by BPE with the ranks below its own, into the two tokens
whose merge made it, the same derivation Hugging Face uses to convert tiktoken models). GPT-2's split
pattern is HF's ByteLevel pre-tokenizer; any other is a Split on that regex before it.
"""

from __future__ import annotations

import json

from webtext.errors import UserError

HF_FILE = "tokenizer.json"
TRANSFORMERS_FILES = ("tokenizer_config.json", "special_tokens_map.json")


def _two_parts(ranks: dict[bytes, int], token: bytes, rank: int) -> tuple[bytes, bytes] | None:
    """The merge that made `token`: BPE on its bytes with only the ranks below its own; None for a
    token no merge makes (tiktoken allows such tokens; BPE never reaches them, in either library)."""
    parts = [bytes([b]) for b in token]
    while len(parts) > 2:
        best, best_rank = None, None
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < rank and (best_rank is None or r < best_rank):
                best, best_rank = i, r
        if best is None:
            break
        parts[best : best + 2] = [parts[best] + parts[best + 1]]
    return (parts[0], parts[1]) if len(parts) == 2 else None


def hf_tokenizer(ranks: dict[bytes, int], pat_str: str, special_tokens: dict[str, int]):
    """A `tokenizers.Tokenizer` that encodes as tiktoken does with these ranks, pattern and specials."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

    from webtext.tokenizer.encoding import GPT2_PAT_STR, gpt2_bytes_to_unicode

    table = gpt2_bytes_to_unicode()
    text = lambda b: "".join(table[x] for x in b)  # noqa: E731
    vocab = {text(tok): rank for tok, rank in ranks.items()}
    pairs = (_two_parts(ranks, tok, rank) for tok, rank in sorted(ranks.items(), key=lambda kv: kv[1]) if len(tok) > 1)
    merges = [(text(a), text(b)) for a, b in filter(None, pairs)]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False, ignore_merges=False))
    if pat_str == GPT2_PAT_STR:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(pat_str), behavior="isolated"),
                                                     pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    for name, token_id in sorted(special_tokens.items(), key=lambda kv: kv[1]):
        if tok.get_vocab_size(with_added_tokens=True) != token_id:
            raise ValueError(f"special token {name} has id {token_id}, after {tok.get_vocab_size()} tokens")
        tok.add_special_tokens([AddedToken(name, special=True, normalized=False)])
    return tok


def transformers_files(meta: dict, max_length: int | None = None) -> dict[str, dict]:
    """tokenizer_config.json and special_tokens_map.json for transformers' AutoTokenizer."""
    from webtext.tokenizer.encoding import EOT

    special = {"bos_token": EOT, "eos_token": EOT, "unk_token": EOT}
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False,
              "add_prefix_space": False, "model_max_length": max_length or 1_000_000_000_000_000_019_884_624_838_656,
              **special}
    return {"tokenizer_config.json": config, "special_tokens_map.json": special}


def check_same(tok, enc, texts) -> None:
    """Raise if the HF tokenizer and tiktoken encode any of `texts` differently.

    A text that spells a special token ("<|endoftext|>" quoted in a page) is left out: Hugging Face
    reads the string as the special token (as tiktoken's `encode(..., allowed_special="all")`),
    where the corpus tokenizer (`encode_ordinary`) keeps it as text."""
    specials = list(enc.special_tokens_set)
    for i, text in enumerate(texts):
        if any(s in text for s in specials):
            continue
        ours, theirs = enc.encode_ordinary(text), tok.encode(text, add_special_tokens=False).ids
        if ours != theirs:
            raise ValueError(f"the Hugging Face tokenizer and tiktoken disagree on text {i}")


def write_hf_files(tokdir, meta: dict, ranks: dict[bytes, int], texts=(), max_length: int | None = None) -> None:
    """Write tokenizer.json (HF), tokenizer_config.json and special_tokens_map.json into `tokdir`,
    after checking the HF tokenizer encodes `texts` (and a few probes) exactly as tiktoken does."""
    from pathlib import Path

    from webtext import atomic
    from webtext.tokenizer.encoding import _PROBES, build_encoding

    try:
        tok = hf_tokenizer(ranks, meta["pat_str"], meta["special_tokens"])
        check_same(tok, build_encoding(meta, ranks), [*_PROBES, *texts])
    except Exception as e:  # noqa: BLE001 - tokenizers raises plain Exception for a regex it cannot take
        raise UserError(f"cannot write the tokenizer in Hugging Face's format: {e}") from None
    tokdir = Path(tokdir)
    atomic.write_text(tokdir / HF_FILE, tok.to_str(pretty=True))
    for name, content in transformers_files(meta, max_length).items():
        atomic.write_json(tokdir / name, content, indent=2)


def is_hf_tokenizer_json(path) -> bool:
    try:
        return "model" in json.loads(open(path, encoding="utf-8").read())
    except (OSError, ValueError):
        return False
