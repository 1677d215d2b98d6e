"""`webtext estimate`: parameters, training FLOPs, PF-days and cost of a preset.

    webtext estimate --preset gpt3-175b --tokens 300B            -> 3.14E+23 FLOPs, 3.64E+03 PF-days
    webtext estimate --preset gpt2 --tokens 10B --gpu-flops 989e12 --gpu-price 2.5 --utilization 0.4 --json

Training FLOPs = 6*N*D (N parameters, D tokens: 2 FLOPs per parameter per token forward, 4 backward),
the approximation of GPT-3's Table D.1, which ignores attention (under 10% of the total for these
models). A PF-day is 10^15 FLOP/s for a day: 8.64E+19 FLOPs.

N is the exact count of the preset's shapes, except that for GPT-3 rows the paper's own rounded count
(Table D.1, "Params (M)") is used, so the eight rows reproduce Table D.1 digit for digit; the exact
count differs by under 0.4% (e.g. gpt3-small: 125,226,240 exact, 125M published, 2.61 vs 2.60
PF-days). `--exact` uses the exact count throughout.

Cost: GPU-hours = FLOPs / (GPU peak FLOP/s * utilisation) / 3600, times a price per GPU-hour. The
defaults: an NVIDIA H100 SXM at its dense bf16 peak, 989 TFLOP/s (no 2:4 sparsity: training does not
use it), at 40% MFU (what well-tuned GPT pretraining reaches: 30-50%), $2.50 per GPU-hour (an on-demand
cloud H100). The older arithmetic of an A10G, 250 TFLOP/s at 100%, is `--gpu-flops 250T --gpu-price
1.25 --utilization 1` (3,000 PF-days for $360K).
"""

from __future__ import annotations

import json

from webtext.cli_args import ArgumentParser, parse_count
from webtext.errors import UserError
from webtext.train.presets import PRESETS, get_preset, preset_params

PF_DAY = 1e15 * 86400  # FLOPs in a petaflop/s-day
DEFAULT_GPU = "H100 SXM, dense bf16"
DEFAULT_GPU_FLOPS = 989e12  # NVIDIA's datasheet, without sparsity (train/mfu.py's table has the same figure)
DEFAULT_GPU_PRICE = 2.50  # $ per GPU-hour, on-demand
DEFAULT_MFU = 0.40


def training_flops(params: float, tokens: float) -> float:
    return 6.0 * params * tokens


def pf_days(flops: float) -> float:
    return flops / PF_DAY


def cost(flops: float, gpu_flops: float, gpu_price: float, utilization: float = 1.0) -> dict:
    """GPU-hours and dollars to run `flops` on GPUs of peak `gpu_flops` at `utilization`."""
    gpu_hours = flops / (gpu_flops * utilization) / 3600
    return {"gpu_hours": gpu_hours, "gpu_days": gpu_hours / 24, "usd": gpu_hours * gpu_price}


def estimate(preset: str, tokens: float = 300e9, gpu_flops: float = DEFAULT_GPU_FLOPS,
             gpu_price: float = DEFAULT_GPU_PRICE, utilization: float = DEFAULT_MFU, vocab_size: int | None = None,
             exact: bool = False) -> dict:
    p = get_preset(preset)
    params = preset_params(preset, vocab_size)
    published = p.paper_params if (p.paper_params and not vocab_size) else None
    n = params if (exact or published is None) else published
    flops = training_flops(n, tokens)
    return {"preset": preset, "n_layer": p.n_layer, "n_embd": p.n_embd, "n_head": p.n_head,
            "context": p.block_size, "vocab_size": vocab_size or p.vocab_size, "params": params,
            "params_published": published, "params_used": n, "tokens": tokens, "flops": flops,
            "pf_days": pf_days(flops), "gpu_flops": gpu_flops, "gpu_price_per_hour": gpu_price,
            "utilization": utilization, **cost(flops, gpu_flops, gpu_price, utilization)}


def main(argv: list[str]) -> int:
    ap = ArgumentParser(prog="webtext estimate", description="Parameters, training FLOPs (6ND), "
                        "PF-days and cost of a preset.")
    ap.add_argument("--preset", required=True, metavar="NAME", help=", ".join(PRESETS))
    ap.add_argument("--tokens", default="300B", help="training tokens: 300e9 or 300B (default 300B, as GPT-3)")
    ap.add_argument("--gpu-flops", default="989T",
                    help=f"peak FLOP/s of one GPU, e.g. 989e12 or 312T (default 989T: {DEFAULT_GPU})")
    ap.add_argument("--gpu-price", type=float, default=DEFAULT_GPU_PRICE, help="$ per GPU-hour")
    ap.add_argument("--utilization", type=float, default=DEFAULT_MFU,
                    help="achieved fraction of the peak, MFU (well-tuned GPT pretraining: 0.3-0.5)")
    ap.add_argument("--vocab-size", type=int, help="vocabulary (default: the paper's)")
    ap.add_argument("--exact", action="store_true", help="use the exact parameter count, not the paper's rounded one")
    ap.add_argument("--json", action="store_true", help="one JSON object (keys params, flops, pf_days, ...)")
    args = ap.parse_args(argv)
    if not 0 < args.utilization <= 1:
        raise UserError(f"--utilization must be in (0, 1], not {args.utilization}")
    r = estimate(args.preset, parse_count(args.tokens), parse_count(args.gpu_flops), args.gpu_price,
                 args.utilization, args.vocab_size, args.exact)
    if args.json:
        print(json.dumps(r))
        return 0
    pub = f"   (paper: {r['params_published'] / 1e6:,.0f}M, used below)" if r["params_used"] != r["params"] else ""
    print(f"preset          {r['preset']}: {r['n_layer']} layers, d_model {r['n_embd']}, {r['n_head']} heads, "
          f"context {r['context']}, vocabulary {r['vocab_size']:,}")
    print(f"parameters      {r['params']:,}{pub}")
    print(f"tokens          {r['tokens']:.3E}")
    print(f"training FLOPs  {r['flops']:.2E}   (6 x N x D)")
    print(f"PF-days         {r['pf_days']:.2E}")
    gpu = f" ({DEFAULT_GPU})" if r["gpu_flops"] == DEFAULT_GPU_FLOPS else ""
    print(f"GPU time        {r['gpu_days']:,.1f} GPU-days at {r['gpu_flops'] / 1e12:,.0f} TFLOP/s{gpu} x "
          f"{r['utilization']:.0%} MFU")
    print(f"cost            ${r['usd']:,.0f} at ${r['gpu_price_per_hour']:.2f} per GPU-hour")
    return 0
