"""The quality suite's page: docs/results/quality.md (quality-BUDGET.md for another budget)
written from the finished cells, with one curve picture per task (benchmarks/quality.py runs
the cells; benchmarks/quality_tasks.py holds the tasks, configs and targets)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

from quality_notes import NOTES, STACKED_NOTES, STEP_NOTES
from quality_tasks import (MODE_TASKS, TASKS, is_timed, seconds_of, steps_of, strongest_tutorial, target_met,
                           target_text)
from study import Study, median_range

ROOT = Path(__file__).resolve().parents[1]
#: where the suite's committed pages and cells live (the default --out)
RESULTS = ROOT / "docs" / "results"

fmt_stat = median_range


def study(a) -> Study:
    return Study("quality", a.out, a.budget)


def budget_label(budget: str, task: str) -> str:
    if not is_timed(budget):
        return f"{steps_of(task, budget)} generator steps"
    secs = seconds_of(task, budget)
    return f"{secs // 60} min" if secs % 60 == 0 else f"{secs} s"


def rel(p: Path) -> str:
    try:
        return p.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return p.as_posix()


def command_flags(a) -> str:
    """The flags that made this page (the budget and the output folder; tasks, configs and
    seeds select cells, and the page shows every finished cell)."""
    flags = ["--mnist ../shared/data/mnist"]
    if a.budget != "time":
        flags.append(f"--budget {a.budget}")
    if a.out.resolve() != RESULTS.resolve():
        flags.append(f"--out {rel(a.out)}")
    if not getattr(a, "notes", True):
        flags.append("--no-notes")
    if getattr(a, "made_by", ""):
        flags.append(f"--made-by {a.made_by}")
    return " ".join(flags)


def made_by(a) -> str:
    """How the cells were made: this suite one cell after another, or the script named."""
    by = getattr(a, "made_by", "")
    return (f"cells made by `{by}` (parallel processes on one machine) and kept" if by
            else "cells run one by one and are kept")


def write_page(a) -> None:
    cells_of = study(a)
    base, cells = cells_of.folder, cells_of.load()
    if not cells:
        return
    by: dict[tuple[str, str], list[dict]] = {}
    for c in cells:
        by.setdefault((c["task"], c["config"]), []).append(c)
    lines = ["# Quality at convergence: the suite", "",
             f"Command: `python benchmarks/quality.py {command_flags(a)}`; "
             f"{made_by(a)} in `{rel(base)}/`. Machine: "
             f"{cells[0]['machine']}; cell dates {min(c['date'] for c in cells)} to {max(c['date'] for c in cells)}. "
             f"Total training time of the cells here: {sum(c['seconds'] for c in cells) / 60:.0f} min "
             f"(wall {sum(c['wall_seconds'] for c in cells) / 60:.0f} min).", "",
             "Values: median [min-max] over seeds. Floors are real against real at the same sample sizes.", ""]
    # a time cell's steps depend on the machine's speed that day: its probe, beside them
    # (a column once any cell has one; cells from before the probe show "-")
    probe_head = "machine probe (it/s) | " if any("reference_it_s" in c for c in cells) else ""
    for task in TASKS:
        rows = [(cfg, cs) for (t, cfg), cs in sorted(by.items()) if t == task]
        if not rows:
            continue
        spec = TASKS[task]
        budget = budget_label(a.budget, task)
        lines += [f"## {task} ({budget}; target: {target_text(task, a.budget)})", ""]
        if spec["kind"] == "toy":
            head = "| config | seeds | modes covered | high-quality share | W1 | W1 floor | steps | {probe_head}target |"
        elif task in MODE_TASKS:
            head = "| config | seeds | modes (of 1,000) | mode KL | FID | FID floor | precision | recall | steps | {probe_head}target |"
        else:
            head = "| config | seeds | FID | FID floor | precision | recall | classes | steps | {probe_head}target |"
        head = head.format(probe_head=probe_head)
        lines += [head, "|" + "---|" * (head.count("|") - 1)]
        for cfg, cs in rows:
            f = [c["final"] for c in cs if not c["final"].get("diverged")]
            steps = fmt_stat([c["steps"] for c in cs], 4)
            probe = (fmt_stat([c["reference_it_s"] for c in cs if "reference_it_s" in c]) + " | "
                     if probe_head else "")
            met = target_met(task, cs, a.budget, strongest_tutorial(by, task))
            mark = "met" if met else ("not met" if met is False else "-")
            if met is not None and len(cs) < 3:  # the targets are on the median of 3 seeds
                mark += f" on {len(cs)} seed{'s' if len(cs) > 1 else ''}, not judged"
            seeds = ",".join(str(c["seed"]) for c in sorted(cs, key=lambda c: c["seed"]))
            if spec["kind"] == "toy":
                lines.append(f"| {cfg} | {seeds} | {fmt_stat([x['modes_covered'] for x in f if 'modes_covered' in x])} | "
                             f"{fmt_stat([x['high_quality'] for x in f if 'high_quality' in x])} | "
                             f"{fmt_stat([x['w1'] for x in f])} | {fmt_stat([x.get('w1_floor', math.nan) for x in f if 'w1_floor' in x])} | "
                             f"{steps} | {probe}{mark} |")
            elif task in MODE_TASKS:
                lines.append(f"| {cfg} | {seeds} | {fmt_stat([x['modes_covered'] for x in f], 4)} | "
                             f"{fmt_stat([x['mode_kl'] for x in f])} | {fmt_stat([x['fid'] for x in f])} | "
                             f"{fmt_stat([x['fid_floor'] for x in f])} | {fmt_stat([x['precision'] for x in f])} | "
                             f"{fmt_stat([x['recall'] for x in f])} | {steps} | {probe}{mark} |")
            else:
                lines.append(f"| {cfg} | {seeds} | {fmt_stat([x['fid'] for x in f])} | "
                             f"{fmt_stat([x['fid_floor'] for x in f])} | {fmt_stat([x['precision'] for x in f])} | "
                             f"{fmt_stat([x['recall'] for x in f])} | {fmt_stat([x.get('classes_hit', math.nan) for x in f])} | "
                             f"{steps} | {probe}{mark} |")
        lines.append("")
        png = plot_task(a, task, rows)
        if png:
            lines += [f"![{task}: quality against seconds and steps]({png.relative_to(a.out).as_posix()})", ""]
        pics = [f"![{cfg}](quality/{picture_name(task, cfg, 0, a.budget)})" for cfg, _ in rows
                if (a.out / "quality" / picture_name(task, cfg, 0, a.budget)).exists()]
        if pics:
            lines += ["Samples (seed 0, end of the budget): " + " ".join(f"{cfg}" for cfg, _ in rows), "", " ".join(pics), ""]
    if getattr(a, "notes", True):
        # the notes belong to the CPU's pages (its 10 minutes, its step budgets); a timeN page
        # (another machine's minutes) has none of its own
        lines += NOTES if a.budget == "time" else [] if is_timed(a.budget) else STEP_NOTES
        if set(MODE_TASKS) & {t for t, _ in by}:
            lines += STACKED_NOTES
    else:  # a rerun kept elsewhere: the notes speak of docs/results' cells and link pages beside them
        lines += [f"How the configs were chosen: docs/results/{page_name(a.budget)} in the project.", ""]
    (a.out / page_name(a.budget)).write_text("\n".join(lines))


def picture_name(task: str, what: str, seed: Optional[int], budget: str) -> str:
    """A picture of the page: mnist_r3gan-mlp-mnist_seed0.png (time budget),
    mnist_r3gan-mlp-mnist_seed0_steps5000.png, mnist_curves_steps5000.png (steps budgets)."""
    stem = f"{task}_{what}" + (f"_seed{seed}" if seed is not None else "")
    return f"{stem}.png" if budget == "time" else f"{stem}_{budget}.png"


def page_name(budget: str) -> str:
    """The page of a budget: quality.md for the time budget, quality-steps5000.md for
    steps5000 (so that a steps run never overwrites the time budget's page)."""
    return "quality.md" if budget == "time" else f"quality-{budget}.md"


def plot_task(a, task: str, rows: list[tuple[str, list[dict]]]) -> Optional[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # for the mode tasks the share of high-quality samples: the count of modes saturates early
    key = "fid" if TASKS[task]["kind"] == "image" else ("w1" if task == "swissroll" else "high_quality")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=100)
    for i, (cfg, cs) in enumerate(rows):
        colour = f"C{i}"
        for j, c in enumerate(cs):
            pts = [p for p in c["curve"] if key in p]
            if not pts:
                continue
            for ax, x in zip(axes, ("time", "step")):
                ax.plot([p[x] for p in pts], [p[key] for p in pts], color=colour, alpha=0.7,
                        label=cfg if j == 0 else None)
    for ax, x in zip(axes, ("training seconds", "generator steps")):
        ax.set_xlabel(x)
        ax.set_ylabel(key)
        if key == "fid":
            ax.set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{task}: {key} during training (one line per seed)", fontsize=9)
    fig.tight_layout()
    out = a.out / "quality" / picture_name(task, "curves", None, a.budget)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
