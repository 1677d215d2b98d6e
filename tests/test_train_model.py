"""The GPT model and the presets: exact published parameter counts, GPT-2 structure and initialisation."""

from __future__ import annotations

import math

import pytest
import torch

from webtext.train.model import GPT, GPTConfig
from webtext.train.presets import PRESETS, count_params, get_preset, preset_params

PUBLISHED = {"gpt1": 116_534_784, "gpt2": 124_439_808, "gpt2-medium": 354_823_168,
             "gpt2-large": 774_030_080, "gpt2-xl": 1_557_611_200}


def build(name: str, device: str = "meta", **over) -> GPT:
    p = get_preset(name)
    cfg = GPTConfig(p.n_layer, p.n_head, p.n_embd, p.block_size, over.pop("vocab_size", p.vocab_size),
                    post_ln=p.post_ln, **over)
    with torch.device(device):
        return GPT(cfg)


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_parameter_counts_exact(name):
    model = build(name)  # on the meta device: shapes only, no memory
    assert model.num_params() == PUBLISHED[name] == preset_params(name)


@pytest.mark.parametrize("name", [n for n in PRESETS if n.startswith("gpt3")][:3])
def test_formula_matches_model_gpt3(name):
    assert build(name).num_params() == preset_params(name)


def test_presets_shapes():
    assert get_preset("gpt1").block_size == 512 and get_preset("gpt1").vocab_size == 40478
    assert all(get_preset(n).block_size == 1024 for n in PUBLISHED if n != "gpt1")
    gpt3 = [n for n in PRESETS if n.startswith("gpt3")]
    assert len(gpt3) == 8 and all(get_preset(n).block_size == 2048 for n in gpt3)
    for n, p in PRESETS.items():
        assert p.n_embd % p.n_head == 0, n
    assert get_preset("gpt3-xl").n_head == 16 and get_preset("gpt3-13b").n_embd == 5120  # the typo fixes
    assert get_preset("gpt3-175b").n_embd // get_preset("gpt3-175b").n_head == 128


def test_tied_embeddings_and_vocab_follow_data():
    m = build("tiny", device="cpu", vocab_size=320, n_vocab=257)
    names = [n for n, _ in m.named_parameters()]
    assert not any("lm_head" in n for n in names)  # the output layer is wte itself
    assert m.num_params() == count_params(4, 128, 256, 320)
    assert m.config.n_vocab == 257


def test_forward_loss_and_shapes():
    torch.manual_seed(0)
    m = build("tiny", device="cpu", vocab_size=257)
    idx, targets = torch.randint(0, 257, (2, 16)), torch.randint(0, 257, (2, 16))
    logits, loss = m(idx, targets)
    assert logits.shape == (2, 16, 257)
    assert abs(loss.item() - math.log(257)) < 0.3  # a fresh model is close to uniform
    loss.backward()
    assert m.wte.weight.grad is not None and m.wpe.weight.grad is not None
    last, none = m(idx)
    assert last.shape == (2, 1, 257) and none is None
    torch.testing.assert_close(last[:, 0], logits[:, -1])


def test_causal():
    torch.manual_seed(0)
    m = build("tiny", device="cpu", vocab_size=257).eval()
    a = torch.randint(0, 257, (1, 12))
    b = a.clone()
    b[0, 8:] = (b[0, 8:] + 1) % 257
    la, _ = m(a, a)
    lb, _ = m(b, b)
    torch.testing.assert_close(la[:, :8], lb[:, :8])  # the future does not leak into the past


def test_gpt2_initialisation():
    torch.manual_seed(0)
    p = get_preset("gpt2")
    m = GPT(GPTConfig(4, p.n_head, p.n_embd, 1024, 50257))
    assert m.wte.weight.std().item() == pytest.approx(0.02, rel=0.02)
    assert m.wpe.weight.std().item() == pytest.approx(0.01, rel=0.02)
    proj = m.h[0].mlp.c_proj.weight.std().item()
    assert proj == pytest.approx(0.02 / math.sqrt(2 * 4), rel=0.03)
    assert m.h[0].attn.c_attn.bias.abs().max().item() == 0


def test_gpt1_is_post_ln_without_final_norm():
    m = build("gpt1")
    assert isinstance(m.ln_f, torch.nn.Identity) and m.h[0].post_ln


def test_generate_never_emits_padding():
    torch.manual_seed(0)
    m = build("tiny", device="cpu", vocab_size=320, n_vocab=257).eval()
    with torch.no_grad():
        m.wte.weight[257:] = 10.0  # make the padding rows the most likely outputs
    out = m.generate(torch.zeros(1, 1, dtype=torch.long), 20, temperature=1.0, top_k=5,
                     generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 21) and int(out.max()) < 257


def test_unknown_preset_is_a_user_error():
    from webtext.errors import UserError

    with pytest.raises(UserError, match="unknown preset"):
        get_preset("gpt-5")
