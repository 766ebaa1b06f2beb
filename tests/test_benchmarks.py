"""The benchmarks' own machinery: the reference step they replay and the FLOP counter
their utilization figures rest on (timings themselves are never asserted in tests)."""
import os
import sys
from pathlib import Path

import pytest

from ganforge.resolve import DATA_RECIPES, finish

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

throughput = pytest.importorskip("throughput")
reference = pytest.importorskip("reference")


@pytest.fixture
def bench_dir():
    if not (reference.BENCH / "naive_wgan_gp.py").is_file():
        pytest.skip(f"reference loop not found in {reference.BENCH}")
    return reference.BENCH


def test_ganforge_step_executes_fewer_flops_than_the_reference_for_the_same_math(bench_dir, mnist_dir):
    from ganforge.data import load_dataset

    cfg = reference.ganforge_config("dcgan28", mnist_dir, [])
    data = load_dataset(cfg.data)
    ref = throughput.reference_flops("dcgan28", data)
    ours = throughput.step_flops(cfg, data)
    # the forward FLOPs alone, by hand: D's two convolutions and output layer per sample,
    # (1->64: 14*14*64*16 MACs) + (64->128: 7*7*128*64*16) + 6272; G's likewise in reverse
    d_fwd = 2 * (14 * 14 * 64 * 16 + 7 * 7 * 128 * 64 * 16 + 7 * 7 * 128)
    assert ref > ours > 0.8 * ref  # less work, yet every forward/backward/penalty pass is there
    assert ours > 5 * 64 * 4 * d_fwd  # at least 4 critic forwards' worth per critic step
    # lazy penalty: fewer FLOPs again (3 of 4 critic steps without the double backward)
    lazy = throughput.step_flops(reference.ganforge_config("dcgan28", mnist_dir, ["penalty.every=4"]), data)
    assert lazy < 0.85 * ours


# ---------------------------------------------------------------- the paper study's machinery
paper = pytest.importorskip("paper_reproduction")


@pytest.mark.parametrize("method", [*paper.METHODS, "wgan-gp@100", "ivgp0@1"])
@pytest.mark.parametrize("task", ["grid25", "mnist"])
def test_every_paper_cell_config_is_valid(tmp_path, method, task):

    cfg = paper.cell_config(task, method, 0, "time", tmp_path / "mnist", tmp_path / "run")  # resolved, validated
    base, lam = paper.split_method(method)
    if base != "r1r2" and base != "wgan":
        assert cfg.penalty.weight == (lam or 10.0)
        assert cfg.train.n_critic == 5 and cfg.loss.name == "wasserstein"
    if base == "ivgp-min":
        assert cfg.penalty.weight_min == pytest.approx(cfg.penalty.weight / 10)
    if base == "ivgp0":
        assert cfg.penalty.name == "gp0" and cfg.penalty.schedule == "ivgp"
    assert cfg.train.max_seconds == paper.q.TASKS[task]["seconds"]  # the suite's budget, not a shorter one
    assert (cfg.model.name == "dcgan") == (task == "mnist")


def _cell(task, curve, steps=1000, seconds=100.0):
    return {"task": task, "curve": curve, "steps": steps, "seconds": seconds}


def test_steps_to_threshold_count_misses_as_the_budget():
    hit = _cell("mnist", [{"step": 100, "time": 10.0, "fid": 300.0}, {"step": 200, "time": 20.0, "fid": 140.0},
                          {"step": 300, "time": 30.0, "fid": 90.0}])
    miss = _cell("mnist", [{"step": 100, "time": 10.0, "fid": 200.0}], steps=1200, seconds=120.0)
    assert paper.reach(hit, 150.0, "step") == 200.0 and paper.reach(hit, 100.0, "time") == 30.0
    assert paper.reach(miss, 150.0, "step") is None
    assert paper.to_threshold([hit, miss], 150.0, "step") == ([200.0, 1200.0], 1)
    toy = _cell("grid25", [{"step": 50, "time": 1.0, "high_quality": 0.6}])  # higher is better there
    assert paper.reach(toy, 0.5, "step") == 50.0 and paper.reach(toy, 0.8, "step") is None


def test_mann_whitney_separates_and_needs_three_seeds():
    assert paper.mann_whitney([1, 2, 3, 4, 5], [10, 11, 12, 13, 14]) < 0.02
    assert paper.mann_whitney([1, 2, 3], [1, 2, 3]) > 0.5
    assert paper.mann_whitney([1, 2], [3, 4, 5]) is None


def _mnist_cell(reach_at, final, steps=1000):
    curve = ([{"step": reach_at, "time": reach_at / 10, "fid": 90.0}] if reach_at
             else [{"step": 500, "time": 50.0, "fid": 200.0}])
    return {**_cell("mnist", curve, steps=steps), "final": {"fid": final}}


def test_aim_rows_judge_the_steps_ratio_and_final_quality():
    by = {"wgan-gp": [_mnist_cell(s, 50.0) for s in (1000, 1000, 1000)],
          "ivgp0": [_mnist_cell(s, 48.0) for s in (600, 700, 800)],  # 0.7x, better final: meets
          "ivgp": [_mnist_cell(s, 60.0) for s in (500, 500, 500)],  # fast but worse final: does not
          "pi": [_mnist_cell(600, 40.0), _mnist_cell(None, 40.0), _mnist_cell(None, 40.0)]}  # mostly missed
    rows = {r.split(" | ")[0].strip("| "): r for r in paper.aim_rows("mnist", by)[2:]}
    assert rows["ivgp0"].startswith("| ivgp0 | 0.70 (reached 3/3; wgan-gp 3/3)") and rows["ivgp0"].endswith("| yes |")
    assert "(worse)" in rows["ivgp"] and rows["ivgp"].endswith("| no |")
    assert "not reached (by 1/3 seeds)" in rows["pi"] and rows["pi"].endswith("| no |")
    assert paper.aim_rows("mnist", {"ivgp0": by["ivgp0"]}) == []  # nothing to compare against


def test_aim_rows_treat_wgan_gp_misses_as_a_lower_bound():
    # wgan-gp never reaches the threshold: its 1000 steps are a lower bound on its true steps
    by = {"wgan-gp": [_mnist_cell(None, 50.0) for _ in range(3)],
          "ivgp0": [_mnist_cell(s, 48.0, steps=3000) for s in (600, 650, 700)],  # <= 0.7x a lower bound: met
          "r1r2": [_mnist_cell(s, 40.0, steps=3000) for s in (2000, 2100, 2200)],  # 2.1x a lower bound: unknown
          "ivgp": [_mnist_cell(s, 60.0, steps=3000) for s in (2000, 2100, 2200)]}  # worse final: a miss
    rows = {r.split(" | ")[0].strip("| "): r for r in paper.aim_rows("mnist", by)[2:]}
    assert rows["ivgp0"].endswith("| yes |")
    assert "lower bound" in rows["r1r2"] and rows["r1r2"].endswith("| undetermined |")
    assert rows["ivgp"].endswith("| no |")


