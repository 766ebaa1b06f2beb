"""Peak memory of the default MNIST DCGAN run (issue: under 2 GiB), measured on a real
process by the kernel (ru_maxrss), not estimated."""
import subprocess
import sys

from test_distributed import _env

WRAP = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")


def test_default_mnist_dcgan_run_peak_rss_under_2_gib(tmp_path, mnist_dir):
    out = subprocess.run([sys.executable, "-c", WRAP, sys.executable, "-m", "ganforge", "train", "--preset",
                          "dcgan-mnist", "--data-dir", str(mnist_dir), "--iters", "20", "--quiet",
                          "--set", "train.sample_every=10", "--out", str(tmp_path / "run")],
                         env=_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "finished: 20 generator steps" in out.stdout
    peak_mib = int(out.stdout.strip().splitlines()[-1]) / 1024
    assert 100 < peak_mib < 2048, peak_mib  # > 100: the figure is a real process's, not a wrapper's
