"""Image data: any folder of JPEG/PNG (recursive) with centre crop and resize, and the
200-face Labeled Faces subset that scikit-image ships (``lfw``)."""
from __future__ import annotations

import math
import os
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..config import IMAGE_SIDES
from ..errors import ConfigError, DataError
from .base import DATASETS, Dataset, resize

EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
MAX_BYTES = 8 << 30  #: in-memory limit for the scaled float data
#: Pillow modes the loader reads as one grey channel (every other mode becomes RGB)
GREY_MODES = frozenset({"L", "LA", "I;16", "I;16B", "I;16L", "I;16N", "I", "F", "1"})


def _grey8(im):
    """An 8-bit grey image of a grey image of any depth. Pillow's own conversion clips a
    16-bit image's values to 255 (nearly white) and a float one's [0, 1] to 0 and 1 (black);
    here 16 bits are scaled down (/257: 65,535 -> 255), a 32-bit integer image too when its
    values pass 255, and a float image in [0, 1] is scaled up (others are clipped)."""
    from PIL import Image

    if im.mode in ("L", "LA", "1"):
        return im.convert("L")
    a = np.asarray(im, dtype=np.float64)
    if im.mode.startswith("I;16") or (im.mode == "I" and a.max(initial=0) > 255):
        a = a / 257.0
    elif im.mode == "F" and a.size and a.min() >= 0 and a.max() <= 1:
        a = a * 255.0
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")


def _load_one(path: Path, crop: int | None, size: int, channels: int | None, max_pixels: int = 40_000_000,
              draft: bool = True):
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        # Pillow's own bomb guard warns from 89 MP and refuses from 179 MP in its words;
        # ours (data.max_pixels) refuses from the header below, before any decoding, with one
        # line: Pillow's is off while the header is read (it is process-wide, so restored)
        old = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            im = Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = old
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: unreadable image ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    try:
        with im:
            w, h = im.size
            if w * h > max_pixels:
                raise DataError(f"{path}: {w}x{h} px ({w * h / 1e6:.0f} MP) is larger than data.max_pixels="
                                f"{max_pixels} ({max_pixels / 1e6:.0f} MP); raise it to load this image")
            if draft and im.format == "JPEG" and crop is None:
                # a large JPEG decodes at 1/2, 1/4 or 1/8 scale in its DCT (libjpeg's own
                # downscale), kept at least twice the side it is resized to: several times
                # faster on photos (benchmarks/folder_load.py) for the same 64 px image
                # within a few grey levels
                k = 2 * size / min(w, h)
                if k < 1:
                    im.draft(im.mode, (max(1, math.ceil(w * k)), max(1, math.ceil(h * k))))
            im.load()
            # a phone's photo is stored as the sensor saw it with its turn in EXIF: upright here
            # (Pillow does not apply it, nor does torchvision's loader)
            ImageOps.exif_transpose(im, in_place=True)
            mode = im.mode
            if mode in GREY_MODES:
                if mode != "L":
                    im = _grey8(im)
            elif mode != "RGB":  # RGBA, P, CMYK, YCbCr, PA, ...: colour
                im = im.convert("RGB")
            c = 3 if im.mode == "RGB" else 1
            if channels is not None and channels != c:
                im = im.convert("RGB" if channels == 3 else "L")
                c = channels
            w, h = im.size
            side = crop or min(w, h)
            if min(w, h) < side:
                raise DataError(f"{path}: {w}x{h} px is smaller than the crop of {side} px")
            left, top = (w - side) // 2, (h - side) // 2
            im = im.crop((left, top, left + side, top + side)).resize((size, size), Image.BILINEAR,
                                                                        reducing_gap=None)
            arr = np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: unreadable image ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    return (arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)), c


def _decode_all(files: list[Path], crop, size, channels, max_pixels, threads: int = 0, draft: bool = True):
    """Each file's ``(array, channels)`` or its DataError, in the listing's order, decoded by
    threads (Pillow decodes and resizes without the GIL; nothing trains yet, so every core
    helps, up to 8; ``threads`` sets it), with a bar on a terminal for a folder of over 1,000
    images. ``draft=False`` decodes every JPEG in full (benchmarks/folder_load.py's baseline)."""
    from tqdm import tqdm

    def one(p: Path):
        try:
            return _load_one(p, crop, size, channels, max_pixels, draft)
        except DataError as e:
            return e

    pool = ThreadPoolExecutor(threads or max(1, min(8, os.cpu_count() or 1)))
    try:
        # disable=None: no bar off a terminal (logs, CI), where the run's own lines follow
        yield from tqdm(pool.map(one, files), total=len(files), desc="reading images", unit="img",
                        disable=None if len(files) > 1000 else True, file=sys.stderr, leave=False)
    finally:  # a bad file stops the load: the rest of the folder is not decoded for nothing
        pool.shutdown(cancel_futures=True)


