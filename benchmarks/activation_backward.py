#!/usr/bin/env python3
"""The activation's backward in the penalty's double backward: ATen's fused
leaky_relu_backward (what ganforge uses) against the same values from public ops,
torch.where(out > 0, grad, grad * slope), on the DCGAN WGAN-GP step, alternating rounds in
one process; the median ratio of steps/s.

    python benchmarks/activation_backward.py     # needs ../shared/data/mnist
"""
import statistics
import sys
import time
from pathlib import Path

import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference import ganforge_config
from ganforge.data import load_dataset
from ganforge.train.loop import Trainer
from ganforge.models import layers

mnist = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
cfg = ganforge_config("dcgan28", mnist, [])
data = load_dataset(cfg.data)
aten_bw = layers._PiecewiseLinearFn.backward


def where_bw(ctx, grad):
    (out,) = ctx.saved_tensors
    return torch.where(out.detach() > 0, grad, grad * ctx.slope), None


res = {"aten": [], "where": []}
for r in range(4):
    for name, bw in (("aten", aten_bw), ("where", where_bw)):
        layers._PiecewiseLinearFn.backward = staticmethod(bw)
        t = Trainer(cfg, data)
        for _ in range(3):
            t.train_step()
        t0 = time.perf_counter()
        for _ in range(10):
            t.train_step()
        res[name].append(10 / (time.perf_counter() - t0))
print({k: [round(x, 2) for x in v] for k, v in res.items()})
print("median ratio where/aten:", statistics.median(w / a for w, a in zip(res["where"], res["aten"])))