def test_no_steps_test_where_no_seed_reaches_the_threshold():
    # every value would be a budget: a p there measures speed, not convergence
    slow = [_mnist_cell(None, 50.0, steps=1000) for _ in range(3)]
    fast = [_mnist_cell(None, 50.0, steps=2000) for _ in range(3)]
    row = paper.method_table("mnist", {"wgan-gp": slow, "ivgp0": fast})[3]
    assert row.split(" | ")[7] == "n/r"
    some = [_mnist_cell(1500, 50.0, steps=2000)] + fast[1:]
    row = paper.method_table("mnist", {"wgan-gp": slow, "ivgp0": some})[3]
    assert row.split(" | ")[7] not in ("n/r", "-")


def test_steps_to_the_first_threshold_get_their_own_test():
    # both sides reach FID 150 (one curve point, at FID 140) and no seed on either side reaches 100
    def cell(at, steps):
        return {**_cell("mnist", [{"step": at, "time": at / 10, "fid": 140.0}], steps=steps), "final": {"fid": 120.0}}
    ref = [cell(s, 2000) for s in (1000, 1100, 1200)]
    slower = [cell(s, 2000) for s in (1500, 1600, 1700)]
    table = paper.method_table("mnist", {"wgan-gp": ref, "ivgp0": slower})
    assert table[0].endswith("| p vs wgan-gp (steps to 150) |")
    ref_row, row = table[2].split(" | "), table[3].split(" | ")
    assert ref_row[7] == ref_row[9].rstrip(" |") == "-"
    assert row[7] == "n/r" and float(row[9].rstrip(" |")) == pytest.approx(0.1)  # 3 vs 3, fully separated


def test_toy_table_skips_a_diverged_cell_in_its_medians():
    def toy(share, w1, diverged=False):
        c = _cell("grid25", [{"step": 100, "time": 1.0, "high_quality": share}])
        c["final"] = {"diverged": True} if diverged else {"high_quality": share, "w1": w1, "modes_covered": 25,
                                                         "modes_total": 25}
        return c
    by = {"wgan-gp": [toy(0.07, 0.2), toy(0.07, 0.3), toy(0.0, 0.0, diverged=True)],
          "ivgp0": [toy(0.08, 0.1), toy(0.08, 0.1), toy(0.08, 0.1)]}
    row = paper.method_table("grid25", by)[2]
    assert row.startswith("| wgan-gp | 3 | 0.07 [0.07-0.07] |") and "| 25 [25-25]/25 | 0.25 [0.225-0.275] |" in row
    assert paper.aim_rows("grid25", by)[2].startswith("| ivgp0 | not reached (by 0/3 seeds) | 0.08 (equal or better)")


def test_lambda_table_says_whether_the_spread_is_within_ten_percent():
    cells = [{"method": m, "final": {"fid": f}} for m, f in
             [("wgan-gp@1", 50.0), ("wgan-gp", 52.0), ("wgan-gp@100", 54.0),
              ("ivgp0@1", 40.0), ("ivgp0", 50.0), ("ivgp0@100", 80.0)]]
    gp, iv = paper.lambda_table("mnist", cells, "ivgp0")[2:]
    assert "8.0% (max/min of medians - 1; within 10%)" in gp
    assert "100.0% (max/min of medians - 1; not within 10%)" in iv


def test_verdict_is_computed_from_the_cells():
    by = {"wgan-gp": [_mnist_cell(s, 50.0) for s in (1000, 1000, 1000)],
          "ivgp0": [_mnist_cell(s, 48.0) for s in (600, 700, 800)],  # 0.7x, better final: meets
          "pi": [_mnist_cell(s, 60.0) for s in (500, 500, 500)],  # fast but worse final
          "r1r2": [_mnist_cell(s, 40.0) for s in (500, 500, 500)]}  # meets, but is no adaptive penalty
    lam = [{"method": m, "final": {"fid": f}} for m, f in
           [("wgan-gp@1", 50.0), ("wgan-gp", 52.0), ("wgan-gp@100", 70.0),
            ("ivgp0@1", 50.0), ("ivgp0", 51.0), ("ivgp0@100", 54.0)]]
    text = "\n".join(paper.verdict_lines({"mnist": by}, {"mnist": lam}, "ivgp0"))
    assert "**met by ivgp0** (ivgp0 yes, pi no). Not adaptive penalties, for reference: r1r2 yes." in text
    assert "mnist: met (ivgp0 8.0%, wgan-gp 40.0%)" in text
    # the best reading no longer within 10%, or wgan-gp within it too: not met
    worse = [c if c["method"] != "ivgp0@100" else {**c, "final": {"fid": 60.0}} for c in lam]
    assert "mnist: not met (ivgp0 20.0%" in "\n".join(paper.verdict_lines({"mnist": by}, {"mnist": worse}, "ivgp0"))
    slow = {**by, "ivgp0": [_mnist_cell(s, 48.0) for s in (900, 900, 900)]}
    assert "**not met** (ivgp0 no, pi no)" in "\n".join(paper.verdict_lines({"mnist": slow}, {}, "ivgp0"))
    assert "mnist: incomplete" in "\n".join(paper.verdict_lines({}, {"mnist": lam[:4]}, "ivgp0"))


def test_plan_gives_five_seeds_where_the_issue_asks():
    import argparse

    a = argparse.Namespace(seeds=None, study="methods", methods=None, tasks="mnist", best="ivgp0")
    counts = {}
    for _, m, _s in paper.plan(a):
        counts[m] = counts.get(m, 0) + 1
    assert counts["wgan-gp"] == counts["r1r2"] == counts["ivgp0"] == 5 and counts["pi"] == counts["wgan"] == 3
    a.study, a.tasks = "lambda", "grid25,mnist"
    lam = paper.plan(a)
    assert len(lam) == 2 * 3 * (5 + 3)  # two methods, 3 seeds, 5 lambdas on grid25 and 3 on MNIST


