"""Reader for the IDX format (MNIST and friends), defensive against bad files.

The header's dimensions are never trusted to size an allocation: the payload length
is checked against the bytes actually present before anything is reshaped.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError

#: IDX type codes -> numpy dtype (big-endian as stored)
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_DECOMPRESSED = 1 << 30  # 1 GiB: more than any MNIST-like file, less than a gzip bomb


def read_bytes(path: Path) -> bytes:
    """File contents, gunzipped when the name ends in .gz, with clear errors."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    if path.suffix != ".gz":
        return raw
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(raw, MAX_DECOMPRESSED)
        if d.unconsumed_tail:
            raise DataError(f"{path}: decompresses to more than {MAX_DECOMPRESSED >> 20} MiB; not an IDX file")
        out += d.flush()
    except zlib.error as e:
        raise DataError(f"{path}: corrupted gzip data ({e})") from None
    if not d.eof:
        raise DataError(f"{path}: truncated gzip file (the compressed stream ends early)")
    return out


def parse_idx(data: bytes, source: str, expect_ndim: int | None = None) -> np.ndarray:
    """Parse IDX bytes into an array; ``source`` names the file in errors."""
    if len(data) < 4:
        raise DataError(f"{source}: too short for an IDX header ({len(data)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code not in _DTYPES or ndim == 0:
        raise DataError(f"{source}: wrong magic number 0x{data[:4].hex()} (expected 0x0000080N for an IDX file)")
    if expect_ndim is not None and ndim != expect_ndim:
        raise DataError(f"{source}: IDX header says {ndim} dimensions, expected {expect_ndim}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{source}: header truncated")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_DTYPES[dtype_code])
    count = 1
    for d in dims:
        count *= d
    need = count * dtype.itemsize
    have = len(data) - header
    if need != have:
        raise DataError(
            f"{source}: header claims {'x'.join(map(str, dims))} values ({need} bytes) "
            f"but the file holds {have} bytes of data"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)


def read_idx(path: Path, expect_ndim: int | None = None) -> np.ndarray:
    return parse_idx(read_bytes(path), str(path), expect_ndim)
