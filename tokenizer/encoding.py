"""The tokenizer folder: what a trained (or imported) BPE is on disk, and how tiktoken loads it.

    tokenizer.tiktoken       tiktoken's ranks file: one line per token, base64(token bytes) SPACE rank
    webtext-tokenizer.json   {"pat_str", "special_tokens": {"<|endoftext|>": id}, "n_vocab", "fingerprint", ...}
    tokenizer.json           the same tokenizer in Hugging Face's format (hf_format.py), with
    tokenizer_config.json    tokenizer_config.json and special_tokens_map.json: transformers'
    special_tokens_map.json  AutoTokenizer.from_pretrained(TOKDIR) loads the folder as it is

The first two are all tiktoken needs to encode and decode exactly as the trainer did; the HF files are
made from them and checked to encode alike. (Folders written before held our metadata in
`tokenizer.json` and the trainer's HF file as `hf-tokenizer.json`; they still read.)

A token's rank is its id, and for merged tokens it is also the merge priority (tiktoken's BPE merges the
adjacent pair whose concatenation has the lowest rank). The fingerprint is a sha256 over the ranks file,
the split pattern and the special tokens; the token shards' meta.json repeats it so shards and tokenizer
can be matched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path

from webtext import atomic
from webtext.errors import UserError

RANKS_FILE = "tokenizer.tiktoken"
META_FILE = "webtext-tokenizer.json"
LEGACY_META_FILE = "tokenizer.json"  # before the HF files took that name
EOT = "<|endoftext|>"

# GPT-2's pre-tokenizer split pattern (the one tiktoken's r50k_base/gpt2 use): contractions, letter runs,
# number runs and punctuation runs each with one optional leading space, then whitespace.
GPT2_PAT_STR = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def gpt2_bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map (used by encoder.json, vocab.bpe and HF ByteLevel).

    Printable Latin-1 bytes stand for themselves; the other 68 bytes (control characters, space, ...) are
    shifted to U+0100 and up, in byte order. Token strings in those files are sequences of these characters.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    shifted = (b for b in range(256) if b not in table)
    for n, b in enumerate(shifted):
        table[b] = chr(256 + n)
    return table


def gpt2_unicode_to_bytes() -> dict[str, int]:
    return {ch: b for b, ch in gpt2_bytes_to_unicode().items()}


def token_str_to_bytes(token: str, table: dict[str, int]) -> bytes:
    """Decode a GPT-2 byte-level token string (e.g. 'Ġthe') to its bytes (b' the')."""
    try:
        return bytes(table[ch] for ch in token)
    except KeyError as e:
        raise ValueError(f"token {token!r} has a character outside GPT-2's byte alphabet: {e.args[0]!r}") from None


def check_ranks(ranks: dict[bytes, int]) -> None:
    """The invariants tiktoken and our shards rely on: ids 0..n-1 once each, all 256 single bytes present."""
    ids = sorted(ranks.values())
    if ids != list(range(len(ids))):
        raise ValueError("token ranks are not the contiguous ids 0..n-1")
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise ValueError(f"{len(missing)} of the 256 single-byte tokens are missing (e.g. byte {missing[0]})")


def ranks_file_bytes(ranks: dict[bytes, int]) -> bytes:
    """tiktoken's ranks file, in rank order (what tiktoken.load.load_tiktoken_bpe reads)."""
    lines = (base64.b64encode(tok) + b" " + str(rank).encode() for tok, rank in sorted(ranks.items(), key=lambda kv: kv[1]))
    return b"\n".join(lines) + b"\n"


def parse_ranks_file(data: bytes, where: str) -> dict[bytes, int]:
    ranks = {}
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            tok, rank = line.split()
            token = binascii.a2b_base64(tok, strict_mode=True)  # 3x faster than base64.b64decode
            rank = int(rank)
        except (ValueError, binascii.Error):
            raise UserError(f"{where}: line {n} is not 'base64token rank'") from None
        if token in ranks:
            raise UserError(f"{where}: line {n} lists token {token!r} a second time")
        ranks[token] = rank
    return ranks


