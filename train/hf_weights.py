"""Our GPT and Hugging Face's GPT-2 (and GPT-1) are the same network; here are the name and layout maps.

    ours                      GPT2LMHeadModel                      OpenAIGPTLMHeadModel (post_ln, gpt1)
    wte.weight                transformer.wte.weight (= lm_head)   transformer.tokens_embed.weight
    wpe.weight                transformer.wpe.weight               transformer.positions_embed.weight
    h.i.ln_1/ln_2             transformer.h.i.ln_1/ln_2            transformer.h.i.ln_1/ln_2
    h.i.attn.c_attn/c_proj    transformer.h.i.attn.c_attn/c_proj   the same
    h.i.mlp.c_fc/c_proj       transformer.h.i.mlp.c_fc/c_proj      the same
    ln_f                      transformer.ln_f                     (none: GPT-1 has no final LayerNorm)

HF keeps GPT-2's Conv1D layers, whose weight is our nn.Linear weight transposed ([in, out] against
[out, in]); the four matmul weights of each block are transposed on the way. The output layer is the
token embedding in both (tied). Our embedding may carry padding rows (a vocabulary rounded up to a
multiple of 64 for speed); HF gets exactly the real vocabulary.
"""

from __future__ import annotations

import re

import torch

from webtext.errors import UserError
from webtext.train.model import GPT, GPTConfig

_TRANSPOSED = re.compile(r"^h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$")


def _hf_name(name: str, gpt1: bool) -> str:
    if name == "wte.weight":
        return "transformer.tokens_embed.weight" if gpt1 else "transformer.wte.weight"
    if name == "wpe.weight":
        return "transformer.positions_embed.weight" if gpt1 else "transformer.wpe.weight"
    return f"transformer.{name}"


def to_hf(model: GPT) -> tuple[dict, dict]:
    """(HF config dict, HF state dict without the tied lm_head) of our model."""
    cfg: GPTConfig = model.config
    gpt1 = cfg.post_ln
    state = {}
    for name, tensor in model.state_dict().items():
        t = tensor.detach().to("cpu", torch.float32)
        if name == "wte.weight":
            t = t[: cfg.n_vocab]  # padding rows are not tokens
        if _TRANSPOSED.match(name):
            t = t.t()
        state[_hf_name(name, gpt1)] = t.contiguous()
    common = {"n_layer": cfg.n_layer, "n_head": cfg.n_head, "n_embd": cfg.n_embd, "n_positions": cfg.block_size,
              "vocab_size": cfg.n_vocab, "layer_norm_epsilon": 1e-5, "initializer_range": 0.02,
              "resid_pdrop": cfg.dropout, "embd_pdrop": cfg.dropout, "attn_pdrop": cfg.dropout, "tie_word_embeddings": True}
    if gpt1:
        # OpenAIGPT's afn "gelu" is GELU's tanh form in transformers (its ACT_FNS maps it to gelu_new), as ours
        config = {"model_type": "openai-gpt", "architectures": ["OpenAIGPTLMHeadModel"], "afn": "gelu", **common}
    else:
        config = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "activation_function": "gelu_new",
                  "n_inner": None, "scale_attn_weights": True, **common}
    return config, state


def gpt_config_from_hf(hf: dict, pad_vocab: int = 1) -> GPTConfig:
    """Our GPTConfig for an HF GPT-2 config.json; a UserError for another architecture."""
    kind = hf.get("model_type")
    if kind not in ("gpt2", "openai-gpt"):
        raise UserError(f"--init-from: model_type {kind!r} is not GPT-2-shaped (gpt2 or openai-gpt)")
    try:
        n_layer, n_head, n_embd = int(hf["n_layer"]), int(hf["n_head"]), int(hf["n_embd"])
        block, vocab = int(hf["n_positions"]), int(hf["vocab_size"])
    except (KeyError, TypeError, ValueError) as e:
        raise UserError(f"--init-from: config.json lacks a GPT-2 shape field ({e})") from None
    # GELU's tanh form: GPT-2's "gelu_new"; OpenAIGPT's "gelu" is that same function in transformers
    act = hf.get("activation_function", "gelu_new") if kind == "gpt2" else {"gelu": "gelu_new"}.get(hf.get("afn", "gelu"), hf.get("afn"))
    if act not in ("gelu_new", "gelu_pytorch_tanh"):
        raise UserError(f"--init-from: activation {act!r}; this GPT uses GELU's tanh form (gelu_new)")
    if hf.get("n_inner") not in (None, 4 * n_embd) or not hf.get("tie_word_embeddings", True):
        raise UserError("--init-from: a GPT-2 with a 4x MLP and tied embeddings is needed")
    rows = -(-vocab // pad_vocab) * pad_vocab if pad_vocab > 1 else vocab
    try:
        return GPTConfig(n_layer, n_head, n_embd, block, rows, vocab, float(hf.get("resid_pdrop", 0.0) or 0.0), kind == "openai-gpt")
    except ValueError as e:
        raise UserError(f"--init-from: {e}") from None


def from_hf(state: dict, cfg: GPTConfig) -> dict:
    """Our state dict from an HF GPT-2/GPT-1 state dict, every shape checked (a UserError names the first
    that does not fit); padding rows of the embedding start as zeros."""
    gpt1 = cfg.post_ln
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in GPT(cfg).state_dict().items()}
    out = {}
    for name, shape in shapes.items():
        key = _hf_name(name, gpt1)
        if key not in state:
            raise UserError(f"--init-from: the checkpoint has no {key}")
        t = state[key].to(torch.float32)
        if _TRANSPOSED.match(name):
            t = t.t()
        if name == "wte.weight" and t.shape[0] < shape[0]:
            t = torch.cat([t, torch.zeros(shape[0] - t.shape[0], t.shape[1])])
        if tuple(t.shape) != shape:
            raise UserError(f"--init-from: {key} has shape {tuple(t.shape)}, the model needs {shape}")
        out[name] = t.contiguous()
    return out


def load_hf_folder(folder: str, dropout: float = 0.0) -> tuple[GPTConfig, dict]:
    """(GPTConfig, our state dict) of a Hugging Face GPT-2 folder: train-on-shards --init-from."""
    import json
    from pathlib import Path

    folder = Path(folder)
    files = [folder / "config.json", folder / "model.safetensors"]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise UserError(f"--init-from {folder}: no {' or '.join(missing)} there (a transformers save_pretrained folder)")
    try:
        from safetensors.torch import load_file

        hf_config, state = json.loads(files[0].read_text()), load_file(str(files[1]))
    except Exception as e:  # noqa: BLE001 - a damaged JSON or safetensors file
        raise UserError(f"--init-from {folder}: unreadable ({type(e).__name__}: {e})") from None
    cfg = gpt_config_from_hf(hf_config)
    cfg.dropout = dropout
    return cfg, from_hf(state, cfg)
