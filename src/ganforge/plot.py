"""``ganforge plot``: the run's training curves and penalty schedule as PNG files."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from .errors import RunError
from .train.rundir import RunDir

PANELS = [
    ("losses", ["loss_d", "loss_g"]),
    ("wasserstein", ["wasserstein", "ivgp_distance", "ivgp_reference"]),
    ("penalty schedule (lambda)", ["penalty_weight"]),
    ("IVGP rho", ["ivgp_rho"]),
    ("interpolation of the penalty points (eps)", ["eps_mean", "eps_std"]),
    ("gradient norms at penalty points", ["gp_grad_norm", "gp_grad_norm_max", "gp_dir_deriv"]),
    ("parameter gradient norms", ["grad_norm_d", "grad_norm_g"]),
    ("FID", ["fid"]),
    ("sample diversity / real", ["diversity_ratio"]),
]


def panels_for(keys) -> list[tuple[str, list[str]]]:
    """The panels that have data among ``keys`` (a panel only for what the run logged: no
    IVGP panel for a run without the IVGP schedule)."""
    panels = [(t, [k for k in ks if k in keys]) for t, ks in PANELS]
    return [(t, ks) for t, ks in panels if ks]


def plot_run(run_dir: str | Path, out: Optional[str | Path] = None) -> list[Path]:
    """Write ``training.png`` (all panels with data) into ``out`` (default RUN_DIR/plots)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = RunDir(Path(run_dir)).require_run()
    recs = run.read_metrics()
    if not any("loss_d" in r for r in recs):
        raise RunError(f"{run.metrics_file}: no training metrics yet")
    series: dict[str, tuple[list[float], list[float]]] = {}
    for r in recs:
        for k, v in r.items():
            if k in ("step", "time") or not isinstance(v, (int, float)):
                continue
            xs, ys = series.setdefault(k, ([], []))
            xs.append(r["step"])
            ys.append(float(v))
    panels = panels_for(series)
    cols = 2
    rows = (len(panels) + 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 3.0 * rows), dpi=100, squeeze=False)
    for ax, (title, keys) in zip(axes.flat, panels):
        for k in keys:
            ax.plot(*series[k], label=k, lw=1.2)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("generator step", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(str(run.path.name), fontsize=11)
    fig.tight_layout()
    out_dir = Path(out) if out else run.path / "plots"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "training.png"
    fig.savefig(path)
    plt.close(fig)
    return [path]