def fingerprint(ranks_bytes: bytes, pat_str: str, special_tokens: dict[str, int]) -> str:
    h = hashlib.sha256()
    for part in (ranks_bytes, pat_str.encode(), json.dumps(special_tokens, sort_keys=True).encode()):
        h.update(len(part).to_bytes(8, "little"))  # length-prefixed, so no two inputs hash alike by shifting bytes
        h.update(part)
    return "sha256:" + h.hexdigest()


def save_tokenizer(tokdir: str | os.PathLike, ranks: dict[bytes, int], *, name: str, pat_str: str = GPT2_PAT_STR,
                   extra: dict | None = None, check_texts=()) -> dict:
    """Write a tokenizer folder; `<|endoftext|>` gets the id right after the last ranked token (GPT-2's 50256).

    The Hugging Face files are written from the same ranks, checked to encode `check_texts` exactly
    as tiktoken does. Returns the webtext-tokenizer.json contents.
    """
    from webtext.tokenizer.hf_format import write_hf_files

    check_ranks(ranks)
    tokdir = Path(tokdir)
    tokdir.mkdir(parents=True, exist_ok=True)
    data = ranks_file_bytes(ranks)
    special = {EOT: len(ranks)}
    meta = {
        "name": name,
        "pat_str": pat_str,
        "special_tokens": special,
        "n_vocab": len(ranks) + len(special),
        "eot_token": special[EOT],
        "fingerprint": fingerprint(data, pat_str, special),
        **(extra or {}),
    }
    write_hf_files(tokdir, meta, ranks, check_texts)
    atomic.write_bytes(tokdir / RANKS_FILE, data)
    atomic.write_json(tokdir / META_FILE, meta, indent=2, ensure_ascii=False)  # last: the folder is complete
    return meta


def meta_path(tokdir: str | os.PathLike) -> Path | None:
    """The folder's webtext metadata: webtext-tokenizer.json, or (folders written before) a
    tokenizer.json that is ours rather than Hugging Face's."""
    tokdir = Path(tokdir)
    if (tokdir / META_FILE).is_file():
        return tokdir / META_FILE
    legacy = tokdir / LEGACY_META_FILE
    if legacy.is_file():
        try:
            if "pat_str" in json.loads(legacy.read_text(encoding="utf-8")):
                return legacy
        except (ValueError, UnicodeDecodeError, OSError):
            return legacy  # not JSON: read_tokenizer says so, in one line
    return None


def tokenizer_files(tokdir: str | os.PathLike) -> list[Path]:
    """Every file of a tokenizer folder that exists (what a copy of the folder must carry)."""
    from webtext.tokenizer.hf_format import HF_FILE, TRANSFORMERS_FILES

    names = (RANKS_FILE, META_FILE, LEGACY_META_FILE, HF_FILE, *TRANSFORMERS_FILES, "hf-tokenizer.json")
    return [Path(tokdir) / n for n in dict.fromkeys(names) if (Path(tokdir) / n).is_file()]