# ---------------------------------------------------------------- the quality suite's configs
@pytest.mark.parametrize("config", list(paper.q.CONFIGS))
def test_every_quality_config_is_valid_on_its_tasks(tmp_path, config):
    from ganforge.config import Config

    tasks = [t for t in paper.q.TASKS if t in paper.q.ONLY_ON.get(config, (t,))]
    assert tasks, f"{config} runs on no task"
    for task in tasks:
        cfg = paper.q.task_config(task, config, 0, "time", tmp_path / "mnist", tmp_path / "run")
        assert finish(Config.from_dict(cfg.to_dict())) == cfg  # resolved and valid
        assert cfg.train.max_seconds == paper.q.TASKS[task]["seconds"]  # the suite's budget
        assert cfg.train.seed == 0 and cfg.eval.n == paper.q.TASKS[task].get("n_eval", paper.q.N_TOY)
    if config.startswith("r3gan-mlp"):  # the recipe on the classic MLP networks
        assert cfg.model.name == "mlp" and cfg.loss.name == "rpgan" and cfg.penalty.name == "r1+r2"


def test_a_time_budget_of_n_seconds_trains_every_task_that_long_and_judges_no_target(tmp_path):
    # timeN: another machine's minutes (a GPU's), beside the CPU's own budget ("time")
    q, qt, pq = paper.q, pytest.importorskip("quality_tasks"), pytest.importorskip("quality_page")
    import argparse

    assert [q.budget_arg(b) for b in ("time", "time120", "steps", "steps5000")] == ["time", "time120", "steps", "steps5000"]
    for bad in ("time0", "time-5", "timex", "minutes", "steps0"):
        with pytest.raises(argparse.ArgumentTypeError, match="timeN"):
            q.budget_arg(bad)
    cfg = q.task_config("mnist", "r3gan-mlp-b256-g1", 0, "time90", tmp_path / "mnist", tmp_path / "run")
    assert cfg.train.max_seconds == 90.0 and cfg.train.iters == 10**9 and cfg.eval.every == 0
    assert cfg.eval.every_seconds == pytest.approx(90 / q.CURVE_POINTS)
    assert q.task_config("mnist", "r3gan-mlp-b256-g1", 0, "time", tmp_path / "mnist", tmp_path / "run").train.max_seconds == 600
    assert qt.is_timed("time120") and not qt.is_timed("steps5000") and qt.seconds_of("ring8", "time") == 120
    assert [pq.budget_label(b, "mnist") for b in ("time", "time120", "time90", "steps5000")] == [
        "10 min", "2 min", "90 s", "5000 generator steps"]
    assert pq.page_name("time120") == "quality-time120.md" and pq.picture_name("mnist", "c", 0, "time120") == "mnist_c_seed0_time120.png"
    assert qt.target_text("mnist", "time120") == "none set at this budget"
    assert qt.target_met("mnist", [{"final": {"fid": 1.0}}] * 3, "time120") is None
    assert qt.target_met("mnist", [{"final": {"fid": 1.0}}] * 3, "time") is True


def test_default_is_not_trained_twice_where_it_is_a_named_config():
    # digits has no recipe: its default is the classic setting; MNIST's recipe is a named
    # config of its own; the toy recipe has no other name, so "default" runs there
    assert paper.q.same_as("digits", "default") == "classic"
    assert paper.q.same_as("mnist", "default") == DATA_RECIPES["mnist"] == "r3gan-mlp-b256-g1"
    assert paper.q.same_as("folder32", "default") == "r3gan-mlp-b256-g1"  # a 32 px folder: by size and colour
    assert paper.q.same_as("folder32c", "default") == "r3gan-mlp-stacked-warm"
    assert paper.q.same_as("folder64", "default") == paper.q.same_as("folder64c", "default") == "r3gan-mlp-stacked-warm"
    assert paper.q.same_as("stackedmnist", "default") == DATA_RECIPES["stackedmnist"] == "r3gan-mlp-stacked-lazy-reuse"
    assert paper.q.same_as("ring8", "default") is None
    assert paper.q.same_as("mnist", "classic") is None


def test_a_cell_asked_for_on_a_task_its_config_does_not_run_on_is_skipped_aloud(capsys):
    # named on the command line and left out: the suite says so rather than run nothing silently
    assert paper.q.plan(["lfw", "mnist"], ["r3gan-mlp-mnist"], [0]) == [("mnist", "r3gan-mlp-mnist", 0)]
    assert "skip lfw/r3gan-mlp-mnist/seed0 (r3gan-mlp-mnist runs only on mnist)" in capsys.readouterr().out


# ---------------------------------------------------------------- the study runner
study = pytest.importorskip("study")
RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"


def test_study_cells_are_resumable(tmp_path, capsys):
    s = study.Study("demo", tmp_path)
    ran = []

    def run_cell(task, config, seed):
        ran.append((task, config, seed))
        if seed == 1 and len(ran) == 2:
            raise KeyboardInterrupt  # killed in the middle of the second cell
        return {"task": task, "config": config, "seed": seed, "steps": 5, "seconds": 1.0, "final": {"fid": 1.5}}

    plan = [("t", "c", 0), ("t", "c", 1), ("t", "c", 2)]
    with pytest.raises(SystemExit) as stop:
        s.run(plan, run_cell)
    assert stop.value.code == 130
    assert capsys.readouterr().err.startswith("interrupted in t/c/seed1: the same command goes on")
    assert [c["seed"] for c in s.load()] == [0]  # the finished cell is kept, the killed one is not
    assert s.run(plan, run_cell) == 2  # the rerun skips the finished cell
    assert ran == [("t", "c", 0), ("t", "c", 1), ("t", "c", 1), ("t", "c", 2)]
    assert [c["seed"] for c in s.load()] == [0, 1, 2] and s.path("t", "c", 2).is_file()
    assert "done t/c/seed2: 5 steps in 1.0 s: fid=1.5" in capsys.readouterr().out
    assert study.Study("demo", tmp_path, "steps").load() == []  # a steps budget keeps its own cells


