"""Property-based tests: every generated or mutated input either loads correctly or
raises the project's own error type, never anything else."""
import gzip
import io
import struct

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ganforge.config import Config, _all_keys
from ganforge.data.idx import parse_idx, read_bytes
from ganforge.errors import GanforgeError
from ganforge.resolve import finish

KEYS = _all_keys(Config())
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.lists(st.integers(-5, 5), max_size=3))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS + ["bogus.key", "train", "model.x"]), scalars, max_size=6))
def test_config_from_generated_dicts(flat):
    nested: dict = {}
    for k, v in flat.items():
        node = nested
        parts = k.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {}) if isinstance(node.get(p, {}), dict) else {}
        node[parts[-1]] = v
    try:
        cfg = finish(Config.from_dict(nested))
    except GanforgeError:
        return
    finish(cfg)  # what loads stays valid


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KEYS + ["nope", "train.nope", ""]), st.text(max_size=20))
def test_config_overrides_from_strings(key, value):
    cfg = Config()
    try:
        cfg.apply_overrides([f"{key}={value}"])
        finish(cfg)
    except GanforgeError:
        pass


def _idx(arr: np.ndarray) -> bytes:
    return struct.pack(">HBB", 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


VALID = _idx(np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_idx_random_bytes(data):
    try:
        parse_idx(data, "x")
    except GanforgeError:
        pass


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=8),
       st.integers(0, len(VALID)))
def test_idx_mutated(mutations, cut):
    data = bytearray(VALID)
    for pos, val in mutations:
        data[pos] = val
    try:
        arr = parse_idx(bytes(data[:cut]), "x")
    except GanforgeError:
        return
    assert arr.size * arr.itemsize == cut - 4 - 4 * arr.ndim


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=6), st.integers(1, 400))
def test_gzip_mutated(tmp_path, mutations, cut):
    data = bytearray(gzip.compress(VALID))
    for pos, val in mutations:
        if pos < len(data):
            data[pos] = val
    p = tmp_path / "f.gz"
    p.write_bytes(bytes(data[:cut]))
    try:
        parse_idx(read_bytes(p), str(p))
    except GanforgeError:
        pass


def _png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(PNG) - 1), st.integers(0, 255)), max_size=6),
       st.integers(0, len(PNG)), st.sampled_from([".png", ".jpg"]))
def test_image_folder_mutated(tmp_path_factory, mutations, cut, ext):
    from ganforge.config import DataConfig
    from ganforge.data import load_dataset

    folder = tmp_path_factory.mktemp("imgs")
    data = bytearray(PNG)
    for pos, val in mutations:
        data[pos] = val
    (folder / f"a{ext}").write_bytes(bytes(data[:cut]))
    try:
        ds = load_dataset(DataConfig(name="imagefolder", dir=str(folder), size=8))
    except GanforgeError:
        return
    assert ds.x.shape[1:] in ((3, 8, 8), (1, 8, 8)) and ds.x.abs().max() <= 1
