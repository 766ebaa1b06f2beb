"""Training the shipped digit classifier: ``ganforge metrics build-extractor mnist``.

Deterministic (fixed seed, fixed split): a user who runs it on the same files gets the
same weights. On the MNIST training split (60k) it trains on that split and tests on
t10k; with only t10k present (as on this workplace) it trains on a seeded 8,000 and
reports accuracy on the other 2,000 -- the same 2,000 that ``data.holdout=2000`` keeps
out of GAN training.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..data.mnist import SPLITS, _find
from ..data.idx import read_idx
from .features import WEIGHTS_DIR, LeNet, sha256_file


def _load_split(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor] | None:
    ip, lp = _find(folder, SPLITS[split][0]), _find(folder, SPLITS[split][1])
    if ip is None or lp is None:
        return None
    x = torch.from_numpy(read_idx(ip, 3).astype(np.float32)).unsqueeze(1) / 127.5 - 1
    return x, torch.from_numpy(read_idx(lp, 1).astype(np.int64))


def build_mnist_extractor(data_dir: str | Path, out_dir: Path = WEIGHTS_DIR, epochs: int = 8, seed: int = 0,
                          log: Callable[[str], None] = print) -> dict:
    from ..errors import DataError

    folder = Path(data_dir)
    train, test = _load_split(folder, "train"), _load_split(folder, "t10k")
    if test is None and train is None:
        raise DataError(f"no MNIST IDX files in {folder}")
    if train is None:
        x, y = test
        g = torch.Generator().manual_seed(seed)  # same split as data.holdout=2000, data.seed=0
        perm = torch.randperm(len(x), generator=g)
        hold, keep = perm[:2000], perm[2000:]
        train, test = (x[keep], y[keep]), (x[hold], y[hold])
        protocol = "t10k only: trained on 8,000, tested on the seeded 2,000 holdout"
    else:
        protocol = "trained on the 60,000 training split, tested on t10k"
        if test is None:
            raise DataError(f"{folder}: the t10k test files are needed to report accuracy")
    torch.manual_seed(seed)
    net = LeNet()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    xt, yt = train
    g = torch.Generator().manual_seed(seed + 1)
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), 128):
            idx = perm[i:i + 128]
            xb = xt[idx]
            # small random shifts make the features robust to the GAN's imperfect centring
            shift = torch.randint(-2, 3, (2,), generator=g)
            xb = torch.roll(xb, shifts=(int(shift[0]), int(shift[1])), dims=(2, 3))
            loss = F.cross_entropy(net(xb), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            acc = (net(test[0]).argmax(1) == test[1]).float().mean().item()
        log(f"epoch {epoch + 1}/{epochs}: test accuracy {acc:.4f}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mnist-lenet.pt"
    torch.save({k: v.half() for k, v in net.state_dict().items()}, path)  # fp16: half the size
    # accuracy of the stored (fp16-rounded) weights
    net.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})
    with torch.no_grad():
        acc = (net(test[0]).argmax(1) == test[1]).float().mean().item()
    meta = {"name": "mnist-lenet", "sha256": sha256_file(path), "test_accuracy": round(acc, 4),
            "protocol": protocol, "epochs": epochs, "seed": seed, "torch": torch.__version__,
            "bytes": path.stat().st_size}
    (out_dir / "mnist-lenet.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def build_digits_extractor(out_dir: Path = WEIGHTS_DIR, epochs: int = 60, seed: int = 0,
                           log: Callable[[str], None] = print) -> dict:
    """The 8x8 scikit-learn digits classifier: trained on a seeded 1,500, tested on the other
    297 -- the same 297 that ``data.holdout=297`` (data.seed=0) keeps out of GAN training."""
    from sklearn.datasets import load_digits

    from .features import DigitsNet

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0
    y = torch.tensor(d.target, dtype=torch.long)
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(x), generator=g)
    hold, keep = perm[:297], perm[297:]
    torch.manual_seed(seed)
    net = DigitsNet()
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    g = torch.Generator().manual_seed(seed + 1)
    for epoch in range(epochs):
        net.train()
        order = keep[torch.randperm(len(keep), generator=g)]
        for i in range(0, len(order), 64):
            idx = order[i:i + 64]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "digits.pt"
    torch.save({k: v.half() for k, v in net.state_dict().items()}, path)
    net.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})
    with torch.no_grad():
        acc = (net(x[hold]).argmax(1) == y[hold]).float().mean().item()
    log(f"digits extractor: test accuracy {acc:.4f}")
    meta = {"name": "digits", "sha256": sha256_file(path), "test_accuracy": round(acc, 4),
            "protocol": "sklearn digits: trained on a seeded 1,500, tested on the other 297 (data.holdout=297)",
            "epochs": epochs, "seed": seed, "torch": torch.__version__, "bytes": path.stat().st_size}
    (out_dir / "digits.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta
