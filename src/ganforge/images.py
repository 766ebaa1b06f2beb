"""Sample pictures: image grids with Pillow, scatter plots for 2-D toy data."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from PIL import Image


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> (N, H, W, C) uint8."""
    x = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def grid_image(x: torch.Tensor, nrow: Optional[int] = None, pad: int = 2, min_cell: int = 32) -> Image.Image:
    """Tile images into one picture; small images are enlarged (nearest) to ``min_cell`` px."""
    imgs = to_uint8(x)
    n, h, w, c = imgs.shape
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    ncol_rows = int(math.ceil(n / nrow))
    scale = max(1, int(math.ceil(min_cell / max(h, w))))
    H, W = h * scale, w * scale
    canvas = np.full((ncol_rows * (H + pad) + pad, nrow * (W + pad) + pad, c), 255, np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        tile = imgs[i].repeat(scale, 0).repeat(scale, 1)
        y0, x0 = pad + r * (H + pad), pad + col * (W + pad)
        canvas[y0:y0 + H, x0:x0 + W] = tile
    return Image.fromarray(canvas[..., 0] if c == 1 else canvas, mode="L" if c == 1 else "RGB")


def save_grid(x: torch.Tensor, path: str | Path, nrow: Optional[int] = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid_image(x, nrow).save(path)
    return path


def require_new_folder(folder: str | Path) -> Path:
    """``folder`` as a Path when it is new or an empty folder, else a ConfigError: samples
    written beside an earlier draw's files would be scored with them."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        from .errors import ConfigError

        raise ConfigError(f"{folder} is not an empty folder: name a new one (samples added to earlier "
                          "files would be scored with them)")
    return folder


def require_picture_suffix(out: str | Path, image: bool) -> Path:
    """``out`` as a Path when its suffix is a type its picture can be written as, else a
    ConfigError (before any sample is drawn): for images a type Pillow saves (the grid,
    :func:`save_grid`), for points one matplotlib saves (the scatter, :func:`save_scatter`),
    each from the writer's own list."""
    from .errors import ConfigError

    out = Path(out)
    if image:
        ok = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.SAVE}
    else:
        from matplotlib.backend_bases import FigureCanvasBase

        ok = {"." + ext for ext in FigureCanvasBase.get_supported_filetypes()}
    if out.suffix.lower() not in ok:
        hint = "name a .png file, or a folder (no suffix) for one PNG a sample" if image else "name a .png file"
        raise ConfigError(f"--out {out}: {out.suffix or 'no suffix'} is not a picture type this run's samples are "
                          f"written as; {hint}")
    return out


def save_folder(x: torch.Tensor, folder: str | Path, labels: Optional[torch.Tensor] = None,
                names: Optional[list[str]] = None) -> Path:
    """One PNG a sample (``000000.png``, ...) in ``folder``, as external FID tools read them;
    with ``labels``, one subfolder a class (``names[k]``, else its number), the layout that
    ``data.name=imagefolder`` reads as labels. ``folder`` must be new or empty: samples mixed
    with an earlier draw's files would be scored together."""
    folder = require_new_folder(folder)
    imgs = to_uint8(x)
    width = max(6, len(str(len(imgs) - 1)))
    for i, im in enumerate(imgs):
        sub = folder
        if labels is not None:
            k = int(labels[i])
            sub = folder / (names[k] if names and k < len(names) else str(k))
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(im[..., 0] if im.shape[-1] == 1 else im, mode="L" if im.shape[-1] == 1 else "RGB") \
            .save(sub / f"{i:0{width}d}.png")
    return folder


def save_scatter(fake: torch.Tensor, path: str | Path, real: Optional[torch.Tensor] = None,
                 title: str = "") -> Path:
    """Scatter of 2-D samples (orange) over real data (blue)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    def two_d(t: torch.Tensor):  # points of any dimension: the first two coordinates (1-D: on a line)
        a = t.detach().float().cpu().numpy()
        return a if a.shape[1] >= 2 else np.concatenate([a, np.zeros_like(a)], 1)

    if real is not None:
        r = two_d(real)
        ax.scatter(r[:, 0], r[:, 1], s=2, c="tab:blue", alpha=0.3, label="real")
    f = two_d(fake)
    ax.scatter(f[:, 0], f[:, 1], s=4, c="tab:orange", alpha=0.8, label="generated")
    ax.set_xlim(-1.1, 1.1)
    ax.set_ylim(-1.1, 1.1)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_samples(x: torch.Tensor, path: str | Path, real: Optional[torch.Tensor] = None,
                 title: str = "", nrow: Optional[int] = None) -> Path:
    """Grid for images, scatter for 2-D points."""
    if x.dim() == 2:
        return save_scatter(x, path, real, title)
    return save_grid(x, path, nrow)
