"""Feature extractors behind a registry.

``mnist-lenet``: a small LeNet digit classifier trained by ganforge's own command
(``ganforge metrics build-extractor mnist``) with a fixed seed. Its weights ship inside
the package with their sha256, which is checked on every load. Features are the
128-d penultimate activations; logits give class predictions for mode coverage.
The network always runs in eval mode under ``no_grad``, and results do not depend on
the batch size used (no batch statistics are involved).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError, RunError
from ..registry import Registry, suggest

WEIGHTS_DIR = Path(__file__).parent / "weights"


class LeNet(nn.Module):
    """28x28 grey digits in [-1, 1] -> (128-d features, 10 logits)."""

    feature_dim = 128

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5)
        self.conv2 = nn.Conv2d(32, 64, 5)
        self.fc1 = nn.Linear(64 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # 24 -> 12
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 8 -> 4
        return F.relu(self.fc1(x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.features(x))


class DigitsNet(nn.Module):
    """8x8 grey digits in [-1, 1] -> (64-d features, 10 logits)."""

    feature_dim = 64

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 8 -> 4
        return F.relu(self.fc1(x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.features(x))


class Extractor:
    """Wraps a network: ``features(x)`` and ``logits(x)`` in batches, eval mode, no grad."""

    name = "base"
    num_classes = 0
    #: names how ``prepare`` treats its input, for the feature cache's key: a change to
    #: ``prepare`` that moves features changes this, so cached features are not reused
    prepare_id = ""

    def __init__(self, net: nn.Module, device: str | torch.device = "cpu", weights_id: str = "") -> None:
        self.net = net.to(device).eval()
        self.device = torch.device(device)
        #: identifies the weights in use (their sha256), so that cached reference features
        #: computed with other weights (``--weights``) are never reused
        self.weights_id = weights_id

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.no_grad()
    def run(self, x: torch.Tensor, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        self.net.eval()
        feats, logits = [], []
        for i in range(0, len(x), batch_size):
            xb = self.prepare(x[i:i + batch_size].to(self.device).float())
            f = self.net.features(xb)
            feats.append(f.double().cpu())
            logits.append(self.net.fc2(f).double().cpu())
        return torch.cat(feats).numpy(), torch.cat(logits).numpy()


class DigitExtractor(Extractor):
    name = "mnist-lenet"
    num_classes = 10
    prepare_id = "aa56"  # antialiased from 56 px on (before: bilinear alone at every size)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 1:
            raise ConfigError(f"mnist-lenet needs grey images (N, 1, H, W), got {tuple(x.shape)}")
        if x.shape[-1] != 28 or x.shape[-2] != 28:
            # bilinear alone reads every source pixel only while it shrinks by less than 2x;
            # from 56 px on (a 64 px folder) it would skip pixels and alias thin strokes
            x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False,
                              antialias=min(x.shape[-2:]) >= 56)
        return x


class SmallDigitExtractor(DigitExtractor):
    name = "digits"

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 1:
            raise ConfigError(f"digits extractor needs grey images (N, 1, H, W), got {tuple(x.shape)}")
        if x.shape[-1] != 8 or x.shape[-2] != 8:
            x = F.interpolate(x, size=(8, 8), mode="bilinear", align_corners=False, antialias=True)
        return x


EXTRACTORS: Registry[Callable[..., Extractor]] = Registry("feature extractor")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def weights_id(name: str, path: Optional[Path] = None) -> str:
    """sha256 (first 16 hex digits) of the weights file an extractor loads."""
    path = path or WEIGHTS_DIR / f"{name}.pt"
    return sha256_file(path)[:16] if path.is_file() else "missing"


def load_weights(name: str, path: Optional[Path] = None) -> dict:
    """State dict from the shipped file, verified against the recorded sha256."""
    meta_path = WEIGHTS_DIR / f"{name}.json"
    path = path or WEIGHTS_DIR / f"{name}.pt"
    if not path.is_file():
        raise RunError(f"weights for extractor {name!r} not found at {path}; "
                       f"build them with `ganforge metrics build-extractor mnist --data-dir DIR`")
    if path.parent == WEIGHTS_DIR and meta_path.is_file():
        want = json.loads(meta_path.read_text())["sha256"]
        if sha256_file(path) != want:
            raise RunError(f"{path}: sha256 does not match {meta_path.name}; the file is damaged or was changed")
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.float() for k, v in state.items()}


@EXTRACTORS.register("mnist-lenet", help="a LeNet trained on MNIST, shipped (28 px grey)")
def mnist_lenet(device: str | torch.device = "cpu", weights: Optional[Path] = None) -> Extractor:
    net = LeNet()
    net.load_state_dict(load_weights("mnist-lenet", weights))
    return DigitExtractor(net, device, weights_id("mnist-lenet", weights))


class StackedDigitExtractor(DigitExtractor):
    """StackedMNIST: the LeNet on each of the three channels. Features are the three
    channels' 128-d features side by side; the logits are the 1,000 modes' joint
    log-probabilities log p(a) + log p(b) + log p(c), mode 100a + 10b + c."""

    name = "stacked-lenet"
    num_classes = 1000

    @torch.no_grad()
    def run(self, x: torch.Tensor, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ConfigError(f"stacked-lenet needs 3-channel images (N, 3, H, W), got {tuple(x.shape)}")
        parts = [super(StackedDigitExtractor, self).run(x[:, c:c + 1], batch_size) for c in range(3)]
        feats = np.concatenate([f for f, _ in parts], axis=1)
        lp = [torch.log_softmax(torch.from_numpy(lg), 1) for _, lg in parts]
        joint = lp[0][:, :, None, None] + lp[1][:, None, :, None] + lp[2][:, None, None, :]
        return feats, joint.reshape(len(x), 1000).numpy()


@EXTRACTORS.register("stacked-lenet", help="StackedMNIST: the shipped LeNet on each channel (1,000 modes)")
def stacked_lenet(device: str | torch.device = "cpu", weights: Optional[Path] = None) -> Extractor:
    net = LeNet()
    net.load_state_dict(load_weights("mnist-lenet", weights))
    return StackedDigitExtractor(net, device, weights_id("mnist-lenet", weights))


@EXTRACTORS.register("digits", help="a small net trained on the 8x8 digits, shipped")
def digits_net(device: str | torch.device = "cpu", weights: Optional[Path] = None) -> Extractor:
    net = DigitsNet()
    net.load_state_dict(load_weights("digits", weights))
    return SmallDigitExtractor(net, device, weights_id("digits", weights))


#: torch-fidelity's InceptionV3 weights (the TF-FID-compatible port), for machines without internet
INCEPTION_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"


class InceptionExtractor(Extractor):
    """Standard InceptionV3 pool features (2048-d) through torch-fidelity, for natural images."""

    name = "inception"
    num_classes = 0  # the class metrics are for digit classifiers

    @torch.no_grad()
    def run(self, x: torch.Tensor, batch_size: int = 100) -> tuple[np.ndarray, np.ndarray]:
        self.net.eval()
        feats, logits = [], []
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].float()
            if xb.shape[1] == 1:
                xb = xb.repeat(1, 3, 1, 1)
            u8 = ((xb.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).to(self.device)
            f, lg = self.net(u8)
            feats.append(f.double().cpu())
            logits.append(lg.double().cpu())
        return torch.cat(feats).numpy(), torch.cat(logits).numpy()


@EXTRACTORS.register("inception", help="InceptionV3 of torch-fidelity (the standard FID; weights from a file or a download)")
def inception(device: str | torch.device = "cpu", weights: Optional[Path] = None) -> Extractor:
    """torch-fidelity's InceptionV3. ``weights`` (or $GANFORGE_INCEPTION_WEIGHTS) points at the
    weights file for machines without internet; without it torch-fidelity downloads them."""
    import os

    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except Exception as e:  # ImportError, or torchvision failing to load beside this torch
        raise ConfigError("the inception extractor needs torch-fidelity (and a torchvision that imports): "
                          f"pip install 'ganforge[inception]' ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None
    weights = weights or os.environ.get("GANFORGE_INCEPTION_WEIGHTS")
    if weights is not None and not Path(weights).is_file():
        raise RunError(f"Inception weights not found at {weights}; download {INCEPTION_URL} on a machine with "
                       "internet and pass its path with --weights (or GANFORGE_INCEPTION_WEIGHTS)")
    try:
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                          feature_extractor_weights_path=str(weights) if weights else None)
    except OSError as e:
        raise RunError(f"cannot get the Inception weights ({str(e).splitlines()[0][:120]}); download "
                       f"{INCEPTION_URL} and pass its path with --weights") from None
    return InceptionExtractor(net, device, sha256_file(Path(weights))[:16] if weights else "torch-fidelity")


class UserExtractor(Extractor):
    """Your own features: a callable (an nn.Module, a TorchScript module, a function) that
    maps a batch of images in [-1, 1], (N, C, H, W), to features (N, D), or to a pair
    (features, logits) when it is a classifier (the class metrics then apply too)."""

    def __init__(self, fn: Callable[[torch.Tensor], Any], name: str, device: str | torch.device, weights_id: str) -> None:
        self.fn, self.name, self.device, self.weights_id = fn, name, torch.device(device), weights_id
        self.num_classes = 0
        if isinstance(fn, nn.Module):
            fn.to(self.device)
            try:
                fn.eval()
            except NotImplementedError:  # a torch.export program keeps the mode it was exported in
                pass

    @torch.no_grad()
    def run(self, x: torch.Tensor, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        feats, logits = [], []
        for i in range(0, len(x), batch_size):
            out = self.fn(x[i:i + batch_size].to(self.device).float())
            f, lg = (out[0], out[1]) if isinstance(out, (tuple, list)) else (out, None)
            if not isinstance(f, torch.Tensor) or f.dim() != 2 or f.shape[0] != min(batch_size, len(x) - i):
                raise ConfigError(f"extractor {self.name}: expected features of shape (N, D) for a batch of "
                                  f"{min(batch_size, len(x) - i)} images, got "
                                  f"{tuple(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__}")
            feats.append(f.double().cpu())
            if lg is not None:
                logits.append(lg.double().cpu())
        if logits:
            self.num_classes = int(logits[0].shape[1])
        return torch.cat(feats).numpy(), (torch.cat(logits).numpy() if logits else np.zeros((len(x), 0)))


def _load_program(path: Path, device: str | torch.device) -> Callable[[torch.Tensor], Any]:
    """A saved network: a torch.export program (``.pt2``, torch.export.save) or a
    TorchScript archive (torch.jit.save; deprecated by torch, still read)."""
    import warnings

    try:
        if path.suffix == ".pt2":
            return torch.export.load(str(path)).module()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path), map_location=device)
    except Exception as e:  # not such an archive
        kind = "torch.export (.pt2)" if path.suffix == ".pt2" else "TorchScript"
        raise ConfigError(f"extractor {path}: not a {kind} file ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:120] if str(e) else ''})") from None


def build_extractor(name: str, device: str | torch.device = "cpu", weights: Optional[Path] = None) -> Extractor:
    """A feature extractor by ``name``: a registered one (EXTRACTORS), a saved network
    (torch.export ``.pt2`` or TorchScript), or ``module:function`` (an importable function returning the callable, called with no
    arguments). The cache of reference features is keyed by the file's sha256 (TorchScript)
    or the module source's, so editing your extractor never reuses stale features."""
    import importlib

    if name in EXTRACTORS:
        return EXTRACTORS.get(name)(device=device, weights=weights)
    path = Path(name).expanduser()
    if path.is_file():
        return UserExtractor(_load_program(path, device), path.name, device, sha256_file(path)[:16])
    mod_name, sep, attr = name.partition(":")
    if not sep or not mod_name or not attr:
        raise ConfigError(f"unknown feature extractor {name!r}{suggest(name, EXTRACTORS.names())}; choose one of: "
                          f"auto, {', '.join(EXTRACTORS.names())}, a TorchScript file, or module:function")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise ConfigError(f"extractor {name}: cannot import {mod_name!r} ({e})") from None
    factory = getattr(mod, attr, None)
    if not callable(factory):
        raise ConfigError(f"extractor {name}: {mod_name} has no function {attr!r}")
    try:
        fn = factory()
    except TypeError as e:  # it wants arguments: not a factory of extractors
        raise ConfigError(f"extractor {name}: calling {attr}() with no arguments failed ({e})") from None
    if isinstance(fn, Extractor):
        return fn
    if not callable(fn):
        raise ConfigError(f"extractor {name}: {attr}() must return a callable (images -> features), got {type(fn).__name__}")
    src = getattr(mod, "__file__", None)
    ident = sha256_file(Path(src))[:16] if src and Path(src).is_file() else "no-source"
    return UserExtractor(fn, name, device, f"{name}@{ident}")


def extractor_info(name: str) -> dict:
    p = WEIGHTS_DIR / f"{name}.json"
    return json.loads(p.read_text()) if p.is_file() else {}
