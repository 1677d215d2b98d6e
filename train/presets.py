"""Model shapes with published numbers: GPT-1, the four GPT-2 sizes, the eight GPT-3 rows, and `tiny`.

A preset fixes the architecture (layers, width, heads, context) and, for `webtext estimate`, the
vocabulary the paper used. When training, the vocabulary follows the tokenizer of the data instead
(see train/cli.py), because a 50,257-row embedding is wasted on a 4,096-token BPE.

Parameter counts. With biases everywhere, tied input/output embeddings and learned positions:

    N = V*d + T*d + L*(12*d*d + 13*d) + 2*d      (the last 2*d is the final LayerNorm; GPT-1 has none)

where 12*d*d + 13*d per block is qkv (3d*d + 3d), attention output (d*d + d), MLP (8d*d + 5d) and two
LayerNorms (4d). This gives gpt1 116,534,784; gpt2 124,439,808; gpt2-medium 354,823,168;
gpt2-large 774,030,080; gpt2-xl 1,557,611,200 -- the published counts, exactly (tests build the models
on the meta device and count).

GPT-3 (Brown et al. 2020, Table 2.1) has two typos, fixed here:
  * GPT-3 XL is listed with d_model 2048, 24 heads and d_head 128. 2048/24 is not an integer and
    24*128 = 3072 != 2048, so the head count must be 16 (16*128 = 2048). Head count does not change N.
  * GPT-3 13B is listed with d_model 5140 and 40 heads of 128. 40*128 = 5120, and only d_model 5120
    gives the 12,850M of Table D.1 (5140 would give 12,950M), so d_model is 5120.
The GPT-3 paper publishes rounded counts (Table D.1, "Params (M)"): `paper_params` below. Our exact
counts round to them (nearest 1M below 1B, nearest 10M above), which tests check row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

from webtext.errors import UserError

GPT2_VOCAB = 50257  # GPT-2/GPT-3 byte-level BPE: 50,000 merges + 256 bytes + <|endoftext|>
GPT1_VOCAB = 40478  # GPT-1's BPE: 40,000 merges + 478 base symbols


@dataclass(frozen=True)
class Preset:
    n_layer: int
    n_head: int
    n_embd: int
    block_size: int         # context length
    vocab_size: int         # the vocabulary of the paper (used by `estimate`, replaced by the data's when training)
    lr: float               # peak learning rate (GPT-3 Table 2.1; nanoGPT's 6e-4 for GPT-2 small)
    post_ln: bool = False   # GPT-1: LayerNorm after each residual add and no final LayerNorm
    paper_params: int | None = None  # the paper's own (rounded) count, when it only published a rounded one
    note: str = ""


PRESETS: dict[str, Preset] = {
    # For CPUs: ~0.8M parameters in the blocks; trains to a visibly falling loss in a minute or two.
    "tiny": Preset(4, 4, 128, 256, GPT2_VOCAB, 1e-3, note="for CPUs and tests"),
    "gpt1": Preset(12, 12, 768, 512, GPT1_VOCAB, 2.5e-4, post_ln=True, note="Radford et al. 2018"),
    "gpt2": Preset(12, 12, 768, 1024, GPT2_VOCAB, 6e-4, note="GPT-2 124M"),
    "gpt2-medium": Preset(24, 16, 1024, 1024, GPT2_VOCAB, 3e-4, note="GPT-2 350M"),
    "gpt2-large": Preset(36, 20, 1280, 1024, GPT2_VOCAB, 2.5e-4, note="GPT-2 774M"),
    "gpt2-xl": Preset(48, 25, 1600, 1024, GPT2_VOCAB, 2e-4, note="GPT-2 1.5B"),
    "gpt3-small": Preset(12, 12, 768, 2048, GPT2_VOCAB, 6.0e-4, paper_params=125_000_000),
    "gpt3-medium": Preset(24, 16, 1024, 2048, GPT2_VOCAB, 3.0e-4, paper_params=356_000_000),
    "gpt3-large": Preset(24, 16, 1536, 2048, GPT2_VOCAB, 2.5e-4, paper_params=760_000_000),
    "gpt3-xl": Preset(24, 16, 2048, 2048, GPT2_VOCAB, 2.0e-4, paper_params=1_320_000_000,
                      note="paper's 24 heads fixed to 16 (d_head 128)"),
    "gpt3-2.7b": Preset(32, 32, 2560, 2048, GPT2_VOCAB, 1.6e-4, paper_params=2_650_000_000),
    "gpt3-6.7b": Preset(32, 32, 4096, 2048, GPT2_VOCAB, 1.2e-4, paper_params=6_660_000_000),
    "gpt3-13b": Preset(40, 40, 5120, 2048, GPT2_VOCAB, 1.0e-4, paper_params=12_850_000_000,
                       note="paper's d_model 5140 fixed to 5120 (40 x 128)"),
    "gpt3-175b": Preset(96, 96, 12288, 2048, GPT2_VOCAB, 0.6e-4, paper_params=174_600_000_000),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise UserError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


def count_params(n_layer: int, n_embd: int, block_size: int, vocab_size: int, post_ln: bool = False) -> int:
    """Exact parameter count of train/model.py's GPT for these shapes (see the module docstring)."""
    d = n_embd
    final_ln = 0 if post_ln else 2 * d
    return vocab_size * d + block_size * d + n_layer * (12 * d * d + 13 * d) + final_ln


def preset_params(name: str, vocab_size: int | None = None) -> int:
    p = get_preset(name)
    return count_params(p.n_layer, p.n_embd, p.block_size, vocab_size or p.vocab_size, p.post_ln)
