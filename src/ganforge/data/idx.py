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
#: the most a .gz file may decompress to. The largest file of MNIST (and of the formats
#: that copy it: Fashion-MNIST, KMNIST) is 47 MB; a cap just above that refuses a gzip bomb
#: after at most this many bytes, without holding more than that in memory
MAX_DECOMPRESSED = 64 << 20
_CHUNK = 1 << 20


def read_bytes(path: Path, limit: int = MAX_DECOMPRESSED) -> bytes:
    """File contents, gunzipped when the name ends in .gz, with clear errors.

    The gzip stream is read and inflated chunk by chunk, and the output is counted as it
    grows: a small file that would inflate to gigabytes is refused once it passes ``limit``
    bytes, so memory never holds more than the limit plus one chunk."""
    try:
        if path.suffix != ".gz":
            return path.read_bytes()
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        parts: list[bytes] = []
        total = 0
        with open(path, "rb") as f:
            while not d.eof:
                chunk = d.unconsumed_tail or f.read(_CHUNK)
                # at the end of the input, flush what zlib may still hold (bounded by the
                # window, 32 KiB), so an exact fill of the last chunk is not taken for truncation
                piece = d.decompress(chunk, _CHUNK) if chunk else d.flush()
                total += len(piece)
                if total > limit:
                    raise DataError(f"{path}: decompresses to more than {limit >> 20} MiB, more than any "
                                    "MNIST-format file; refused (a damaged file or a gzip bomb)")
                parts.append(piece)
                if not chunk:
                    break
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    except zlib.error as e:
        raise DataError(f"{path}: corrupted gzip data ({e})") from None
    if not d.eof:
        raise DataError(f"{path}: truncated gzip file (the compressed stream ends early)")
    return b"".join(parts)


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