#: the largest side a folder's images are resized to when data.size is unset
FOLDER_SIZE = 64


def image_files(folder: Path) -> list[Path]:
    """The folder's images, recursively, in sorted order: the loader's listing, which the
    side and colour probes read too. Hidden files and folders (a name starting with a dot)
    are passed over: macOS's ``._IMG.jpg`` companions are not images, and a notebook's
    ``.ipynb_checkpoints`` copies would be duplicates, or a class of their own."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTS and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


#: how many images' headers tell a folder's side when data.size is unset
SIDE_PROBES = 25


def _headers(folder: Optional[str], k: int) -> list[tuple[str, tuple[int, int]]]:
    """(mode, (width, height)) of up to ``k`` readable images of ``folder`` from their headers
    (no decoding), spread evenly over its sorted listing, the first file first; [] when none
    can be read. Unreadable files are passed over: the loader says so in its own words."""
    from PIL import Image

    if not folder or not Path(folder).is_dir():
        return []
    files = image_files(Path(folder))
    picks = sorted({i * len(files) // k for i in range(k)}) if len(files) > k else range(len(files))
    out = []
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # headers only: no bomb warning (the loader has its own limit)
    try:
        for i in picks:
            try:
                with Image.open(files[i]) as im:
                    out.append((im.mode, im.size))
            except Exception:
                continue
    finally:
        Image.MAX_IMAGE_PIXELS = old
    return out


def folder_channels(folder: Optional[str]) -> Optional[int]:
    """The channels (1 or 3) a folder's images train with when data.channels is unset, read
    from headers: 3 if any of up to :data:`SIDE_PROBES` images spread over the listing is
    colour, as the loader makes a folder colour if any of its images is; None when no image
    can be read."""
    heads = _headers(folder, SIDE_PROBES)
    return None if not heads else (1 if all(mode in GREY_MODES for mode, _ in heads) else 3)


def folder_side(data) -> int:
    """The side a folder's images are resized to (a ``DataConfig``): data.size when set,
    else the smallest of :data:`IMAGE_SIDES` that holds the images' shorter side (the median
    over up to :data:`SIDE_PROBES` of them spread over the sorted listing, so a stray
    thumbnail or poster does not decide; data.crop when set), at most :data:`FOLDER_SIZE`.
    So 28 px digits train at 28 px and 32 px images at 32, the sides their recipes were
    measured at, instead of being blown up to 64 px for 4-5x the work and no more detail;
    larger images come down to 64 px. :data:`FOLDER_SIZE` when no image can be read
    (loading then fails in its own words)."""
    if data.size:
        return data.size
    heads = _headers(data.dir, SIDE_PROBES)
    if not heads:
        return FOLDER_SIZE
    short = data.crop or int(statistics.median_low(min(size) for _, size in heads))
    return min(next((s for s in IMAGE_SIDES if s >= short), FOLDER_SIZE), FOLDER_SIZE)


def folder_classes(folder: Path, files: list[Path]) -> tuple[Optional[list[int]], list[str], Optional[str]]:
    """Labels from one subfolder per class, as torchvision's ImageFolder reads them: every
    image under ``folder/NAME/...`` is of class NAME (classes numbered in sorted order), and
    the class names. (None, [], why) when any image lies directly in ``folder`` or there are
    fewer than two classes: such a folder is unlabelled; ``why`` is set where subfolders
    suggest the user meant classes."""
    parts = [p.relative_to(folder).parts for p in files]
    names = sorted({q[0] for q in parts if len(q) >= 2})
    loose = next((p for p, q in zip(files, parts) if len(q) < 2), None)
    if loose is not None:
        why = (f"{loose} lies directly in {folder} beside {len(names)} subfolder(s): for classes, put every "
               "image in its class's subfolder") if names else None
        return None, [], why
    if len(names) < 2:
        return None, [], f"{folder} has one class subfolder ({names[0]}): classes need two or more" if names else None
    index = {n: i for i, n in enumerate(names)}
    return [index[q[0]] for q in parts], names, None


@DATASETS.register("imagefolder", help="any folder of JPEG/PNG images (data.dir); one subfolder per class "
                   "labels them (for model.conditional)")
def load_imagefolder(cfg) -> Dataset:
    if not cfg.dir:
        raise ConfigError("data.name=imagefolder needs data.dir (--data-dir FOLDER of images)")
    folder = Path(cfg.dir)
    if not folder.is_dir():
        raise DataError(f"image folder {str(folder)!r} does not exist")
    files = image_files(folder)
    if not files:
        raise DataError(f"{folder}: no images found (looked for {', '.join(sorted(EXTS))}, recursively)")
    labels, names, unlabelled_because = folder_classes(folder, files)
    if cfg.limit is not None and cfg.holdout == 0:
        if labels:
            # the sorted listing is grouped by class, so its first N would be the first classes
            # alone: a seeded random N (data.seed), in listing order. Only here: the order of
            # every other folder load stays the listing's, which a resumed run's holdout needs
            picks = sorted(torch.randperm(len(files), generator=torch.Generator().manual_seed(cfg.seed))[:cfg.limit].tolist())
            files, labels = [files[i] for i in picks], [labels[i] for i in picks]
        files = files[:cfg.limit]
    size = folder_side(cfg)
    need = len(files) * (cfg.channels or 3) * size * size * 4
    stream = None
    if need > cfg.max_memory_mb * 2**20:
        # too big to hold: stream batches from disk with worker processes; keep a sample
        # of the images in memory for what needs data at hand (reference set, diversity)
        stream = ImageStream(files, cfg.crop, size, cfg.channels, cfg.workers, cfg.seed, cfg.max_pixels,
                             labels=labels, skip_bad=cfg.skip_bad)
        keep = max(1, min(len(files), (cfg.max_memory_mb * 2**20) // ((cfg.channels or 3) * size * size * 4)))
        picks = torch.randperm(len(files), generator=torch.Generator().manual_seed(cfg.seed))[:keep].tolist()
        files = [files[i] for i in picks]
        labels = [labels[i] for i in picks] if labels else None
    arrays, ys, grey = [], [], []
    for i, (p, got) in enumerate(zip(files, _decode_all(files, cfg.crop, size, cfg.channels, cfg.max_pixels))):
        if isinstance(got, DataError):
            if cfg.skip_bad:  # one line in our words (a Python warning would add its source line)
                print(f"warning: skipping {got}", file=sys.stderr, flush=True)
                continue
            raise DataError(f"{got}{SKIP_HINT}") from None
        arr, c = got
        if c == 1:
            grey.append(p)
        arrays.append(arr)
        if labels:
            ys.append(labels[i])
    if not arrays:
        raise DataError(f"{folder}: every image was unreadable")
    # data.channels unset: one colour image makes the folder colour (as torchvision's loader
    # reads every image as RGB), with one line, since a stray colour file in a grey folder
    # triples its cost; a streamed folder's probed headers count too, not only its kept sample
    c = cfg.channels or (3 if len(grey) < len(arrays) or (stream is not None and folder_channels(cfg.dir) == 3) else 1)
    if c == 3 and grey and not cfg.channels:
        arrays = [np.repeat(a, 3, axis=0) if a.shape[0] == 1 else a for a in arrays]
        print(f"warning: {folder} mixes grey and colour images ({len(grey)} grey of the {len(arrays)} "
              f"{'read' if stream is None else 'kept in memory'}, first {grey[0]}): all train as colour "
              "(data.channels=1 trains them grey)", file=sys.stderr, flush=True)
    x = torch.from_numpy(np.stack(arrays)).float() / 127.5 - 1.0
    if stream is not None:
        stream.channels = c
    info: dict = {"files": len(arrays)}
    if labels:  # the health monitor reads the digit classifier's classes only for digit labels
        info.update(classes=names, labels="subfolders")
    elif unlabelled_because:
        info["unlabelled_because"] = unlabelled_because
    return Dataset(name="imagefolder", x=x, y=torch.tensor(ys, dtype=torch.long) if labels else None,
                   num_classes=len(names), info=info, stream=stream)


#: how an unreadable image's error ends: the way past it
SKIP_HINT = " (data.skip_bad=true skips unreadable images)"


class _Files(torch.utils.data.Dataset):
    """A streamed folder's images, decoded in DataLoader workers. An unreadable file is not
    raised in the worker (torch would wrap it in the worker's traceback): without skip_bad its
    error travels in the batch (``_collate``) and the main process raises it as one line; with
    skip_bad the next readable file stands in, and each bad file is reported once a worker."""

    def __init__(self, files, crop, size, channels, max_pixels, labels=None, skip_bad: bool = False):
        self.files, self.crop, self.size, self.channels = files, crop, size, channels
        self.max_pixels, self.labels, self.skip_bad = max_pixels, labels, skip_bad
        self.bad: set[int] = set()

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i):
        for k in range(len(self.files)):
            j = (i + k) % len(self.files)
            if j in self.bad:
                continue
            try:
                arr, _ = _load_one(self.files[j], self.crop, self.size, self.channels, self.max_pixels)
            except DataError as e:
                if not self.skip_bad:
                    return e
                self.bad.add(j)
                print(f"warning: skipping {e}", file=sys.stderr, flush=True)
                continue
            # a copy: PIL's array is read-only, which torch warns about in every worker
            return torch.tensor(arr), (self.labels[j] if self.labels else -1)
        return DataError(f"every one of the {len(self.files)} streamed images was unreadable")


def _collate(items: list):
    """Stack a batch, or pass on the first unreadable image's error for the main process."""
    bad = next((it for it in items if isinstance(it, DataError)), None)
    return bad if bad is not None else torch.utils.data.default_collate(items)


class ImageStream:
    """Endless random batches decoded by ``workers`` processes (a torch DataLoader).
    Streaming trades exact resume for memory: the batch order after a resume differs."""

    def __init__(self, files, crop, size, channels, workers, seed, max_pixels: int = 40_000_000,
                 labels: Optional[list[int]] = None, skip_bad: bool = False) -> None:
        self.files, self.crop, self.size, self.channels = files, crop, size, channels
        self.max_pixels, self.labels, self.skip_bad = max_pixels, labels, skip_bad
        self.workers, self.seed = workers, seed
        self._it = None
        self._batch = 0

    def __len__(self) -> int:
        return len(self.files)

    def shard(self, rank: int, world: int) -> "ImageStream":
        """Rank ``rank``'s share of the files (every world-th), with its own order."""
        return ImageStream(self.files[rank::world], self.crop, self.size, self.channels, self.workers,
                           self.seed + 7907 * (rank + 1), self.max_pixels,
                           self.labels[rank::world] if self.labels else None, self.skip_bad)

    def batch(self, n: int, device: Optional[torch.device] = None) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """``n`` images in [-1, 1] on ``device`` (the CPU by default) and their labels (None for
        an unlabelled folder). To a GPU they travel as bytes (a quarter of float32's size) from
        pinned memory, without waiting, and become floats there; the workers decode the next
        batches meanwhile (prefetch)."""
        cuda = device is not None and device.type == "cuda"
        if self._it is None or n != self._batch:
            g = torch.Generator().manual_seed(self.seed)
            sampler = torch.utils.data.RandomSampler(range(len(self.files)), replacement=True,
                                                     num_samples=1 << 62, generator=g)
            loader = torch.utils.data.DataLoader(_Files(self.files, self.crop, self.size, self.channels, self.max_pixels,
                                                        self.labels, self.skip_bad),
                                                 batch_size=n, sampler=sampler, num_workers=self.workers,
                                                 collate_fn=_collate,
                                                 persistent_workers=self.workers > 0, drop_last=True,
                                                 pin_memory=cuda, prefetch_factor=4 if self.workers > 0 else None)
            self._it, self._batch = iter(loader), n
        got = next(self._it)
        if isinstance(got, DataError):
            raise DataError(f"{got}{'' if self.skip_bad else SKIP_HINT}")
        x, y = got
        if device is not None:
            x, y = x.to(device, non_blocking=cuda), y.to(device, non_blocking=cuda)
        return x.float() / 127.5 - 1.0, (y if self.labels else None)


@DATASETS.register("lfw", help="the 200 grey 25x25 faces of Labeled Faces in the Wild that scikit-image ships")
def load_lfw(cfg) -> Dataset:
    """The 200 grey 25x25 faces of Labeled Faces in the Wild that scikit-image ships."""
    try:
        from skimage.data import lfw_subset
    except ImportError:
        raise ConfigError("data.name=lfw needs scikit-image: pip install 'ganforge[faces]'") from None
    x = torch.from_numpy(lfw_subset().astype(np.float32)).unsqueeze(1) * 2 - 1
    return Dataset(name="lfw", x=resize(x, cfg.size))
