"""Image folders written by the test itself, the shipped LFW faces, and the MNIST download
against HTTP servers on 127.0.0.1."""
import functools
import http.server
import re
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.config import DataConfig
from ganforge.data import load_dataset
from ganforge.data.download import download_mnist
from ganforge.errors import ConfigError, DataError


def write_images(folder, grey=True, colour=True):
    rng = np.random.default_rng(0)
    (folder / "sub" / "deeper").mkdir(parents=True)
    if colour:
        Image.fromarray(rng.integers(0, 255, (50, 70, 3), dtype=np.uint8)).save(folder / "a.jpg", quality=90)
        Image.fromarray(rng.integers(0, 255, (33, 41, 3), dtype=np.uint8)).save(folder / "sub" / "b.PNG")
        Image.fromarray(rng.integers(0, 255, (64, 64, 4), dtype=np.uint8)).save(folder / "sub" / "deeper" / "rgba.png")
    if grey:
        Image.fromarray(rng.integers(0, 255, (40, 30), dtype=np.uint8)).save(folder / "g.png")


def test_imagefolder_colour_odd_sizes_recursive(tmp_path):
    write_images(tmp_path, grey=False)
    ds = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=16))
    assert ds.x.shape == (3, 3, 16, 16) and ds.x.min() >= -1 and ds.x.max() <= 1


def test_imagefolder_centre_crop_exact(tmp_path):
    arr = np.zeros((20, 40), np.uint8)
    arr[:, 10:30] = 255  # the centre 20x20 square is white, the sides black
    Image.fromarray(arr).save(tmp_path / "c.png")
    ds = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=8))
    assert ds.x.shape == (1, 1, 8, 8) and torch.all(ds.x == 1.0)


def test_mixed_channels_train_as_colour_with_one_line_or_as_data_channels_says(tmp_path, capfd):
    write_images(tmp_path)  # g.png is grey (the second in sorted order), the other three colour
    ds = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=16))
    assert ds.x.shape == (4, 3, 16, 16)
    alone = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=16, limit=2, channels=1)).x[1]
    # the grey image is its own grey in every channel
    assert all(torch.equal(ds.x[1, k], alone[0]) for k in range(3))
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "mixes grey and colour images (1 grey of the 4 read, first" in err
    assert "g.png" in err and "data.channels=1" in err
    ds = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=16, channels=1))
    assert ds.x.shape == (4, 1, 16, 16) and capfd.readouterr().err == ""
    for f in ("a.jpg", "sub/b.PNG", "sub/deeper/rgba.png"):
        (tmp_path / f).unlink()
    assert load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=16)).x.shape[1] == 1

def test_broken_file_named_or_skipped(tmp_path, capsys):
    write_images(tmp_path, grey=False)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DataError, match="broken.jpg"):
        load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=16))
    capsys.readouterr()
    ds = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=16, skip_bad=True))
    err = capsys.readouterr().err  # one line in our words
    assert len(ds) == 3 and err.startswith("warning: skipping ") and "broken.jpg" in err and err.count("\n") == 1


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="no images found"):
        load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path)))
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path / "nope")))
    with pytest.raises(ConfigError, match="needs data.dir"):
        load_dataset(DataConfig(name="imagefolder"))
    Image.fromarray(np.zeros((30, 30), np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(DataError, match="small.png: 30x30 px is smaller than the crop of 140"):
        load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), crop=140))


def write_classes(folder, n_each, side=12):
    """Three classes in subfolders, each image one flat grey level that names its class
    (0, 127, 254 -> -1, ~0, ~1 in [-1, 1]); the last class one folder deeper inside its own."""
    for k, name in enumerate(["ant", "bee", "cat"]):
        sub = folder / name / ("deep" if name == "cat" else "")
        sub.mkdir(parents=True, exist_ok=True)
        for i in range(n_each):
            Image.fromarray(np.full((side, side), 127 * k, np.uint8)).save(sub / f"{i:03d}.png")


