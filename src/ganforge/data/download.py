"""MNIST download for users with internet: mirrors tried in order, each file verified by
checksum, written atomically (a temporary file renamed into place: no half files)."""
from __future__ import annotations

import gzip
import hashlib
import zlib
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterable

from ..errors import DataError

#: accepted checksums per file: md5 of the .gz as published (torchvision's list) or md5
#: of the decompressed IDX content (the same whatever the gzip level of the mirror)
CHECKSUMS: dict[str, dict[str, set[str]]] = {
    "train-images-idx3-ubyte.gz": {"gz": {"f68b3c2dcbeaaa9fbdd348bbdeb94873"}, "raw": set()},
    "train-labels-idx1-ubyte.gz": {"gz": {"d53e105ee54ea40749a09fcbcd1e9432"}, "raw": set()},
    "t10k-images-idx3-ubyte.gz": {"gz": {"9fb629c4189551a2d022fa330f9573f3"},
                                  "raw": {"2646ac647ad5339dbf082846283269ea"}},
    "t10k-labels-idx1-ubyte.gz": {"gz": {"ec29112dd5afa0611ce80d1b7f02629c"},
                                  "raw": {"27ae3e4e09519cfbb04c329615203637"}},
}
SPLIT_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
               "t10k": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def checksum_ok(name: str, data: bytes) -> bool:
    want = CHECKSUMS[name]
    if hashlib.md5(data).hexdigest() in want["gz"]:
        return True
    try:
        return hashlib.md5(gzip.decompress(data)).hexdigest() in want["raw"]
    except (OSError, EOFError, zlib.error):
        return False


def fetch(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (http(s) mirrors only)
        return r.read()


def download_mnist(folder: str | Path, mirrors: Iterable[str], splits: Iterable[str] = ("train", "t10k"),
                   timeout: float = 30.0, log: Callable[[str], None] = lambda s: None) -> list[Path]:
    """Download the files of ``splits`` missing from ``folder``; returns the paths written."""
    folder = Path(folder)
    mirrors = list(mirrors)
    if not mirrors:
        raise DataError("data.mirrors is empty: no place to download MNIST from")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create {folder} ({e.strerror or e})") from None
    written = []
    for split in splits:
        if split not in SPLIT_FILES:
            raise DataError(f"unknown MNIST split {split!r}: choose train or t10k")
        for name in SPLIT_FILES[split]:
            dest = folder / name
            if dest.is_file() and checksum_ok(name, dest.read_bytes()):
                continue
            tried = []
            for m in mirrors:
                url = m.rstrip("/") + "/" + name
                try:
                    if not url.startswith(("http://", "https://")):
                        raise ValueError("not an http(s) URL")
                    data = fetch(url, timeout)
                except (urllib.error.URLError, OSError, ValueError) as e:
                    tried.append(f"{url} ({getattr(e, 'reason', None) or e})")
                    continue
                if not checksum_ok(name, data):
                    tried.append(f"{url} (checksum mismatch: damaged or not MNIST)")
                    continue
                tmp = dest.with_name(f".{name}.part{os.getpid()}")
                try:
                    tmp.write_bytes(data)
                    os.replace(tmp, dest)
                except OSError as e:
                    tmp.unlink(missing_ok=True)
                    raise DataError(f"cannot write {dest} ({e.strerror or e})") from None
                log(f"downloaded {url}")
                written.append(dest)
                break
            else:
                raise DataError(f"could not download {name}; tried: " + "; ".join(tried))
    return written