def test_a_step_cell_cut_off_continues_to_where_one_straight_run_ends(tmp_path):
    """train_and_measure(resume=True) continues an interrupted attempt at the same config from
    its checkpoint, to the weights of one straight run; an attempt at another config, or
    without resume, is discarded and trained again."""
    import torch

    from conftest import tiny_config

    def cfg(name: str, iters: int = 20, **train):
        return study.resolved(tiny_config(tmp_path, train={"iters": iters, "ckpt_every": 10, **train},
                                          out=str(tmp_path / name)))

    def final_g(run: Path) -> dict:  # the newest checkpoint's generator
        return torch.load(max((run / "checkpoints").glob("ckpt_*.pt")), weights_only=True)["G"]

    steps = lambda m: {"step": m.step}  # noqa: E731  (the measure: where the loaded model is)
    res, _, fin, _ = study.train_and_measure(cfg("straight"), steps)
    assert res.step == 20 and fin == {"step": 20}
    study.train_and_measure(cfg("cut", iters=10), steps)  # the attempt stopped at step 10
    res, _, fin, _ = study.train_and_measure(cfg("cut"), steps, resume=True)
    assert res.step == 20 and fin == {"step": 20}
    a, b = final_g(tmp_path / "straight"), final_g(tmp_path / "cut")
    assert all(torch.equal(a[k], b[k]) for k in a)
    steps_logged = [r["step"] for r in study.api.RunDir(tmp_path / "cut").read_metrics() if "loss_d" in r]
    assert steps_logged == sorted(set(steps_logged))  # the log continues, no step twice

    study.train_and_measure(cfg("other", iters=10), steps)
    assert not study.can_continue(tmp_path / "other", cfg("other", n_critic=1))  # another config
    assert study.can_continue(tmp_path / "other", cfg("other"))  # only the steps differ
    assert not study.can_continue(tmp_path / "other", cfg("other", iters=5))  # past this cell's end
    marker = tmp_path / "other" / "checkpoints" / "ckpt_0000010.pt"
    stamp = marker.stat().st_mtime_ns
    res, _, _, _ = study.train_and_measure(cfg("other"), steps)  # no resume: trained again
    assert res.step == 20 and marker.stat().st_mtime_ns != stamp


def test_a_cell_reports_each_evaluation_as_it_comes_also_after_a_resume(tmp_path):
    """train_and_measure(say=...) gives one line per evaluation, with the values metrics.jsonl
    keeps, on a fresh run and on a resumed one (a cell of hours shows where it is)."""
    import json

    from conftest import tiny_config

    def cfg(iters: int):
        return study.resolved(tiny_config(tmp_path, train={"iters": iters, "ckpt_every": 4},
                                          eval={"every": 4, "n": 40}, out=str(tmp_path / "run")))

    lines: list[str] = []
    study.train_and_measure(cfg(4), lambda m: {}, say=lines.append, prefix="cell ")
    study.train_and_measure(cfg(8), lambda m: {}, resume=True, say=lines.append, prefix="cell ")
    from ganforge.metrics.evaluate import headline

    evals = [r for r in map(json.loads, (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) if "w1" in r]
    assert [e["step"] for e in evals] == [4, 8]
    shown = [headline(e) for e in evals]
    assert "w1=" in shown[0] and "modes=" in shown[0]  # toy data's measures
    assert lines == [f"cell step {e['step']}/{e['step']}: {v}" for e, v in zip(evals, shown)]


def test_curve_statistics_by_hand():
    pts = [{"step": 10, "time": 1.0, "fid": 300.0}, {"step": 20, "time": 2.5, "fid": 120.0},
           {"step": 30, "time": 4.0, "fid": 90.0}]
    assert study.first_reach(pts, "fid", 150.0, "step") == 20 and study.first_reach(pts, "fid", 100.0, "time") == 4.0
    assert study.first_reach(pts, "fid", 50.0, "step") is None
    assert study.first_reach([{"step": 3, "time": 0.1, "hq": 0.6}], "hq", 0.5, "step", higher_is_better=True) == 3
    assert study.median_range([3.0, 1.0, 2.0]) == "2 [1-3]" and study.median_range([]) == "-"
    # counts past the significant digits are written whole, not in e-notation
    assert study.median_range([9836, 9538, 10506], digits=4) == "9836 [9538-10506]"
    assert study.median_range([22540.0], digits=4) == "22540" and study.median_range([0.12345]) == "0.123"
    assert study.median_iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == "3 [2-4]" and study.median_iqr([7.0]) == "7"
    assert study.median_or_none([1.0, None, 3.0]) == 3.0 and study.median_or_none([None, None, 1.0]) is None
    recs = [{"step": 1, "time": 0.1, "loss_d": 1.0}, {"step": 2, "time": 0.2, "fid": 9.0, "recall": 0.5}]
    assert study.curve(recs, ("fid",), ("fid",)) == [{"step": 2, "time": 0.2, "fid": 9.0}]


def _regenerated(tmp_path, name, write_page, **args):
    """A study's page written from a copy of its committed cells into ``tmp_path``."""
    import argparse
    import shutil

    shutil.copytree(RESULTS / name / "cells", tmp_path / name / "cells")
    a = argparse.Namespace(out=tmp_path, budget="time", **args)
    write_page(a)
    return a


def _tables(text):
    return [line for line in text.splitlines() if line.startswith("|")]


def test_the_quality_page_regenerates_from_its_cells(tmp_path):
    q = paper.q
    _regenerated(tmp_path, "quality", q.write_page)
    new, old = (tmp_path / "quality.md").read_text(), (RESULTS / "quality.md").read_text()
    assert _tables(new) == _tables(old) and len(_tables(old)) > 20
    heads = lambda t: [x for x in t.splitlines() if x.startswith("#")]  # noqa: E731
    assert heads(new) == heads(old)


def test_a_rerun_page_kept_elsewhere_can_leave_the_notes_off(tmp_path):
    # docs/results' notes speak of its own cells and link pages beside it; a rerun kept in a
    # folder of its own (docs/results/quality-rerun-2026-12-03) carries its table and says
    # where the notes are instead
    q = paper.q
    _regenerated(tmp_path, "quality", q.write_page, notes=False)
    new, old = (tmp_path / "quality.md").read_text(), (RESULTS / "quality.md").read_text()
    assert _tables(new) == _tables(old)
    assert "## How the configs were chosen" in old and "## How the configs were chosen" not in new
    assert new.rstrip().endswith("How the configs were chosen: docs/results/quality.md in the project.")


def test_a_page_of_cells_made_elsewhere_names_the_script_that_made_them(tmp_path):
    # gpu_image_cells.sh runs a GPU's cells as parallel processes: its page must not say
    # they ran one by one, and its command line must carry the flag that says so
    q = paper.q
    _regenerated(tmp_path, "quality", q.write_page, notes=False, made_by="benchmarks/gpu_image_cells.sh")
    head = (tmp_path / "quality.md").read_text().splitlines()[2]
    assert "--made-by benchmarks/gpu_image_cells.sh`" in head
    assert "cells made by `benchmarks/gpu_image_cells.sh` (parallel processes on one machine) and kept in" in head
    assert "one by one" not in head
    _regenerated(tmp_path / "plain", "quality", q.write_page)
    assert "cells run one by one and are kept in" in (tmp_path / "plain" / "quality.md").read_text().splitlines()[2]


@pytest.mark.parametrize("bad, says", [("train.chanels_last=true", "did you mean 'train.channels_last'"),
                                        ("train.channels_last", "--set expects key=value"),
                                        ("CONFIG=tutorial-dcgan-pg", "is not a config this script can build")])
def test_gpu_conv_step_refuses_bad_input_in_one_line_before_training(tmp_path, bad, says):
    import subprocess

    args = ["--configs", "tutorial-dcgan-pg"] if bad.startswith("CONFIG=") else ["--configs", "r3gan-mlp-b256-g1", "--set", bad]
    r = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_conv_step.py"),
                        "--mnist", str(tmp_path), "--out", str(tmp_path / "x.md"), *args],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.md").exists()


