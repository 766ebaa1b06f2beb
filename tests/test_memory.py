"""Peak memory of the default MNIST DCGAN run (issue: under 2 GiB), measured on a real
process by the kernel (ru_maxrss), not estimated, with the benchmark's own measurement."""
import sys
from pathlib import Path

from test_distributed import _env

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from memory import peak_rss_mib  # noqa: E402


def test_default_mnist_dcgan_run_peak_rss_under_2_gib(tmp_path, mnist_dir):
    out, peak_mib, _ = peak_rss_mib(["train", "--preset", "dcgan-mnist", "--data-dir", str(mnist_dir), "--iters",
                                     "20", "--quiet", "--set", "train.sample_every=10", "--out", str(tmp_path / "run")],
                                    env=_env(), timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "finished: 20 generator steps" in out.stdout
    assert 100 < peak_mib < 2048, peak_mib  # > 100: the figure is a real process's, not a wrapper's
