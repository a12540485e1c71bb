"""Benchmark lmcore.attention against torch's own attention, in one process.

    python -m bench.attention [--json] [--repeats N] [--threads N]

B=8, T=128, d_model=256, 8 heads, float32, eval + torch.inference_mode, self-attention.
With --threads 1 (default) times are this thread's CPU time, so other jobs on a
shared machine do not count; with more threads, wall-clock time.
Ratios: lmcore time / torch time, the median over interleaved rounds of the
per-round ratio (robust when other jobs share the CPU):
  mha_weights: lmcore MultiHeadAttention(need_weights=True)
               / nn.MultiheadAttention(need_weights=True, average_attn_weights=False)
               (both include the in/out projections)                      target <= 1.2
  sdpa_fast:   lmcore scaled_dot_product_attention(need_weights=False)
               / F.scaled_dot_product_attention on the same (B, H, T, d_head) q, k, v
               (projections on neither side)                             target <= 1.1
  mha_fast:    lmcore MultiHeadAttention(need_weights=False)
               / packed in-projection + F.scaled_dot_product_attention + out-projection
               written inline (projections on both sides)                target <= 1.1
Informational (no target): the explicit-weights path / the fused kernel, and the
same ratios with a causal mask.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):  # run as `python bench/attention.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.common import format_ratio, interleaved_samples, medians, paired_ratio, pick_clock
from lmcore.attention import causal_mask, scaled_dot_product_attention
from lmcore.transformer import MultiHeadAttention

B, T, D_MODEL, N_HEADS = 8, 128, 256, 8
TARGETS = {"mha_weights": 1.2, "sdpa_fast": 1.1, "mha_fast": 1.1}


def _reference_fast(mha: nn.MultiheadAttention, x: Tensor) -> Tensor:
    """Projections + F.scaled_dot_product_attention, the shortest correct inline version."""
    q, k, v = F.linear(x, mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
    q, k, v = (t.view(B, T, N_HEADS, -1).transpose(1, 2) for t in (q, k, v))  # (B, H, T, dh)
    out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, T, D_MODEL)
    return mha.out_proj(out)


def candidates(mask: Tensor | None) -> dict[str, Callable[[], object]]:
    """name -> zero-argument callable, all on the same inputs and weights."""
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(D_MODEL, N_HEADS, batch_first=True).eval()
    ours = MultiHeadAttention(D_MODEL, N_HEADS).eval().load_from_torch(ref)
    x = torch.randn(B, T, D_MODEL)
    q, k, v = (torch.randn(B, N_HEADS, T, D_MODEL // N_HEADS) for _ in range(3))
    torch_mask = None if mask is None else ~mask  # nn.MultiheadAttention: True = blocked
    fns: dict[str, Callable[[], object]] = {
        "lmcore_mha_weights": lambda: ours(x, x, x, mask=mask),
        "torch_mha_weights": lambda: ref(x, x, x, attn_mask=torch_mask, need_weights=True,
                                         average_attn_weights=False),
        "lmcore_sdpa_fast": lambda: scaled_dot_product_attention(q, k, v, mask, need_weights=False),
        "torch_sdpa": lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        "lmcore_sdpa_weights": lambda: scaled_dot_product_attention(q, k, v, mask),
    }
    if mask is None:  # the inline reference has no mask argument
        fns["lmcore_mha_fast"] = lambda: ours(x, x, x, need_weights=False)
        fns["torch_inline_fast"] = lambda: _reference_fast(ref, x)
    return fns


def run(repeats: int, masked: bool, threads: int) -> dict:
    """Median times and paired ratios (median over rounds of lmcore / torch in that round)."""
    with torch.inference_mode():
        samples = interleaved_samples(candidates(causal_mask(T) if masked else None),
                                      repeats=repeats, clock=pick_clock(threads))
    ratios = {
        "mha_weights": paired_ratio(samples, "lmcore_mha_weights", "torch_mha_weights"),
        "sdpa_fast": paired_ratio(samples, "lmcore_sdpa_fast", "torch_sdpa"),
        "weights_path_vs_fused": paired_ratio(samples, "lmcore_sdpa_weights", "torch_sdpa"),
    }
    if not masked:
        ratios["mha_fast"] = paired_ratio(samples, "lmcore_mha_fast", "torch_inline_fast")
    return {"median_ms": {k: round(v * 1e3, 4) for k, v in medians(samples).items()},
            "ratios": {k: round(v, 4) for k, v in ratios.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (machine is shared)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = {"config": {"B": B, "T": T, "d_model": D_MODEL, "n_heads": N_HEADS,
                         "threads": args.threads, "repeats": args.repeats,
                         "clock": pick_clock(args.threads).__name__,
                         "torch": torch.__version__},
              "no_mask": run(args.repeats, masked=False, threads=args.threads),
              "causal_mask": run(args.repeats, masked=True, threads=args.threads)}
    main_ratios = result["no_mask"]["ratios"]
    result["pass"] = {name: main_ratios[name] <= target for name, target in TARGETS.items()}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_text(result)
    return 0 if all(result["pass"].values()) else 1


def _print_text(result: dict) -> None:
    cfg = result["config"]
    print(f"B={cfg['B']} T={cfg['T']} d_model={cfg['d_model']} heads={cfg['n_heads']} "
          f"threads={cfg['threads']} repeats={cfg['repeats']} clock={cfg['clock']} "
          f"torch {cfg['torch']}")
    r = result["no_mask"]["ratios"]
    print(format_ratio("MHA with weights / nn.MultiheadAttention (with proj.)",
                       r["mha_weights"], TARGETS["mha_weights"]))
    print(format_ratio("fast path / F.sdpa (same q,k,v; no proj.)", r["sdpa_fast"],
                       TARGETS["sdpa_fast"]))
    print(format_ratio("MHA fast path / proj.+F.sdpa inline (with proj.)", r["mha_fast"],
                       TARGETS["mha_fast"]))
    print(f"info: explicit-weights path / F.sdpa (no proj.): {r['weights_path_vs_fused']:.3f}")
    c = result["causal_mask"]["ratios"]
    print(f"info, causal mask: MHA weights / torch {c['mha_weights']:.3f}, "
          f"fast / F.sdpa {c['sdpa_fast']:.3f}, "
          f"weights path / F.sdpa {c['weights_path_vs_fused']:.3f}")
    for label, section in (("no mask", "no_mask"), ("causal", "causal_mask")):
        ms = ", ".join(f"{k} {v:.3f}" for k, v in result[section]["median_ms"].items())
        print(f"median ms ({label}): {ms}")


if __name__ == "__main__":
    raise SystemExit(main())
