"""Benchmark the lmcore Transformer encoder layer against torch's, in one process.

    python -m bench.transformer [--json] [--repeats N] [--threads N]

B=8, T=64, d_model=256, 8 heads, d_ff=1024, float32, eval + torch.inference_mode, with a
source padding mask; both layers hold the same weights.
Ratio (lmcore time / torch time, medians of interleaved runs after a warm-up):
  encoder_layer_weights: lmcore EncoderLayer returning weights (B, H, T, T)
                         / torch.nn.TransformerEncoderLayer (its fast path)   target <= 1.3
Informational (no target): lmcore EncoderLayer without weights / torch, and
torch's layer calling its self_attn with need_weights=True (the fair like-for-like).

--train: one training step (forward, backward, Adam) of the bundled Transformer's
configuration / the bundled seq2seq+Bahdanau configuration (LSTM 256), same batch of
64 sentence pairs (source 10, target 12 tokens, vocabularies 5,000), and the seconds
per epoch both imply for the English-French training set (~1,200 steps).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/transformer.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from torch import nn

from bench.common import format_ratio, median_times, ratio
from lmcore.transformer import EncoderLayer

B, T, D_MODEL, N_HEADS, D_FF = 8, 64, 256, 8, 1024
TARGET = 1.3


def _torch_with_weights(ref: nn.TransformerEncoderLayer, x, pad):
    """torch's pre-norm layer, spelled out, with its attention asked for per-head weights."""
    h = ref.norm1(x)
    a, w = ref.self_attn(h, h, h, key_padding_mask=pad, need_weights=True,
                         average_attn_weights=False)
    x = x + a
    return x + ref.linear2(torch.relu(ref.linear1(ref.norm2(x)))), w


def run(repeats: int) -> dict[str, float]:
    torch.manual_seed(0)
    ref = nn.TransformerEncoderLayer(D_MODEL, N_HEADS, D_FF, dropout=0.0, batch_first=True,
                                     norm_first=True).eval()
    ours = EncoderLayer(D_MODEL, N_HEADS, D_FF, 0.0, norm_first=True).eval()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(B, T, D_MODEL)
    lengths = torch.randint(T // 2, T + 1, (B,))
    pad = torch.arange(T)[None, :] >= lengths[:, None]  # torch: True = ignore
    mask = (~pad)[:, None, None, :]                      # lmcore: True = may attend
    with torch.inference_mode():
        got, _ = ours(x, mask)
        assert torch.allclose(got[0, : lengths[0]], ref(x, src_key_padding_mask=pad)[0, : lengths[0]],
                              atol=1e-4)
        times = median_times({
            "lmcore_weights": lambda: ours(x, mask, need_weights=True),
            "lmcore_fast": lambda: ours(x, mask, need_weights=False),
            "torch_layer": lambda: ref(x, src_key_padding_mask=pad),
            "torch_weights": lambda: _torch_with_weights(ref, x, pad),
        }, repeats=repeats, warmup=3)
    return {
        "encoder_layer_weights": ratio(times, "lmcore_weights", "torch_layer"),
        "encoder_layer_fast": ratio(times, "lmcore_fast", "torch_layer"),
        "weights_vs_torch_weights": ratio(times, "lmcore_weights", "torch_weights"),
    }


def train_step_ratio(repeats: int, steps_per_epoch: int = 1200) -> dict[str, float]:
    """Seconds per training step of the Transformer and of seq2seq+Bahdanau, same data."""
    import torch.nn.functional as F

    from lmcore.seq2seq import Seq2Seq, Seq2SeqConfig
    from lmcore.transformer import Transformer, TransformerConfig

    torch.manual_seed(0)
    V, Bt, S, T = 5000, 64, 10, 12
    models = {
        "transformer": Transformer(TransformerConfig(V, V, 192, 6, 3, 3, 768, 0.1, 82)),
        "seq2seq_bahdanau": Seq2Seq(Seq2SeqConfig(V, V, 256, 256, "lstm", 1, "bahdanau", 0.2)),
    }
    src, tgt_in, tgt_out = (torch.randint(4, V, (Bt, n)) for n in (S, T, T))
    lengths = torch.full((Bt,), S)

    def step(model, opt):
        logits = model(src, lengths, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, V), tgt_out.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()

    calls = {}
    for name, model in models.items():
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        calls[name] = lambda m=model, o=opt: step(m, o)
    times = median_times(calls, repeats=repeats, warmup=2)
    return {"train_step_ratio": ratio(times, "transformer", "seq2seq_bahdanau"),
            "transformer_epoch_seconds": times["transformer"] * steps_per_epoch,
            "seq2seq_bahdanau_epoch_seconds": times["seq2seq_bahdanau"] * steps_per_epoch}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train", action="store_true", help="also time one training step of each family")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ratios = run(args.repeats)
    if args.train:
        ratios |= train_step_ratio(max(5, args.repeats // 3))
    if args.json:
        json.dump({"ratios": ratios, "targets": {"encoder_layer_weights": TARGET}}, sys.stdout, indent=2)
        print()
        return 0
    print(f"B={B} T={T} d_model={D_MODEL} heads={N_HEADS} d_ff={D_FF}, threads={args.threads}")
    print(format_ratio("lmcore EncoderLayer (weights) / nn.TransformerEncoderLayer",
                       ratios["encoder_layer_weights"], TARGET))
    print(f"{'  informational: lmcore (no weights) / torch layer':<58s} {ratios['encoder_layer_fast']:6.3f}")
    print(f"{'  informational: lmcore (weights) / torch with weights':<58s} "
          f"{ratios['weights_vs_torch_weights']:6.3f}")
    if args.train:
        print(f"{'  training step: Transformer / seq2seq+Bahdanau (same batch)':<58s} "
              f"{ratios['train_step_ratio']:6.3f}")
        print(f"  implied seconds per en-fr epoch: Transformer {ratios['transformer_epoch_seconds']:.0f}, "
              f"seq2seq+Bahdanau {ratios['seq2seq_bahdanau_epoch_seconds']:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
