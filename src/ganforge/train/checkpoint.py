"""Atomic, verified checkpoints.

A checkpoint is written to a temporary file in the same folder, flushed, fsynced and
renamed into place; only then does the manifest (itself replaced atomically) name it,
with its step and sha256. Older checkpoints are deleted only after the new one is
complete. Loading walks the manifest newest-first and falls back, with a warning, to
an older checkpoint when the newest is missing or damaged. Checkpoints are read with
``torch.load(weights_only=True)``: a downloaded checkpoint cannot run code.
"""
from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import RunError

MANIFEST = "manifest.json"
#: the only names a manifest may give: a bare checkpoint file of its own folder. A run
#: folder is an artefact people share and download; a manifest naming ``../x`` or an
#: absolute path must never make rotation delete (or loading read) a file elsewhere
CKPT_NAME = re.compile(r"ckpt_\d{7,}\.pt")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class DiskFullError(RunError):
    """A write failed for lack of space (the caller may say how to go on)."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    existed = path.exists()
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if e.errno == errno.ENOSPC:
            kept = "; the previous file is kept" if existed else ""
            raise DiskFullError(f"{path}: disk full while writing{kept}") from None
        raise RunError(f"{path}: cannot write ({e.strerror or e})") from None


def check_name(name: Any, where: Path) -> str:
    """``name`` if it is a bare checkpoint file name (``ckpt_NNNNNNN.pt``); RunError otherwise."""
    if not isinstance(name, str) or not CKPT_NAME.fullmatch(name):
        shown = repr(name)[:80]
        raise RunError(f"{where}: refused: names {shown}, which is not a checkpoint file of this folder "
                       "(only bare ckpt_NNNNNNN.pt names are allowed)")
    return name


def read_manifest(folder: Path) -> list[dict[str, Any]]:
    """The manifest's entries, oldest first. RunError when an entry names a file that is
    not a bare checkpoint name of this folder (a tampered manifest is refused, not skipped:
    silently ignoring it could still delete the real checkpoints by rotation)."""
    p = folder / MANIFEST
    try:
        entries = json.loads(p.read_text())["checkpoints"]
        entries = [e for e in entries if isinstance(e, dict) and "file" in e and "step" in e]
    except (OSError, ValueError, KeyError, TypeError):
        entries = None
    if entries is not None:
        for e in entries:
            check_name(e["file"], p)
            if isinstance(e["step"], bool) or not isinstance(e["step"], int):
                raise RunError(f"{p}: refused: step {e['step']!r} of {e['file']} is not an integer")
        return entries
    # no or damaged manifest: fall back to the files themselves, newest step last
    files = sorted(f for f in folder.glob("ckpt_*.pt") if CKPT_NAME.fullmatch(f.name))
    return [{"file": f.name, "step": int(f.stem.split("_")[1]), "sha256": None} for f in files]


def save_checkpoint(folder: Path, step: int, state: dict[str, Any], keep: int = 2) -> Path:
    """Write ``state`` as ``ckpt_<step>.pt`` atomically and record it in the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(state, buf)
    path = folder / f"ckpt_{step:07d}.pt"
    atomic_write_bytes(path, buf.getvalue())
    entries = [e for e in read_manifest(folder) if e["file"] != path.name]
    entries.append({"file": path.name, "step": step, "sha256": _sha256(path)})
    entries.sort(key=lambda e: e["step"])
    kept, dropped = entries[-keep:], entries[:-keep]
    atomic_write_bytes(folder / MANIFEST, json.dumps({"checkpoints": kept}, indent=1).encode())
    for e in dropped:  # only after the new checkpoint and manifest are durable
        (folder / e["file"]).unlink(missing_ok=True)
    return path


def load_file(path: Path, sha256: str | None = None) -> dict[str, Any]:
    """Load one checkpoint file safely; RunError when damaged or not a checkpoint."""
    if sha256 is not None and _sha256(path) != sha256:
        raise RunError(f"{path}: checksum mismatch (file damaged)")
    try:
        with warnings.catch_warnings():
            # torch's notes on how the file was pickled (e.g. "pickle protocol 4") tell a user
            # nothing to act on; the file is verified above and refused below if unsafe
            warnings.filterwarnings("ignore", message=r"(?is).*pickle.*protocol", category=UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # torch's message is ~600 characters and advises turning the protection off; ours
        # is one line and names what the file wanted to run
        m = re.search(r"GLOBAL (\S+)", str(e))
        what = f" (it references {m.group(1)})" if m else ""
        raise RunError(f"{path}: refused: the file would run code when loaded{what}; a ganforge "
                       "checkpoint holds only tensors and plain values") from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise RunError(f"{path}: not a readable checkpoint ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    if not isinstance(state, dict) or "step" not in state:
        raise RunError(f"{path}: not a ganforge checkpoint")
    return state


def load_latest(folder: Path, max_step: int | None = None) -> tuple[dict[str, Any], Path]:
    """The newest intact checkpoint in ``folder`` (falls back to older ones, warning);
    with ``max_step``, the newest at or before that step."""
    entries = read_manifest(folder) if folder.is_dir() else []
    if max_step is not None:
        entries = [e for e in entries if e["step"] <= max_step]
    if not entries:
        raise RunError(f"{folder}: no checkpoint found")
    problems: list[tuple[str, str]] = []  # (file name, reason)
    for e in reversed(entries):
        path = folder / e["file"]
        try:
            if not path.is_file():
                raise RunError(f"{path}: missing")
            state = load_file(path, e.get("sha256"))
            for name, why in problems:
                warnings.warn(f"{folder / name}: {why}; using the older checkpoint {path.name} (step {state['step']})")
            return state, path
        except RunError as err:
            msg = str(err)
            problems.append((path.name, msg[len(f"{path}: "):] if msg.startswith(f"{path}: ") else msg))
    # one line: files that failed for the same reason are named together
    by_reason: dict[str, list[str]] = {}
    for name, why in problems:
        by_reason.setdefault(why, []).append(name)
    raise RunError(f"{folder}: every checkpoint is damaged or refused: "
                   + "; ".join(f"{', '.join(names)}: {why}" for why, names in by_reason.items()))