def test_a_folder_with_one_subfolder_per_class_is_labelled(tmp_path):
    """torchvision's ImageFolder convention: class = first subfolder (sorted names), any depth
    below it; a loose image in the root, or a single class, leaves the folder unlabelled."""
    write_classes(tmp_path, 4)
    ds = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=8))
    assert ds.num_classes == 3 and ds.info["classes"] == ["ant", "bee", "cat"] and ds.info["labels"] == "subfolders"
    grey = ds.x.mean(dim=(1, 2, 3))
    assert ds.y.tolist() == [0] * 4 + [1] * 4 + [2] * 4  # the listing's order, as before labels were read
    assert torch.equal(torch.bucketize(grey, torch.tensor([-0.5, 0.5])), ds.y)  # each image's level is its label
    # data.limit takes a seeded random N, so they hold every class, not the first ones alone
    few = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=8, limit=6))
    assert len(few) == 6 and len(set(few.y.tolist())) == 3
    assert torch.equal(load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=8, limit=6)).y, few.y)
    held = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=8, holdout=5))
    assert torch.equal(torch.bucketize(held.holdout_x.mean(dim=(1, 2, 3)), torch.tensor([-0.5, 0.5])), held.holdout_y)
    Image.fromarray(np.zeros((12, 12), np.uint8)).save(tmp_path / "loose.png")
    ds = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=8))
    assert ds.y is None and ds.num_classes == 0 and "classes" not in ds.info
    one = tmp_path / "ant"  # one class alone is no labelling
    assert load_dataset(DataConfig(name="imagefolder", dir=str(one), size=8)).y is None


def test_a_streamed_labelled_folder_gives_each_image_its_label_and_trains_conditionally(tmp_path):
    import ganforge

    write_classes(tmp_path, 8)
    # 24 images at 64 px, budgeted as 3 x 64 x 64 float32 = 48 KiB each: 1.1 MiB > 1 MiB -> streamed
    ds = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=64, max_memory_mb=1, workers=0))
    assert ds.stream is not None and len(ds.stream) == 24 and ds.num_classes == 3 and len(ds) == 21
    assert torch.equal(torch.bucketize(ds.x.mean(dim=(1, 2, 3)), torch.tensor([-0.5, 0.5])), ds.y)  # the kept sample
    x, y = ds.stream.batch(16)
    assert torch.equal(torch.bucketize(x.mean(dim=(1, 2, 3)), torch.tensor([-0.5, 0.5])), y)
    assert torch.equal(ds.stream.shard(1, 2).batch(6)[1] >= 0, torch.ones(6, dtype=torch.bool))
    base = {"data": {"name": "imagefolder", "dir": str(tmp_path), "size": 64, "max_memory_mb": 1, "workers": 0},
            "model": {"conditional": True, "g_hidden": [16], "d_hidden": [16]},
            "train": {"iters": 2, "batch_size": 6, "tensorboard": False, "device": "cpu", "threads": 1,
                      "sample_every": 2, "ckpt_every": 2}}
    res = ganforge.train(base | {"out": str(tmp_path.parent / "run")}, log=lambda m: None)
    assert res.status == "finished"
    # a class by its subfolder's name is that class's number
    assert torch.equal(ganforge.sample(res.run_dir, n=4, class_="bee"), ganforge.sample(res.run_dir, n=4, class_=1))
    with pytest.raises(ConfigError, match=re.escape("--class 'be' is not a class of this run (did you mean 'bee'?); "
                                                    "give one of ant, bee, cat")):
        ganforge.sample(res.run_dir, n=4, class_="be")
    # to a folder: one PNG a sample in a subfolder a class, which reads back as the same classes
    got = ganforge.sample(res.run_dir, n=9, out=tmp_path.parent / "drawn")
    back = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path.parent / "drawn"), size=64))
    assert back.info["classes"] == ["ant", "bee", "cat"] and back.y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert (back.x - got).abs().max() <= 1 / 127.5 + 1e-6  # the samples, to 8 bits
    (tmp_path / "loose.png").write_bytes((tmp_path / "ant" / "000.png").read_bytes())
    with pytest.raises(ConfigError, match=re.escape(f"model.conditional needs labelled data, and {tmp_path / 'loose.png'} "
                                                    f"lies directly in {tmp_path} beside 3 subfolder(s): for classes, "
                                                    "put every image in its class's subfolder")):
        ganforge.train(base | {"out": str(tmp_path.parent / "run2")}, log=lambda m: None)
    with pytest.raises(ConfigError, match=re.escape("has one class subfolder (deep): classes need two or more")):
        ganforge.train(base | {"data": base["data"] | {"dir": str(tmp_path / "cat")},
                               "out": str(tmp_path.parent / "run3")}, log=lambda m: None)


def test_lfw_faces():
    ds = load_dataset(DataConfig(name="lfw", size=32))
    assert ds.x.shape == (200, 1, 32, 32) and ds.x.min() >= -1 and ds.x.max() <= 1


def test_celeba_preset_on_a_fake_folder(tmp_path):
    from ganforge.config import Config, load_preset

    rng = np.random.default_rng(1)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (218, 178, 3), dtype=np.uint8)).save(tmp_path / f"{i:06d}.jpg")
    cfg = Config.from_dict(load_preset("celeba"))
    cfg.data.dir = str(tmp_path)
    ds = load_dataset(cfg.data)
    assert ds.x.shape == (3, 3, 64, 64)