def test_time_cells_carry_the_machine_probe_beside_their_steps(tmp_path, monkeypatch, bench_dir, mnist_dir):
    # a time cell's step count depends on the machine's speed that day: each one records the
    # reference loop's rate measured just before it, and the page shows it beside the steps
    import argparse
    import json

    q = paper.q
    monkeypatch.setattr(reference, "PROBE_ITERS", 3)  # the figure's size is not the point here
    assert q.probe_fields(argparse.Namespace(budget="steps5000", mnist=mnist_dir)) == {}
    probe = q.probe_fields(argparse.Namespace(budget="time", mnist=mnist_dir))
    assert set(probe) == {"reference_it_s"} and probe["reference_it_s"] > 0
    _regenerated(tmp_path, "quality", q.write_page)
    # with no cell that has one: no column (the notes below the tables still explain it); the
    # committed cells' probes are taken out of the copy first, so this holds whatever they hold
    for f in (tmp_path / "quality" / "cells").rglob("seed*.json"):
        c = json.loads(f.read_text())
        if c.pop("reference_it_s", None) is not None:
            f.write_text(json.dumps(c))
    q.write_page(argparse.Namespace(out=tmp_path, budget="time"))
    assert not any("machine probe" in x for x in _tables((tmp_path / "quality.md").read_text()))
    cells = sorted((tmp_path / "quality" / "cells" / "mnist" / "r3gan-mlp-b256-g1").glob("seed*.json"))
    assert len(cells) == 3
    for f, rate in zip(cells, (7.0, 5.0, 6.0)):
        f.write_text(json.dumps(json.loads(f.read_text()) | {"reference_it_s": rate}))
    q.write_page(argparse.Namespace(out=tmp_path, budget="time"))
    lines = _tables((tmp_path / "quality.md").read_text())
    mnist_head = next(x for x in lines if "FID floor" in x and "classes" in x)
    col = mnist_head.split("|").index(" machine probe (it/s) ")
    row = next(x for x in lines if x.startswith("| r3gan-mlp-b256-g1 |"))
    assert row.split("|")[col].strip() == "6 [5-7]"
    other = next(x for x in lines if x.startswith("| r3gan-mlp-mnist |"))
    assert other.split("|")[col].strip() == "-"  # a cell from before the probe


def test_the_paper_page_regenerates_from_its_cells(tmp_path):
    _regenerated(tmp_path, "paper", paper.write_page, best="ivgp0")
    new, old = (tmp_path / "paper_reproduction.md").read_text(), (RESULTS / "paper_reproduction.md").read_text()
    assert _tables(new) == _tables(old) and len(_tables(old)) > 20


# ---------------------------------------------------------------- StackedMNIST's floor
stacked_floor = pytest.importorskip("stacked_floor")


def test_the_stacked_classifier_reads_real_stacked_digits_as_their_true_modes(mnist_dir):
    # the mode measure is only as good as the reader: on 26,000 real stacked images every
    # mode is found and the KL read through stacked-lenet is that of the images' own labels
    # within 0.005 (what the target of 0.05 is judged beside, docs/results/stacked_floor.md)
    f = stacked_floor.floor(mnist_dir, 26_000, 0)
    assert f["modes"] == f["modes_true"] == 1000
    assert abs(f["kl"] - f["kl_true"]) < 0.005 and f["kl_true"] < 0.05
    assert f["read_right"] > 0.95  # all three digits of an image read right


stacked_kl_parts = pytest.importorskip("stacked_kl_parts")


def test_the_mode_kl_splits_into_channel_rates_and_their_correlation_by_hand():
    import math

    import numpy as np

    # every mode once: nothing in any part
    p = stacked_kl_parts.kl_parts(np.arange(1000))
    assert p["modes"] == 1000 and max(abs(p[k]) for k in ("total", "a", "b", "c", "tc")) < 1e-12
    # channel a always 0, b and c uniform (100 modes, 0bc): all the KL is channel a's, log 10
    p = stacked_kl_parts.kl_parts(np.arange(100))
    assert p["total"] == pytest.approx(math.log(10)) and p["a"] == pytest.approx(math.log(10))
    assert abs(p["b"]) < 1e-12 and abs(p["c"]) < 1e-12 and abs(p["tc"]) < 1e-12
    # the three digits always equal (modes 000, 111, ..., 999): each channel uniform, so the
    # whole KL, log 100, is the channels' correlation
    p = stacked_kl_parts.kl_parts(np.arange(10) * 111)
    assert p["total"] == pytest.approx(math.log(100)) and p["tc"] == pytest.approx(math.log(100))
    assert max(abs(p[k]) for k in ("a", "b", "c")) < 1e-12
    # half the digits in channel c (c even), the rest uniform: log 2, all of it channel c's
    modes = np.array([m for m in range(1000) if m % 2 == 0])
    p = stacked_kl_parts.kl_parts(modes)
    assert p["c"] == pytest.approx(math.log(2)) and p["total"] == pytest.approx(math.log(2))
    assert p["rates"][2][1] == 0 and p["rates"][2][0] == pytest.approx(0.2)


def test_the_real_rows_blur_keeps_a_constant_image_and_softens_an_edge():
    import torch

    flat = torch.full((2, 3, 8, 8), 0.25)
    assert torch.equal(stacked_kl_parts.blur(flat, 0), flat)
    assert torch.allclose(stacked_kl_parts.blur(flat, 1.5), flat)
    edge = torch.zeros(1, 3, 9, 9)
    edge[..., 4:] = 1.0  # a vertical edge: columns 0-3 dark, 4-8 bright
    out = stacked_kl_parts.blur(edge, 1.0)
    assert out.shape == edge.shape and torch.allclose(out[..., 0, :], out[..., 8, :])  # rows alike
    assert 0 < out[0, 0, 0, 3] < 0.5 < out[0, 0, 0, 4] < 1 and out[0, 0, 0, 0] < 1e-3


