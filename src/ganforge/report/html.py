"""``ganforge runs`` and ``ganforge report``.

The report is one HTML page with PNG figures beside it (the same files serve papers):
losses, Wasserstein estimate, lambda schedule, FID over steps and over time, sample
grids over time, the run configs side by side with differences highlighted, and for an
Optuna study the best trials, parameter importances and the optimization history.
"""
from __future__ import annotations

import html
import json
import shutil
from pathlib import Path
from typing import Any, Optional

from ..errors import RunError
from ..train.rundir import RunDir


def _flat(d: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def find_runs(paths: list[Path], skipped: Optional[list[str]] = None) -> list[RunDir]:
    """Readable run folders at or below ``paths`` (a run, a folder of runs, or a study).

    A run that cannot be read (a config that is not plain YAML, a link leading out of the
    folder) is left out and named in ``skipped`` as "path: reason": one bad folder must not
    hide the rest of a listing."""
    skipped = skipped if skipped is not None else []
    runs: list[RunDir] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise RunError(f"{p} does not exist")
        if RunDir(p).is_run():
            runs.append(RunDir(p))
            continue
        found = sorted({c.parent for c in p.rglob("config.yaml")})
        runs += [RunDir(f) for f in found]
    good = []
    for r in runs:
        try:
            r.require_run()
            r.read_config()
            good.append(r)
        except RunError as e:
            skipped.append(str(e))
    if not good:
        why = f" ({len(skipped)} unreadable: {skipped[0]})" if skipped else ""
        raise RunError(f"no readable run folders found in {', '.join(map(str, paths))}{why}")
    return good


def _eval_json(run: RunDir) -> dict[str, Any]:
    """The record `ganforge eval` wrote into the run folder (empty when none is readable)."""
    import json

    try:
        d = json.loads((run.path / "eval.json").read_text())
    except (OSError, ValueError):
        return {}
    return d if isinstance(d, dict) else {}


def run_summary(run: RunDir) -> dict[str, Any]:
    recs = run.read_metrics()
    train = [r for r in recs if "loss_d" in r]
    evals = [r for r in recs if "fid" in r or "w1" in r]
    cfg = _flat(run.read_config())
    # the run's own measure: FID for images, exact W1 for toy data (a run not yet evaluated
    # still gets the column its data will have)
    key = ("fid" if any("fid" in e for e in evals) else "w1" if any("w1" in e for e in evals)
           else "w1" if cfg.get("data.name") == "toy" else "fid")
    best = min((e[key] for e in evals if key in e), default=None)
    st = run.live_status()  # "lost" where run.json says running and its process is gone
    from ..metrics.evaluate import headline

    # the run's quality: `ganforge eval`'s eval.json when there is one, else the last evaluation in training
    last = _eval_json(run) or (max((r for r in recs if headline(r)), key=lambda r: r["step"], default={}))
    if best is None and isinstance(last.get(key), (int, float)):
        best = last[key]
    return {"run": str(run.path), "status": st.get("status", "?"), "step": st.get("step", train[-1]["step"] if train else 0),
            "iters": cfg.get("train.iters"), f"best_{key}": best, "quality": headline(last) or None,
            "data": cfg.get("data.name"),
            "model": cfg.get("model.name"), "loss": cfg.get("loss.name"),
            "penalty": f"{cfg.get('penalty.name')}/{cfg.get('penalty.schedule')}",
            "optim": f"{cfg.get('optim.g.name')} {cfg.get('optim.g.lr'):g}/{cfg.get('optim.d.lr'):g}"}


def list_runs(paths: list[Path], skipped: Optional[list[str]] = None) -> list[dict[str, Any]]:
    """One summary row per readable run; unreadable ones are named in ``skipped``."""
    return [run_summary(r) for r in find_runs(paths, skipped)]


def _series(recs: list[dict], key: str, x: str = "step") -> tuple[list, list]:
    pts = [(r[x], r[key]) for r in recs if isinstance(r.get(key), (int, float))]
    return [p[0] for p in pts], [p[1] for p in pts]


def _figures(runs: list[RunDir], out: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("losses.png", "Discriminator and generator losses", ["loss_d", "loss_g"], "step"),
              ("wasserstein.png", "Wasserstein estimate", ["wasserstein"], "step"),
              ("lambda.png", "Penalty weight lambda", ["penalty_weight"], "step"),
              ("fid_steps.png", "FID over generator steps", ["fid"], "step"),
              ("fid_time.png", "FID over training seconds", ["fid"], "time"),
              ("w1_steps.png", "Exact W1 to the data (toy) over generator steps", ["w1"], "step"),
              ("w1_time.png", "Exact W1 (toy) over training seconds", ["w1"], "time")]
    figs = []
    recs = {r.path: r.read_metrics() for r in runs}
    for fname, title, keys, x in panels:
        fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
        drawn = False
        for r in runs:
            for k in keys:
                xs, ys = _series(recs[r.path], k, x)
                if xs:
                    lab = r.path.name + (f" {k}" if len(keys) > 1 else "")
                    ax.plot(xs, ys, label=lab, lw=1.2, marker="o" if len(xs) < 30 else None, ms=3)
                    drawn = True
        if not drawn:
            plt.close(fig)
            continue
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training seconds" if x == "time" else "generator step", fontsize=8)
        ax.grid(alpha=0.3)
        if len(runs) <= 12:
            ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(out / fname)
        plt.close(fig)
        figs.append((fname, title))
    return figs


def _study_section(study_db: Path, out: Path) -> str:
    try:
        import optuna
    except ImportError:
        return ""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{study_db.resolve()}"
    parts = []
    for summary in optuna.get_all_study_summaries(url):
        st = optuna.load_study(study_name=summary.study_name, storage=url)
        trials = st.get_trials(deepcopy=False)
        done = [t for t in trials if t.value is not None]
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
        ax.scatter([t.number for t in done], [t.value for t in done], s=14, label="trial value")
        best, xs, ys = None, [], []
        for t in sorted(done, key=lambda t: t.number):
            if best is None or (t.value < best if st.direction.name == "MINIMIZE" else t.value > best):
                best = t.value
            xs.append(t.number)
            ys.append(best)
        ax.plot(xs, ys, color="tab:red", label="best so far")
        ax.set_title(f"Optimization history: {summary.study_name}", fontsize=10)
        ax.set_xlabel("trial", fontsize=8)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fname = f"history_{summary.study_name}.png"
        fig.savefig(out / fname)
        plt.close(fig)
        rows = "".join(
            f"<tr><td>{t.number}</td><td>{t.state.name}</td><td>{'' if t.value is None else f'{t.value:.4g}'}</td>"
            f"<td>{html.escape(json.dumps(t.params))}</td><td>{html.escape(str(t.user_attrs.get('reason', '')))}</td></tr>"
            for t in sorted(trials, key=lambda t: (t.value is None, t.value if t.value is not None else 0)))
        imp_html = ""
        if len(done) >= 2 and st.best_trial.params:
            try:
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    imp = optuna.importance.get_param_importances(st)
                fig, ax = plt.subplots(figsize=(6.4, 0.5 + 0.4 * len(imp)), dpi=100)
                ax.barh(list(imp)[::-1], list(imp.values())[::-1])
                ax.set_title("Parameter importances (Optuna default evaluator)", fontsize=10)
                fig.tight_layout()
                iname = f"importance_{summary.study_name}.png"
                fig.savefig(out / iname)
                plt.close(fig)
                imp_html = f'<figure><img src="{iname}" alt="importances"><figcaption>Parameter importances</figcaption></figure>'
            except (RuntimeError, ValueError, ZeroDivisionError):
                imp_html = "<p>Parameter importances need more finished trials with varied parameters.</p>"
        parts.append(f"<h2>Study {html.escape(summary.study_name)}</h2>"
                     f"<p>{len(trials)} trials, direction {st.direction.name.lower()}.</p>"
                     f'<figure><img src="{fname}" alt="history"><figcaption>Optimization history</figcaption></figure>'
                     f"{imp_html}<table><tr><th>trial</th><th>state</th><th>value</th><th>params</th><th>reason</th></tr>{rows}</table>")
    return "".join(parts)


#: marks the page (data-images="ok" or "broken:N") and warns the reader when a figure is missing
CHECK_IMAGES = ("window.addEventListener('load',function(){var bad=[].filter.call(document.images,"
                "function(i){return !(i.complete&&i.naturalWidth>0)});document.body.dataset.images="
                "bad.length?'broken:'+bad.length:'ok';if(bad.length){var p=document.createElement('p');"
                "p.textContent=bad.length+' figure(s) failed to load';p.style.color='red';"
                "document.body.insertBefore(p,document.body.firstChild);}});")

CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px}
td.diff{background:#ffe9a8}figure{display:inline-block;margin:6px}img{max-width:520px}
.grids img{max-width:180px;image-rendering:pixelated}"""


def write_report(paths: list[Path], out: Path, max_runs: int = 24, skipped: Optional[list[str]] = None) -> Path:
    """Write ``out/index.html`` and its PNG figures for the runs (and studies) in ``paths``;
    unreadable runs are left out, named in ``skipped`` and on the page."""
    skipped = skipped if skipped is not None else []
    runs = find_runs(paths, skipped)[:max_runs]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figs = _figures(runs, out)
    body = [f"<h1>ganforge report</h1><p>{len(runs)} run(s).</p>"]
    if skipped:
        body.append("<p>Left out (unreadable): " + "; ".join(html.escape(s) for s in skipped) + "</p>")
    for p in paths:  # a study's summary first: history, importances, best trials
        db = Path(p) / "study.db"
        if db.is_file():
            body.append(_study_section(db, out))
    body.append("<h2>Runs</h2>")
    body.append("".join(f'<figure><img src="{f}" alt="{html.escape(t)}"><figcaption>{html.escape(t)}</figcaption></figure>'
                        for f, t in figs))
    # sample grids over time
    body.append("<h2>Samples over time</h2>")
    for i, r in enumerate(runs):
        # a grid that is a link could copy a file from elsewhere into the report
        grids = sorted(g for g in r.samples.glob("step_*.png") if not g.is_symlink())
        if not grids:
            continue
        pick = grids if len(grids) <= 5 else [grids[j * (len(grids) - 1) // 4] for j in range(5)]
        cells = []
        for g in pick:
            name = f"run{i}_{g.name}"
            shutil.copyfile(g, out / name)
            cells.append(f'<figure><img src="{name}" alt="{g.stem}"><figcaption>{g.stem}</figcaption></figure>')
        body.append(f'<h3>{html.escape(r.path.name)}</h3><div class="grids">{"".join(cells)}</div>')
    # configs side by side, differences highlighted
    flats = [_flat(r.read_config()) for r in runs]
    keys = sorted(set().union(*flats))
    head = "".join(f"<th>{html.escape(r.path.name)}</th>" for r in runs)
    rows = []
    for k in keys:
        vals = [f.get(k) for f in flats]
        cls = ' class="diff"' if len({json.dumps(v) for v in vals}) > 1 else ""
        rows.append(f"<tr><td>{html.escape(k)}</td>" + "".join(f"<td{cls}>{html.escape(str(v))}</td>" for v in vals) + "</tr>")
    body.append(f"<h2>Configs</h2><table><tr><th>key</th>{head}</tr>{''.join(rows)}</table>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>ganforge report</title><style>{CSS}</style>"
            f"</head><body>{''.join(body)}<script>{CHECK_IMAGES}</script></body></html>")
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