# ----------------------------------------------------------------------------- download
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(folder):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def test_download_from_local_mirror(tmp_path, mnist_dir, serve):
    url = serve(mnist_dir)
    out = tmp_path / "mnist"
    written = download_mnist(out, [url], splits=["t10k"])
    assert sorted(p.name for p in written) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert not list(out.glob(".*part*"))
    ds = load_dataset(DataConfig(name="mnist", dir=str(out)))
    assert len(ds) == 10000
    assert download_mnist(out, [url], splits=["t10k"]) == []  # already there and verified


def test_download_skips_corrupted_mirror(tmp_path, mnist_dir, serve):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in mnist_dir.glob("*.gz"):
        data = bytearray(f.read_bytes())
        data[100] ^= 0xFF
        (bad / f.name).write_bytes(bytes(data))
    bad_url, good_url = serve(bad), serve(mnist_dir)
    with pytest.raises(DataError, match="checksum mismatch"):
        download_mnist(tmp_path / "o1", [bad_url], splits=["t10k"])
    assert not any((tmp_path / "o1").glob("*.gz"))  # no damaged file left behind
    written = download_mnist(tmp_path / "o2", [bad_url, good_url], splits=["t10k"])
    assert len(written) == 2


def test_download_no_mirror_answers(tmp_path, serve):
    empty = tmp_path / "empty"
    empty.mkdir()
    url = serve(empty)
    with pytest.raises(DataError, match="tried: .*127.0.0.1.*not found.*127.0.0.1:9/.*refused"):
        download_mnist(tmp_path / "o", [url, "http://127.0.0.1:9/"], splits=["t10k"], timeout=5)


def test_download_through_config(tmp_path, mnist_dir, serve):
    url = serve(mnist_dir)
    ds = load_dataset(DataConfig(name="mnist", dir=str(tmp_path / "m"), download=True, mirrors=[url],
                                 download_splits=["t10k"]))
    assert len(ds) == 10000


def test_large_folder_is_streamed_with_workers(tmp_path):
    import ganforge

    rng = np.random.default_rng(2)
    for i in range(40):
        Image.fromarray(rng.integers(0, 255, (20, 20), dtype=np.uint8)).save(tmp_path / f"{i:03d}.png")
    # 40 images at 64 px, budgeted as 3 x 64 x 64 float32 = 48 KiB each: 1.9 MiB > 1 MiB -> streamed,
    # with the 21 images that fit in 1 MiB kept in memory as a sample
    cfg = DataConfig(name="imagefolder", dir=str(tmp_path), size=64, max_memory_mb=1, workers=2)
    ds = load_dataset(cfg)
    assert ds.stream is not None and len(ds.stream) == 40
    assert ds.x.shape == (21, 1, 64, 64)
    b, y = ds.stream.batch(8)
    assert b.shape == (8, 1, 64, 64) and b.min() >= -1 and b.max() <= 1 and y is None  # unlabelled
    res = ganforge.train({"data": {"name": "imagefolder", "dir": str(tmp_path), "size": 16, "max_memory_mb": 1,
                                   "workers": 1},
                          "model": {"name": "dcgan", "width": 8},
                          "train": {"iters": 3, "batch_size": 8, "n_critic": 1, "tensorboard": False, "device": "cpu"},
                          "out": str(tmp_path / "run")}, log=lambda m: None)
    assert res.status == "finished"


def test_an_unreadable_streamed_image_is_one_line_or_skipped(tmp_path, capfd):
    """A streamed folder decodes in DataLoader workers: a bad file there was torch's worker
    traceback mid-training, and data.skip_bad did not apply to it."""
    from ganforge.data.images import SKIP_HINT, ImageStream

    Image.fromarray(np.full((12, 12), 200, np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    files = sorted(tmp_path.glob("*.png"))
    for workers in (0, 1):
        with pytest.raises(DataError) as e:
            ImageStream(files, None, 8, 1, workers, seed=0).batch(16)
        assert str(e.value).startswith(f"{tmp_path / 'b.png'}: unreadable image") and str(e.value).endswith(SKIP_HINT)
        assert "\n" not in str(e.value) and "Traceback" not in str(e.value)
        capfd.readouterr()
        x, y = ImageStream(files, None, 8, 1, workers, seed=0, skip_bad=True).batch(16)
        # every slot holds the readable image (200 -> 200 / 127.5 - 1), the bad one's included
        assert x.shape == (16, 1, 8, 8) and torch.allclose(x, torch.full_like(x, 200 / 127.5 - 1)) and y is None
        err = capfd.readouterr().err
        assert err.count("warning: skipping") == 1 and "b.png" in err  # once a worker
    with pytest.raises(DataError, match="every one of the 1 streamed images was unreadable") as e:
        ImageStream(files[1:], None, 8, 1, 0, seed=0, skip_bad=True).batch(4)
    assert SKIP_HINT not in str(e.value)
    # the in-memory load's error names the way past it too
    with pytest.raises(DataError, match="b.png: unreadable image") as e:
        load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=8))
    assert str(e.value).endswith(SKIP_HINT)