def test_stacked_kl_parts_answers_a_missing_run_or_a_bad_sigma_in_one_line(tmp_path, capsys):
    assert stacked_kl_parts.main([str(tmp_path / "nope"), "--mnist", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"stacked_kl_parts: run folder '{tmp_path / 'nope'}' does not exist"
    for bad in ("a", "1,-1"):
        with pytest.raises(SystemExit) as e:
            stacked_kl_parts.main([str(tmp_path), "--real-blur", bad])
        assert e.value.code == 2 and "--real-blur" in capsys.readouterr().err


step_rate = pytest.importorskip("step_rate")


def test_step_rate_reads_the_rate_from_a_log_after_the_skipped_steps(tmp_path):
    import json

    log = tmp_path / "metrics.jsonl"
    # steps 0-50 slow (warm-up), then 10 steps a second from step 100 to 300
    recs = [{"step": 0, "time": 0.0}, {"step": 50, "time": 20.0}, {"step": 100, "time": 25.0},
            {"step": 200, "time": 35.0}, {"step": 300, "time": 45.0}, {"kind": "eval", "fid": 3.0}]
    log.write_text("\n".join(json.dumps(r) for r in recs))
    assert step_rate.rate_of(log, 100) == pytest.approx(10.0)
    assert step_rate.rate_of(log, 0) == pytest.approx(300 / 45)
    with pytest.raises(RuntimeError, match="no two logged steps"):
        step_rate.rate_of(log, 250)


def test_step_rate_times_two_configs_and_answers_bad_input_in_one_line(tmp_path, capsys):
    out = tmp_path / "rate.md"
    assert step_rate.main(["--task", "ring8", "--configs", "default,classic", "--steps", "40", "--skip", "10",
                           "--log-every", "10", "--rounds", "1", "--threads", "1", "--out", str(out)]) == 0
    rows = [ln for ln in out.read_text().splitlines() if ln.startswith("| default") or ln.startswith("| classic")]
    assert len(rows) == 2 and "**1.00x** [1.00-1.00]" in rows[0]  # the first config is the baseline
    capsys.readouterr()
    for bad, says in ((["--configs", "nope"], "unknown ganforge config 'nope'"),
                      (["--configs", "default", "--task", "moon"], "unknown task 'moon'"),
                      (["--configs", "default", "--steps", "50", "--skip", "45"], "need --steps >"),
                      (["--configs", "default", "--task", "stackedmnist"], "needs --mnist DIR")):
        with pytest.raises(SystemExit) as e:
            step_rate.main(bad)
        err = capsys.readouterr().err.strip()
        assert e.value.code == 2 and len(err.splitlines()) == 1 and says in err


def test_the_colour_folder_task_writes_stackedmnist_as_rgb_pngs_that_read_back_as_colour(tmp_path, monkeypatch):
    import torch
    import torch.nn.functional as F

    from ganforge.config import DataConfig
    from ganforge.data import load_dataset
    from ganforge.resolve import recipe_for
    from test_images import _idx_folder

    mnist = tmp_path / "mnist"
    mnist.mkdir()
    _idx_folder(mnist)
    monkeypatch.setitem(paper.q.TASKS["stackedmnist"]["data"], "n_samples", 30)
    folder = paper.q.mnist_png_folder(mnist, tmp_path, "folder32c")
    assert folder == tmp_path / "quality" / "folder32c" and (folder / "COMPLETE").read_text() == "30 images\n"
    back = load_dataset(DataConfig(name="imagefolder", dir=str(folder), size=32)).x  # channels from the files
    want = load_dataset(DataConfig(name="stackedmnist", dir=str(mnist), n_samples=30)).x
    want = F.interpolate(want, size=(32, 32), mode="bilinear", align_corners=False)
    assert back.shape == (30, 3, 32, 32)
    assert torch.allclose(back, want, atol=1 / 127.5 + 1e-6)  # the same images, to a grey level
    assert recipe_for(DataConfig(name="imagefolder", dir=str(folder), size=32))[0] == "r3gan-mlp-stacked-warm"
    grey = paper.q.mnist_png_folder(mnist, tmp_path, "folder32")
    assert load_dataset(DataConfig(name="imagefolder", dir=str(grey), size=32)).x.shape == (60, 1, 32, 32)
    assert recipe_for(DataConfig(name="imagefolder", dir=str(grey), size=32))[0] == "r3gan-mlp-b256-g1"


def test_a_folder_task_is_made_whole_or_not_at_all(tmp_path, monkeypatch):
    """Cells started side by side each make their task's PNG folder: each writes its own copy
    beside the folder and renames it in when complete, so none reads a half-written folder; a
    folder half-written before (no marker) is replaced, and no partial copy is left behind."""
    import shutil

    from test_images import _idx_folder

    mnist = tmp_path / "mnist"
    mnist.mkdir()
    _idx_folder(mnist)
    folder = tmp_path / "quality" / "folder32"
    folder.mkdir(parents=True)
    (folder / "00000.png").write_bytes(b"cut short")
    assert paper.q.mnist_png_folder(mnist, tmp_path, "folder32") == folder
    assert (folder / "COMPLETE").read_text() == "60 images\n" and len(list(folder.glob("*.png"))) == 60
    assert sorted(p.name for p in folder.parent.iterdir()) == ["folder32"]
    stamp = (folder / "COMPLETE").stat().st_mtime_ns
    paper.q.mnist_png_folder(mnist, tmp_path, "folder32")  # complete: not made again
    assert (folder / "COMPLETE").stat().st_mtime_ns == stamp

    # another cell completes the same folder while this one writes: theirs is kept, ours dropped
    other = tmp_path / "quality" / "folder32c"
    monkeypatch.setitem(paper.q.TASKS["stackedmnist"]["data"], "n_samples", 30)
    rename = Path.rename

    def beaten(self, target):
        if target == other and not target.exists():
            shutil.copytree(folder, other)  # the other cell's complete folder ("60 images")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", beaten)
    assert paper.q.mnist_png_folder(mnist, tmp_path, "folder32c") == other
    assert (other / "COMPLETE").read_text() == "60 images\n"
    assert sorted(p.name for p in other.parent.iterdir()) == ["folder32", "folder32c"]


def test_health_replay_reads_a_runs_loss_and_reports_the_critic_lost_where_the_monitor_would(tmp_path, capsys):
    import json

    import health_replay

    def run(name: str, loss: str) -> Path:
        d = tmp_path / name
        d.mkdir()
        (d / "config.yaml").write_text(f"loss:\n  name: {loss}\n")
        recs = [{"step": 10, "loss_d": 0.2, "d_real": 2.3, "d_fake": 0.1, "grad_norm_g": 1.2}]
        recs += [{"step": s, "loss_d": 0.69, "d_real": 0.301, "d_fake": 0.3, "grad_norm_g": 0.006}
                 for s in range(20, 1000, 10)]
        recs.insert(3, {"step": 30, "fid": 900.0})  # an evaluation line is not a training record
        (d / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
        return d

    lost, wgan = run("lost", "rpgan"), run("wgan", "wasserstein")
    assert [s for s, _ in health_replay.replay(lost)] == [520]  # flat from 20, 500 steps on
    assert health_replay.replay(wgan) == []  # a distance at 0 is no lost critic
    assert health_replay.main([str(lost), str(wgan)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{lost}: step 520: critic lost") and out[1] == f"{wgan}: no warnings"
    assert health_replay.main([str(tmp_path)]) == 2  # not a run folder: one line, exit 2
    assert "not a run folder" in capsys.readouterr().err
    assert health_replay.main([]) == 2


# ---------------------------------------------------------------- the tutorial baselines
tutorial = pytest.importorskip("tutorial_dcgan")


def test_the_tutorial_loop_trains_in_both_styles_and_keeps_pytorch_gans_quirks():
    import torch

    x = torch.rand(40, 1, 28, 28) * 2 - 1
    seen = {}
    for style in ("plain", "pytorch-gan"):
        g, curve, steps, _ = tutorial.train(x, 0, 4, 2, lambda g, step: {"fid": float(step)}, batch=8, style=style)
        assert steps == 4 and [p["step"] for p in curve] == [2, 4] and curve[-1]["fid"] == 4.0
        assert g(torch.randn(3, tutorial.Z_DIM)).shape == (3, 1, 32, 32)  # 28 px data is trained at 32 px
        seen[style] = g
    eps = lambda g: sorted({m.eps for m in g.modules() if isinstance(m, torch.nn.BatchNorm2d)})  # noqa: E731
    assert eps(seen["plain"]) == [1e-5] and eps(seen["pytorch-gan"]) == [1e-5, 0.8]  # the first BN keeps 1e-5
    d = tutorial.Discriminator(3, tutorial.EPS["pytorch-gan"])
    assert [m.eps for m in d.modules() if isinstance(m, torch.nn.BatchNorm2d)] == [0.8] * 3  # all but the first conv
    # PyTorch's Linear init in PyTorch-GAN's style (uniform, bound 1/sqrt(100): sd 0.058), N(0, 0.02) in the plain one
    sd = lambda g: g.fc.weight.std().item()  # noqa: E731
    assert 0.018 < sd(seen["plain"]) < 0.022 and 0.055 < sd(seen["pytorch-gan"]) < 0.06


def test_the_tutorial_loop_cut_off_and_resumed_ends_where_one_straight_run_ends(tmp_path):
    """A step-counted tutorial cell goes on from its checkpoint bit for bit: the same weights
    and the same curve as a run that was never interrupted, in both styles."""
    import torch

    x = torch.rand(40, 1, 28, 28) * 2 - 1
    judge = lambda g, step: {"fid": g.fc.weight.detach().sum().item()}  # noqa: E731
    for style in ("plain", "pytorch-gan"):
        ckpt = tmp_path / f"{style}.pt"
        g1, c1, n1, _ = tutorial.train(x, 0, 6, 2, judge, batch=8, style=style)
        _, cut, _, _ = tutorial.train(x, 0, 4, 2, judge, batch=8, style=style, ckpt=ckpt)
        assert ckpt.exists() and [p["step"] for p in cut] == [2, 4]
        g2, c2, n2, _ = tutorial.train(x, 0, 6, 2, judge, batch=8, style=style, ckpt=ckpt)
        assert n1 == n2 == 6 and [p["fid"] for p in c1] == [p["fid"] for p in c2]
        assert all(torch.equal(a, b) for a, b in zip(g1.state_dict().values(), g2.state_dict().values()))


def test_a_kept_tutorial_generator_is_drawn_again_as_the_suite_scored_it(tmp_path, mnist_dir, capsys):
    """fid_spread's first draw of a tutorial cell is the suite's own number for it, and its
    kept generator comes back with the weights it was trained to."""
    import torch

    q = paper.q
    fid_spread = pytest.importorskip("fid_spread")
    g, _, _, _ = tutorial.train(torch.rand(40, 1, 28, 28) * 2 - 1, 0, 3, 3, lambda g, s: {}, batch=8,
                                style="pytorch-gan")
    run = tmp_path / "steps5000" / "mnist" / "tutorial-dcgan-pg" / "seed1"
    q.keep_tutorial_g(g, "pytorch-gan", run)
    back = q.load_tutorial_g(run)
    z = torch.randn(4, tutorial.Z_DIM)
    assert torch.equal(g.eval()(z), back(z))
    data, _ = q.tutorial_setup("mnist", 1, "steps5000", mnist_dir)
    suite = q.final_metrics("mnist", q.TutorialModel(back, data), 1)["fid"]
    m = fid_spread.draws(run, 1, q.TASKS["mnist"]["n_eval"], 2, mnist_dir)
    assert m["first"] == pytest.approx(suite, rel=1e-9) and m["step"] == 5000 and m["repeats"] == 2
    assert m["spread"]["fid"]["min"] <= m["fid"] <= m["spread"]["fid"]["max"]
    # the script's page: the same draws, one row a finished seed, the suite's number first
    page = tmp_path / "spread.md"
    assert fid_spread.main(["--runs", str(run.parent), "--repeats", "2", "--mnist", str(mnist_dir),
                            "--out", str(page)]) == 0
    fmt = lambda v: f"{v:.2f}"  # noqa: E731
    sp = m["spread"]["fid"]
    row = (f"| steps5000/tutorial-dcgan-pg/seed1 | 5000 | {fmt(m['first'])} | {fmt(m['fid'])} | "
           f"{fmt(sp['min'])}-{fmt(sp['max'])} | {fmt(sp['sd'])} |")
    assert row in page.read_text().splitlines()
    # an unreadable kept generator is one line and exit 2, not a traceback
    for junk, why in ((b"not a checkpoint", "damaged, or not a file this suite kept"), (b"", "EOFError")):
        (run / q.TUTORIAL_G).write_bytes(junk)
        assert fid_spread.main(["--runs", str(run.parent), "--repeats", "2", "--mnist", str(mnist_dir),
                                "--out", str(page)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"fid_spread: {run / q.TUTORIAL_G}: not a readable tutorial generator ({why}")
        assert "\n" not in err


def test_the_step_targets_compare_with_the_strongest_tutorial():
    q = pytest.importorskip("quality_tasks")
    cell = lambda fid: {"final": {"fid": fid}}  # noqa: E731
    by = {("mnist", "tutorial-dcgan"): [cell(120.0), cell(110.0)], ("mnist", "tutorial-dcgan-pg"): [cell(20.0)]}
    assert q.strongest_tutorial(by, "mnist") == [cell(20.0)]
    assert q.strongest_tutorial({("mnist", "tutorial-dcgan"): [cell(120.0)]}, "mnist") == [cell(120.0)]
    assert q.strongest_tutorial({}, "mnist") is None
    ours = [cell(14.0)] * 3  # under 15 at 5,000 steps, but not half of 20
    assert q.target_met("mnist", ours, "steps5000", q.strongest_tutorial(by, "mnist")) is False
    assert q.target_met("mnist", [cell(9.0)] * 3, "steps5000", q.strongest_tutorial(by, "mnist")) is True
    assert q.target_met("mnist", ours, "steps5000", None) is None  # undecided without a tutorial


def test_ema_batchnorm_scores_one_run_both_ways(tmp_path, capsys):
    """ema_batchnorm.py's recompute column is the default's own evaluation of the run (the
    suite's final measure, first draw and median), its copy column another number; a folder
    without runs, or a run outside the suite's layout, is exit 2."""
    import shutil

    import ganforge
    from ganforge.api import load_model
    from ganforge.train.rundir import RunDir
    from conftest import tiny_config

    eb = pytest.importorskip("ema_batchnorm")
    q = pytest.importorskip("quality")
    run = tmp_path / "quality" / "steps10" / "digits" / "cfg" / "seed0"
    ganforge.train(tiny_config(tmp_path, model={"g_norm": "batch"}, data={"name": "digits", "holdout": 297},
                               train={"ema_decay": 0.9, "iters": 10}, out=str(run)))
    m = eb.score(run, 0, 2)
    assert m["recompute"]["first"] == pytest.approx(q.final_metrics("digits", load_model(run), 0)["fid"])
    both = [q.final_metrics("digits", load_model(run), i)["fid"] for i in (0, 1)]
    assert m["recompute"]["fid"] == pytest.approx(sum(both) / 2)
    assert m["copy"]["fid"] != pytest.approx(m["recompute"]["fid"])
    assert eb.main(["--runs", str(tmp_path / "nothing")]) == 2
    shutil.copytree(run, tmp_path / "elsewhere" / "cfg" / "seed0")
    assert eb.main(["--runs", str(tmp_path / "elsewhere" / "cfg"), "--out", str(tmp_path / "x.md")]) == 2
    assert not (tmp_path / "x.md").exists()
    # a seed still training (its run.json says so) is left out with a line, never scored as a final
    going = run.parent / "seed1"
    shutil.copytree(run, going)
    # the copy's run.json names this process as its trainer; a live other one trains it now
    from ganforge.train.rundir import _start_ticks

    RunDir(going).write_status(status="running", step=4, pid=os.getppid(), started=_start_ticks(os.getppid()))
    out = tmp_path / "y.md"
    assert eb.main(["--runs", str(run.parent), "--repeats", "2", "--out", str(out)]) == 0
    assert f"{going}: skipped: running at step 4, not finished" in capsys.readouterr().err
    assert "/seed0 |" in out.read_text() and "/seed1 |" not in out.read_text()
    shutil.rmtree(run)
    assert eb.main(["--runs", str(run.parent), "--out", str(tmp_path / "z.md")]) == 2
    assert "holds no finished run folder" in capsys.readouterr().err


def test_finished_runs_leaves_out_the_seeds_still_training(tmp_path):
    """quality.finished_runs: ended runs (finished, failed, pruned, or a folder without
    run.json) and finished tutorial cells in, in seed order; running (or lost: its process
    gone), interrupted and crashed runs and a tutorial cell with only its loop checkpoint
    out, each with its line."""
    q = pytest.importorskip("quality")
    from ganforge.train.rundir import RunDir

    for seed, status in enumerate(("finished", "failed", "pruned", "running", "interrupted", "crashed")):
        (tmp_path / f"seed{seed}").mkdir()
        RunDir(tmp_path / f"seed{seed}").write_status(status=status, step=10 * seed)
    (tmp_path / "seed6").mkdir()  # no run.json
    (tmp_path / "seed7").mkdir()
    (tmp_path / "seed7" / q.TUTORIAL_G).write_bytes(b"g")
    (tmp_path / "seed8").mkdir()
    (tmp_path / "seed8" / q.TUTORIAL_CKPT).write_bytes(b"c")
    (tmp_path / "notes").mkdir()  # not a seed folder
    import subprocess
    import sys

    from ganforge.train.rundir import trainer_fields

    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    (tmp_path / "seed9").mkdir()  # says running, but its process has ended: lost, and it goes on
    RunDir(tmp_path / "seed9").write_status(status="running", step=90, **{**trainer_fields(), "pid": gone})
    done, skipped = q.finished_runs(tmp_path)
    assert [r.name for r in done] == ["seed0", "seed1", "seed2", "seed6", "seed7"]
    assert skipped == [f"{tmp_path / 'seed3'}: skipped: running at step 30, not finished",
                       f"{tmp_path / 'seed4'}: skipped: interrupted at step 40, not finished",
                       f"{tmp_path / 'seed5'}: skipped: crashed at step 50, not finished",
                       f"{tmp_path / 'seed8'}: skipped: the tutorial cell has not finished (no {q.TUTORIAL_G} yet)",
                       f"{tmp_path / 'seed9'}: skipped: lost at step 90, not finished"]


optim_impl = pytest.importorskip("optim_impl")


def test_optim_impl_times_every_kernel_and_finds_the_same_weights(tmp_path, capsys):
    out = tmp_path / "t.md"
    assert optim_impl.main(["--preset", "r3gan-toy", "--shape", "2", "--repeats", "2", "--threads", "1",
                            "--out", str(out)]) == 0
    rows = [r for r in out.read_text().splitlines() if r.startswith("| ") and not r.startswith("| impl")]
    assert [r.split(" | ")[0][2:] for r in rows] == ["loop", "foreach", "fused"]
    assert all(float(r.split(" | ")[3].rstrip(" |")) < 1e-5 for r in rows)  # the same update
    capsys.readouterr()
    for bad, says in ((["--preset", "nope"], "unknown preset 'nope'"), (["--repeats", "0"], "need --repeats >= 1")):
        assert optim_impl.main(bad) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and says in err