def copy_tokenizer(tokdir: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Copy a tokenizer folder's files into `dest` (each written atomically), so what was made with it
    (token shards, a fine-tuned run) can be decoded without the original."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for path in tokenizer_files(tokdir):
        atomic.write_bytes(dest / path.name, path.read_bytes())
    return dest


def read_tokenizer(tokdir: str | os.PathLike) -> tuple[dict, dict[bytes, int]]:
    """(tokenizer.json contents, ranks), checked against each other; a UserError for anything wrong."""
    tokdir = Path(tokdir)
    if not tokdir.is_dir():
        raise UserError(f"tokenizer folder {tokdir} does not exist")
    where = meta_path(tokdir)
    for missing, fname in ((not (tokdir / RANKS_FILE).is_file(), RANKS_FILE), (where is None, META_FILE)):
        if missing:
            raise UserError(f"tokenizer folder {tokdir} has no {fname} (make one with 'webtext train-tokenizer')")
    try:
        meta = json.loads(where.read_text(encoding="utf-8"))
        pat_str, special, n_vocab = meta["pat_str"], meta["special_tokens"], meta["n_vocab"]
    except (ValueError, KeyError, TypeError) as e:
        raise UserError(f"{where}: not a webtext tokenizer.json ({e.__class__.__name__}: {e})") from None
    if not isinstance(pat_str, str) or not isinstance(n_vocab, int) or isinstance(n_vocab, bool):
        raise UserError(f"{where}: pat_str must be a string and n_vocab an integer")
    if not isinstance(special, dict) or not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in special.items()):
        raise UserError(f"{where}: special_tokens must be an object of token -> id, e.g. {{\"{EOT}\": 50256}}")
    data = (tokdir / RANKS_FILE).read_bytes()
    ranks = parse_ranks_file(data, str(tokdir / RANKS_FILE))
    try:
        check_ranks(ranks)
    except ValueError as e:
        raise UserError(f"{tokdir / RANKS_FILE}: {e}") from None
    if EOT not in special:
        raise UserError(f"{where}: special_tokens has no {EOT}")
    ids = sorted(special.values())
    if ids[0] < len(ranks) or len(set(ids)) != len(ids):
        raise UserError(f"{where}: special token ids must be distinct and after the {len(ranks):,} ranked tokens, got {ids}")
    if len(ranks) + len(special) != n_vocab or ids[-1] >= n_vocab:
        raise UserError(f"{tokdir}: n_vocab {n_vocab} but the files hold {len(ranks) + len(special)} tokens (ids up to {ids[-1]})")
    if meta.get("fingerprint") not in (None, fingerprint(data, pat_str, special)):
        raise UserError(f"{tokdir}: fingerprint mismatch; {RANKS_FILE} and {where.name} do not belong together")
    return meta, ranks


# Text the split pattern must cut into pieces that cover it: letters of several scripts, digits,
# punctuation, every kind of whitespace, and long runs (where a pattern that backtracks badly gives up).
_PROBES = (
    "Hello, world! It's 2024: 3.14 x 10^9 -- \"quoted\" (parens) [x] {y} <z> a_b@c#d$e%f&g*h+i=j|k~l\\m/n?",
    "Grüße aus Köln, naïve café. Русский текст. 中文文本。日本語のテキスト。한국어 텍스트. العربية.",
    "tabs\tand\nnew\r\nlines   and\u00a0no-break\u3000spaces  \n\n",
    "a" * 5000 + "!" + " " * 3000 + "9" * 3000 + "." * 3000 + "\n" * 500 + "ab " * 1000,
)


def build_encoding(meta: dict, ranks: dict[bytes, int], name: str | None = None):
    """A tiktoken.Encoding from read_tokenizer()'s result, checked to encode text losslessly: a split
    pattern that does not compile, or whose pieces do not cover the text (tiktoken encodes only what
    the pattern matches; a pattern that backtracks catastrophically matches nothing), is a UserError."""
    import tiktoken

    try:
        enc = tiktoken.Encoding(
            name=name or meta.get("name", "webtext"),
            pat_str=meta["pat_str"],
            mergeable_ranks=ranks,
            special_tokens=meta["special_tokens"],
            explicit_n_vocab=meta["n_vocab"],
        )
        lossless = all(enc.decode(enc.encode_ordinary(text)) == text for text in _PROBES)
    except BaseException as e:  # tiktoken's Rust side reports some patterns with a PanicException (a BaseException)
        if not isinstance(e, Exception) and type(e).__name__ != "PanicException":
            raise
        raise UserError(f"tokenizer.json: pat_str or the vocabulary is not usable by tiktoken: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if not lossless:
        raise UserError("tokenizer.json: pat_str does not cut text into pieces that cover it (tokens would be lost)")
    return enc


def load_encoding(tokdir: str | os.PathLike):
    """A tiktoken.Encoding built from a tokenizer folder's two files alone (nothing is downloaded)."""
    return build_encoding(*read_tokenizer(tokdir))