def test_deep_grey_images_keep_their_tones(tmp_path):
    """Pillow's own conversion to 8 bits clips: a 16-bit PNG read nearly white, a float
    TIFF in [0, 1] black. Each is scaled to 0-255 instead (16 bits: /257)."""
    ramp16 = (np.arange(64, dtype=np.uint32) * 1040).astype(np.uint16).reshape(8, 8)  # 0 .. 65,520
    ramp_f = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    ramp_i = (np.arange(64, dtype=np.int32) * 4).reshape(8, 8)  # 0 .. 252: 8-bit values in 32 bits
    for name, im, want in (("a16.png", Image.fromarray(ramp16), ramp16 / 257),
                           ("f.tiff", Image.fromarray(ramp_f), ramp_f * 255),
                           ("i.tiff", Image.fromarray(ramp_i, "I"), ramp_i)):
        d = tmp_path / name.split(".")[0]
        d.mkdir()
        im.save(d / name)
        x = load_dataset(DataConfig(name="imagefolder", dir=str(d), size=8)).x
        got = (x[0, 0].numpy() + 1) * 127.5
        assert x.shape == (1, 1, 8, 8) and np.abs(got - want).max() <= 0.5 + 1e-4, name


def test_a_photo_turned_by_its_exif_orientation_loads_upright(tmp_path):
    # a 12x8 (wide) picture, left half dark, stored with orientation 6: shown turned 90 degrees
    # clockwise, i.e. 8 wide and 12 tall with the dark half on top
    a = np.full((8, 12), 230, np.uint8)
    a[:, :6] = 20
    im = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6
    im.save(tmp_path / "p.png", exif=exif.tobytes())
    got = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=8, crop=8, channels=1)).x[0, 0]
    # rot90 with k=-1 is a clockwise turn; the centre 8x8 crop of the 8x12 upright image
    upright = np.rot90(a, k=-1)[2:10]
    assert torch.equal(got, torch.from_numpy(upright.copy()).float() / 127.5 - 1)


def test_hidden_files_and_folders_are_not_images_or_classes(tmp_path):
    """macOS's ._NAME companions (not images), .DS_Store, a notebook's .ipynb_checkpoints
    copies: none is read, and none makes a class."""
    write_classes(tmp_path, 2)
    (tmp_path / "ant" / "._000.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00")
    ck = tmp_path / ".ipynb_checkpoints"
    ck.mkdir()
    Image.fromarray(np.full((12, 12), 90, np.uint8)).save(ck / "000-checkpoint.png")
    Image.fromarray(np.full((12, 12), 90, np.uint8)).save(tmp_path / "bee" / ".hidden.png")
    ds = load_dataset(DataConfig(name="imagefolder", dir=str(tmp_path), size=8))
    assert len(ds) == 6 and ds.info["classes"] == ["ant", "bee", "cat"] and ds.y.tolist() == [0, 0, 1, 1, 2, 2]


def test_a_large_jpeg_read_at_a_fraction_of_its_scale_matches_a_full_decode(tmp_path):
    """Large JPEGs decode at 1/2-1/8 scale in the DCT (kept at least twice the target side):
    the image read differs from the full decode's by a few grey levels at most."""
    from ganforge.data.images import _decode_all

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:600, 0:800]
    img = np.stack([(xx / 4) % 256, (yy / 3) % 256, ((xx + yy) / 7) % 256], -1)
    img = np.clip(img + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "photo.jpg", quality=92)
    for size in (32, 64):
        (fast, c), = _decode_all([tmp_path / "photo.jpg"], None, size, None, 40_000_000, threads=1)
        (full, _), = _decode_all([tmp_path / "photo.jpg"], None, size, None, 40_000_000, threads=1, draft=False)
        d = np.abs(fast.astype(int) - full.astype(int))
        assert c == 3 and fast.shape == (3, size, size) and d.max() <= 4 and d.mean() < 1, (size, d.max(), d.mean())
    # threads keep the listing's order, errors in their place
    (tmp_path / "zz.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "a.png")
    got = list(_decode_all([tmp_path / "a.png", tmp_path / "zz.jpg", tmp_path / "photo.jpg"], None, 8, None, 40_000_000,
                           threads=3))
    assert got[0][1] == 1 and isinstance(got[1], DataError) and "zz.jpg" in str(got[1]) and got[2][1] == 3
