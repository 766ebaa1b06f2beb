"""Command line: parse, build a config, call the Python API. Nothing else lives here.

User mistakes (GanforgeError) print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from .errors import ConfigError, GanforgeError


class Parser(argparse.ArgumentParser):
    """argparse with 'did you mean' for mistyped options (and no silent abbreviations)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        self.children: list[argparse.ArgumentParser] = []  # subcommand parsers, for "did you mean"
        self.lazy_help: list[argparse.Action] = []  # actions whose help lists a registry's choices
        super().__init__(*args, **kwargs)

    def _note_lazy(self, action: argparse.Action) -> argparse.Action:
        if isinstance(action.help, _Choices):
            self.lazy_help.append(action)
        return action

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:  # type: ignore[override]
        return self._note_lazy(super().add_argument(*args, **kwargs))

    def add_argument_group(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        group = super().add_argument_group(*args, **kwargs)
        add = group.add_argument

        def add_argument(*a: Any, **kw: Any) -> argparse.Action:
            return self._note_lazy(add(*a, **kw))

        group.add_argument = add_argument  # type: ignore[method-assign]
        return group

    def format_help(self) -> str:
        for action in self.lazy_help:  # the registries are imported only when help is shown
            action.help = str(action.help)
        self.lazy_help = []
        return super().format_help()

    def add_subparsers(self, **kwargs):  # type: ignore[override]
        action = super().add_subparsers(**kwargs)
        make = action.add_parser

        def add_parser(name: str, **kw: Any) -> argparse.ArgumentParser:
            child = make(name, **kw)
            self.children.append(child)
            return child

        action.add_parser = add_parser  # type: ignore[method-assign]
        return action

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith("unrecognized arguments:"):
            opts = _option_strings(self)
            hints = []
            for bad in message.split(":", 1)[1].split():
                if bad.startswith("-"):
                    flag = bad.split("=")[0]
                    m = difflib.get_close_matches(flag, [o for o in opts if o != flag], n=1, cutoff=0.6)
                    if m:
                        hints.append(f"{bad} -> did you mean {m[0]}?")
            if hints:
                message += " (" + "; ".join(hints) + ")"
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:  # a mistyped subcommand or choice
            choices = re.findall(r"'([^']*)'", m.group(2)) or [c.strip() for c in m.group(2).split(",")]
            close = difflib.get_close_matches(m.group(1), choices, n=1, cutoff=0.5)
            if close:
                message += f" (did you mean {close[0]!r}?)"
        self.exit(2, f"{self.prog}: error: {message}\n")


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every --flag of ``parser`` and its subcommands, read from their help texts (argparse's
    public face, not its private lists of actions)."""
    opts = set(re.findall(r"(?<![\w-])--[a-z0-9][a-z0-9-]*", parser.format_help()))
    for sub in getattr(parser, "children", []):
        opts.update(_option_strings(sub))
    return sorted(opts)


# flag -> config keys it sets (a flag may set several, e.g. --optimizer sets both networks)
FLAG_KEYS: dict[str, tuple[str, ...]] = {
    "data": ("data.name",), "data_dir": ("data.dir",), "size": ("data.size",), "toy": ("data.toy",),
    "holdout": ("data.holdout",),
    "model": ("model.name",), "z_dim": ("model.z_dim",), "width": ("model.width",), "d_norm": ("model.d_norm",),
    "latent": ("model.latent",),
    "loss": ("loss.name",),
    "penalty": ("penalty.name",), "penalty_weight": ("penalty.weight",),
    "penalty_schedule": ("penalty.schedule",), "penalty_every": ("penalty.every",),
    "optimizer": ("optim.g.name", "optim.d.name"), "lr": ("optim.g.lr", "optim.d.lr"),
    "lr_g": ("optim.g.lr",), "lr_d": ("optim.d.lr",),
    "lr_schedule": ("optim.g.schedule", "optim.d.schedule"),
    "iters": ("train.iters",), "batch_size": ("train.batch_size",), "n_critic": ("train.n_critic",),
    "seed": ("train.seed",), "log_every": ("train.log_every",), "sample_every": ("train.sample_every",),
    "ckpt_every": ("train.ckpt_every",), "device": ("train.device",), "ema": ("train.ema_decay",),
    "threads": ("train.threads",), "out": ("out",), "epochs": ("train.epochs",),
    "conditional": ("model.conditional",), "instance_noise": ("reg.instance_noise",),
    "init": ("model.init",),
}


class _Choices:
    """Help text ``a | b | c (default x)`` from the key's registry (ganforge.choices), so that
    --help never lists fewer choices than the code has. Turned into text by
    Parser.format_help, only when help is shown: building the parser imports no registry,
    which would cost every command torch's import time."""

    def __init__(self, key: str, default: Optional[str] = None, before: str = "", after: str = "") -> None:
        self.key, self.default, self.before, self.after = key, default, before, after

    def __add__(self, other: str) -> "_Choices":
        return _Choices(self.key, self.default, self.before, self.after + other)

    def __radd__(self, other: str) -> "_Choices":
        return _Choices(self.key, self.default, other + self.before, self.after)

    def __str__(self) -> str:
        from .choices import choice_keys

        text = " | ".join(choice_keys()[self.key].names())
        return self.before + text + (f" (default {self.default})" if self.default else "") + self.after

    def __mod__(self, params: Any) -> str:  # should argparse format it before format_help does
        return str(self).replace("%", "%%") % params


def _choices(key: str, default: Optional[str] = None) -> Any:
    return _Choices(key, default)


def _add_train_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where the config comes from (later wins: preset < --config < flags < --set)")
    g.add_argument("--preset", help="a shipped preset (see `ganforge presets`)")
    g.add_argument("--config", type=Path, help="YAML config file")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any config key, dotted (repeatable), e.g. --set optim.d.lr=4e-4")
    g.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue this run from its last checkpoint")
    g.add_argument("--dry-run", action="store_true", help="print the resolved config (after a comment line naming the recipe under it, if any) and exit")
    g.add_argument("--out", help="run folder (default: runs/<data>-<model>-<time>)")
    g.add_argument("--quiet", action="store_true", help="no progress output")
    g.add_argument("--nproc", type=int, metavar="K",
                   help="data-parallel processes on this machine (torch.distributed, gloo on CPU, nccl on "
                        "GPU; the same as torchrun --nproc-per-node K -m ganforge train ...); "
                        "train.batch_size is the global batch, split over the K processes")
    d = p.add_argument_group("data")
    d.add_argument("--data", help=_choices("data.name", "digits"))
    d.add_argument("--data-dir", help="folder with the dataset files (mnist, imagefolder)")
    from .config import IMAGE_SIDES  # dataclasses only: no torch at parse time

    d.add_argument("--size", type=int, help=f"resize images to {'/'.join(map(str, IMAGE_SIDES))} px (an image "
                   "folder without it: the next of these that holds its images, at most 64)")
    d.add_argument("--toy", help="for --data toy: " + _choices("data.toy"))
    d.add_argument("--holdout", type=int, help="keep N examples out of training")
    m = p.add_argument_group("model")
    m.add_argument("--model", help=_choices("model.name", "mlp"))
    m.add_argument("--z-dim", type=int, help="latent dimension (default 64)")
    m.add_argument("--latent", help=_choices("model.latent"))
    m.add_argument("--width", type=int, help="DCGAN base width (default 64)")
    m.add_argument("--d-norm", help=_choices("model.d_norm"))
    m.add_argument("--init", help=_choices("model.init"))
    m.add_argument("--conditional", action="store_const", const=True, default=None,
                   help="class-conditional G and D (labelled data)")
    o = p.add_argument_group("objective and penalty")
    o.add_argument("--loss", help=_choices("loss.name", "wasserstein"))
    o.add_argument("--penalty", help=_choices("penalty.name", "gp") + "; several: r1+r2")
    o.add_argument("--penalty-weight", type=float, help="lambda (default 10)")
    o.add_argument("--penalty-schedule", help=_choices("penalty.schedule", "constant"))
    o.add_argument("--penalty-every", type=int, help="lazy penalty: every k critic steps")
    op = p.add_argument_group("optimization")
    op.add_argument("--optimizer", help=_choices("optim.g.name") + ", for G and D")
    op.add_argument("--lr", type=float, help="learning rate of G and D (default 1e-4)")
    op.add_argument("--lr-g", type=float, help="generator learning rate")
    op.add_argument("--lr-d", type=float, help="discriminator learning rate")
    op.add_argument("--lr-schedule", help=_choices("optim.g.schedule"))
    op.add_argument("--n-critic", type=int, help="D steps per G step (default 5)")
    op.add_argument("--ema", type=float, metavar="DECAY", help="EMA of generator weights, e.g. 0.999")
    op.add_argument("--instance-noise", type=float, metavar="STD", help="instance noise on D inputs, annealed to 0")
    t = p.add_argument_group("loop")
    t.add_argument("--iters", type=int, help="generator steps (default 2000)")
    t.add_argument("--epochs", type=float, help="length in passes of D over the data (instead of --iters)")
    t.add_argument("--batch-size", type=int, help="default 64")
    t.add_argument("--seed", type=int, help="default 0")
    t.add_argument("--log-every", type=int, help="metrics line every N steps (default 10)")
    t.add_argument("--sample-every", type=int, help="sample grid every N steps (default 250)")
    t.add_argument("--ckpt-every", type=int, help="checkpoint every N steps (default 500)")
    t.add_argument("--device", help="auto | cpu | cuda (default auto)")
    t.add_argument("--threads", type=int, help="torch intra-op threads on a CPU (default 0: the thread governor picks the faster of 1 and all, re-measured as load changes)")


def _flag_overrides(args: argparse.Namespace) -> list[str]:
    out = []
    for flag, keys in FLAG_KEYS.items():
        v = getattr(args, flag, None)
        if v is not None:
            out += [f"{k}={v}" for k in keys]
    return out + list(args.set)


def cmd_train(args: argparse.Namespace) -> int:
    from . import api
    from .resolve import resolve

    overrides = _flag_overrides(args)
    if args.resume is not None and (args.preset or args.config):
        raise GanforgeError("--resume continues a run with its own config; drop --preset/--config")
    launch = _launch_wanted(args)
    if args.resume is not None and not (args.dry_run or launch):
        # api.train resolves the stored config with the overrides, once
        result = api.train(resume=args.resume, overrides=overrides, progress=not args.quiet,
                           log=_log, handle_signals=True)
    else:
        # the one resolution of this command; api.train takes its Config as it is
        res = (resolve(overrides=overrides, resume=args.resume) if args.resume is not None
               else resolve(args.preset, args.config, overrides=overrides))
        if args.dry_run:
            print(f"# {res.note}")
            print(res.config.to_yaml(), end="")
            return 0
        if launch:
            return _launch(args, res.config)
        # which measured default (if any) the run starts from, said once the run has started
        # (so that a user error while loading the data stays the one line it is)
        said = [] if args.quiet else [_say_at_start(f"config: {res.note}")]
        result = api.train(res.config, progress=not args.quiet, log=_log, handle_signals=True,
                           extra_callbacks=said)
    if os.environ.get("RANK", "0") != "0":  # a torchrun worker other than rank 0: rank 0 reports
        return 0 if result.status in ("finished", "interrupted") else 1
    m = result.metrics
    summary = " ".join(f"{k}={m[k]:.4g}" for k in ("loss_d", "loss_g", "wasserstein") if isinstance(m.get(k), float))
    from .metrics.evaluate import headline

    quality = headline(result.last_eval)
    print(f"{result.status}: {result.step} generator steps in {result.elapsed:.1f} s "
          f"({result.iters_per_second:.2f} it/s) {summary}"
          + (f"\nquality:      {quality} (step {result.last_eval['step']})" if quality else ""))
    print(f"run folder:   {result.run_dir}")
    if result.samples:
        print(f"last samples: {result.samples}")
    if result.status == "interrupted":
        print(f"stopped on request; continue with: ganforge train --resume {result.run_dir}")
        # under torchrun a non-zero exit reads as a crashed worker
        return 0 if os.environ.get("WORLD_SIZE", "1") != "1" else 130
    if result.status == "failed":
        print(f"the run failed: {result.reason}; the last good checkpoint is kept in {result.run_dir}/checkpoints")
        return 1
    return 0


def _launch_wanted(args: argparse.Namespace) -> bool:
    if args.nproc is None or args.nproc == 1:
        return False
    if args.nproc < 1:
        raise GanforgeError(f"--nproc must be >= 1, got {args.nproc}")
    if "WORLD_SIZE" in os.environ:
        raise GanforgeError("--nproc inside torchrun: use one or the other")
    return True


def _launch(args: argparse.Namespace, cfg) -> int:
    """Check what can be checked here (a user mistake fails once, not in K workers),
    then run the command in K worker processes."""
    from .train.distributed import launch, strip_option

    for key in ("batch_size", "d_batch_size", "g_batch_size"):
        n = getattr(cfg.train, key)
        if n is not None and n % args.nproc:
            raise GanforgeError(f"train.{key}={n} must be divisible by --nproc {args.nproc}")
    return launch(strip_option(list(args.argv), "--nproc"), args.nproc)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _say_at_start(line: str):
    """A callback that logs ``line`` when a fresh run starts: a training command's first line."""
    from .train.loop import Callback  # torch: imported only by commands that train

    class SayAtStart(Callback):
        order = 5  # before the progress bar's first line

        def on_start(self, t) -> None:
            if t.step == 0:  # a resumed run says where it goes on from in its own words
                _log(line)

    return SayAtStart()


def cmd_sample(args: argparse.Namespace) -> int:
    from . import api

    api.sample(args.run_dir, n=args.n, out=args.out, seed=args.seed, device=args.device,
               truncation=args.truncation, class_=args.class_)
    print(f"wrote {args.n} samples to {args.out}" + (" (one PNG each)" if args.out.is_dir() else ""))
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from .config import preset_description, preset_names

    for name in preset_names():
        print(f"{name:22s} {preset_description(name)}")
    return 0


def cmd_choices(args: argparse.Namespace) -> int:
    from .choices import choices_text

    print(choices_text(args.key))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from .plot import plot_run

    paths = plot_run(args.run_dir, args.out)
    for p in paths:
        print(f"wrote {p}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from . import api

    if args.against is not None:
        import inspect

        defaults = inspect.signature(api.evaluate).parameters  # the flags' defaults are the API's
        given = [f"--{k}" for k in ("n", "seed", "repeats", "reference") if getattr(args, k) != defaults[k].default]
        if given:
            raise ConfigError(f"{', '.join(given)}: a run's options; --against compares two folders as they are")
        m = api.evaluate_folders(args.run_dir, args.against, extractor=args.extractor, size=args.size,
                                 device=args.device, weights=args.weights)
    else:
        if args.size is not None:
            raise ConfigError("--size goes with --against (a run is scored at its own size)")
        m = api.evaluate(args.run_dir, n=args.n, seed=args.seed, device=args.device, extractor=args.extractor,
                         reference=args.reference, weights=args.weights, repeats=args.repeats)
    spread = m.pop("spread", {})
    for line in m.pop("warnings", []):
        _log(f"warning: {line}")
    width = max(len(k) for k in m)
    for k, v in m.items():
        if k in ("kid", "kid_std") and isinstance(v, float):
            # KID is MMD^2 in the extractor's own feature units: its scale depends on the
            # extractor (LeNet features give thousands, Inception features ~1e-3), so the
            # unit is printed with it rather than a bare number in the thousands
            note = f"  (unbiased MMD^2, cubic kernel, in {m.get('extractor', 'extractor')} feature units; not on the Inception KID scale)" if k == "kid" else ""
            text = f"{v:.4g}"
        else:
            note = ""
            text = f"{v:.4f}" if isinstance(v, float) else f"{v}"
        if k in spread and spread[k]["min"] != spread[k]["max"]:
            # with --repeats: the median of the draws, then how far one draw could have landed
            # (a value every draw shares, such as the sample counts, prints plain)
            s = spread[k]
            text = f"{v:.4g}  [{s['min']:.4g}-{s['max']:.4g}] sd {s['sd']:.3g} over {m['repeats']} draws"
        print(f"{k:<{width}}  {text}{note}")
    if args.against is None:
        print(f"wrote {args.run_dir / 'eval.json'}")
    return 0


def cmd_build_extractor(args: argparse.Namespace) -> int:
    from .metrics.build import build_digits_extractor, build_mnist_extractor
    from .metrics.features import WEIGHTS_DIR

    out = Path(args.out) if args.out else WEIGHTS_DIR
    if args.dataset == "mnist":
        if not args.data_dir:
            raise GanforgeError("build-extractor mnist needs --data-dir with the MNIST IDX files")
        meta = build_mnist_extractor(args.data_dir, out, epochs=args.epochs or 8, log=_log)
    elif args.dataset == "digits":
        meta = build_digits_extractor(out, epochs=args.epochs or 60, log=_log)
    else:
        raise GanforgeError(f"build-extractor knows mnist and digits, got {args.dataset!r}")
    print(json.dumps(meta, indent=1))
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from .tune import tune

    folder = args.out or Path("studies") / Path(args.space).stem
    st = tune(args.space, args.trials, folder, storage=args.storage, study=args.study, workers=args.workers,
              seed=args.seed, log=_log, overrides=args.set)
    if os.environ.get("GANFORGE_TUNE_WORKER"):
        return 0
    done = [t for t in st.get_trials(deepcopy=False) if t.value is not None]
    states = {}
    for t in st.get_trials(deepcopy=False):
        states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
    print(f"study {st.study_name}: " + ", ".join(f"{n} {k}" for k, n in sorted(states.items())))
    if done:
        b = st.best_trial
        print(f"best trial {b.number}: value {b.value:.4g} params {b.params}")
        print(f"run folder: {b.user_attrs.get('run_dir')}")
    print(f"study folder: {folder}  (ganforge report {folder} --out report/)")
    return 0 if done else 1  # no trial scored: nothing was found, whatever the cause (each trial's line says it)


def cmd_runs(args: argparse.Namespace) -> int:
    from .report import list_runs

    skipped: list[str] = []
    rows = list_runs(args.dirs or [Path("runs")], skipped)
    for msg in skipped:
        _log(f"skipped {msg}")
    cols = list(dict.fromkeys(k for r in rows for k in r))
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else ("-" if v is None else str(v))  # noqa: E731
    widths = {c: max(len(c), *(len(fmt(r.get(c))) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(fmt(r.get(c)).ljust(widths[c]) for c in cols))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    skipped: list[str] = []
    index = write_report(args.paths, args.out, skipped=skipped)
    for msg in skipped:
        _log(f"skipped {msg}")
    print(f"wrote {index}")
    return 0


def build_parser() -> Parser:
    p = Parser(prog="ganforge", description="Train, evaluate and tune GANs with adaptive gradient penalties.")
    from . import __version__

    p.add_argument("--version", action="version", version=f"ganforge {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    t = sub.add_parser("train", help="train a GAN (default: WGAN-GP MLP on the scikit-learn digits)",
                       description="Train a GAN. With no options: a WGAN-GP MLP on the 8x8 digits that "
                                   "ship with scikit-learn, a few minutes on a laptop CPU.",
                       epilog="Every name-valued key and its choices: ganforge choices [KEY]. Any key: --set KEY=VALUE.")
    _add_train_args(t)
    t.set_defaults(func=cmd_train)
    s = sub.add_parser("sample", help="write samples of a trained run as a PNG grid, or one PNG a sample in a folder")
    s.add_argument("run_dir", type=Path)
    s.add_argument("--n", type=int, default=64, help="how many samples (default 64)")
    s.add_argument("--out", type=Path, default=Path("samples.png"),
                   help="a .png file: one grid (default samples.png); a folder (no suffix, new or empty): one "
                        "PNG a sample, as FID tools read them (a conditional run's: a subfolder a class)")
    s.add_argument("--seed", type=int, default=0, help="the latents' seed (default 0)")
    s.add_argument("--truncation", type=float, help="clamp latents to [-t, t]")
    s.add_argument("--class", dest="class_", help="conditional runs: samples of this class only (its number, "
                   "or an image folder's class subfolder name)")
    s.add_argument("--device", default="cpu")
    s.set_defaults(func=cmd_sample)
    e = sub.add_parser("eval", help="FID, KID, precision/recall, density/coverage, mode coverage of a run "
                                    "(or of a folder of images against another)",
                       description="Evaluate a trained run (EMA weights when present) against its reference set: "
                                   "the run's holdout when it has one, else its training data. Writes eval.json. "
                                   "With --against REAL_DIR, RUN_DIR is a folder of images instead (any generator's "
                                   "samples), scored against the images of REAL_DIR in the same feature space.")
    e.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    e.add_argument("--against", type=Path, metavar="REAL_DIR",
                   help="score the images in RUN_DIR (a folder, e.g. from ganforge sample RUN --out DIR) against "
                        "this folder's; prints, writes nothing")
    e.add_argument("--size", type=int, help="with --against: the side both folders are read at "
                                            "(default: REAL_DIR's, as training reads a folder)")
    e.add_argument("--n", type=int, default=10000, help="generated samples (default 10000)")
    e.add_argument("--seed", type=int, default=0, help="latent seed (with --repeats: the first of several)")
    e.add_argument("--repeats", type=int, default=1,
                   help="draw the --n samples this many times (seeds --seed, --seed+1, ...) and report each "
                        "measure's median with its range and sd over the draws (default 1)")
    e.add_argument("--extractor", default="auto", help="auto | " + _choices("eval.extractor") + " | module:function | a TorchScript file")
    e.add_argument("--weights", help="extractor weights file (inception on a machine without internet)")
    e.add_argument("--reference", default="auto", choices=["auto", "holdout", "train"])
    e.add_argument("--device", default="cpu")
    e.set_defaults(func=cmd_eval)
    me = sub.add_parser("metrics", help="metric tools: build-extractor")
    msub = me.add_subparsers(dest="metrics_command", metavar="COMMAND", parser_class=Parser, required=True)
    b = msub.add_parser("build-extractor", help="train the digit classifier used for FID (fixed seed)")
    b.add_argument("dataset", help="mnist | digits")
    b.add_argument("--data-dir", help="folder with the MNIST IDX files (mnist)")
    b.add_argument("--epochs", type=int, help="default 8 (mnist), 60 (digits)")
    b.add_argument("--out", help="folder for the weights (default: inside the installed package)")
    b.set_defaults(func=cmd_build_extractor)
    tu = sub.add_parser("tune", help="hyperparameter search with Optuna over a YAML space",
                        description="Search a YAML space of config keys with Optuna (TPE, random or grid; "
                                    "median or Hyperband pruning on the periodic FID). Every trial is a run folder. "
                                    "Re-running the same command continues the study.")
    tu.add_argument("--space", required=True, help="YAML file, or a shipped space: optimizers, gp, batch-lr, toy-recipe")
    tu.add_argument("--trials", type=int, required=True, help="total trials in the study")
    tu.add_argument("--out", type=Path, help="study folder (default studies/<space>)")
    tu.add_argument("--storage", help="SQLAlchemy URL (default: sqlite file in the study folder)")
    tu.add_argument("--study", help="study name (default: the folder name)")
    tu.add_argument("--workers", type=int, default=1, help="worker processes on this machine")
    tu.add_argument("--seed", type=int, help="sampler seed")
    tu.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="change the space's base config, e.g. --set data.name=mnist --set data.dir=DIR")
    tu.set_defaults(func=cmd_tune)
    ru = sub.add_parser("runs", help="list runs with status, step, best FID and config highlights")
    ru.add_argument("dirs", type=Path, nargs="*", help="folders to search (default runs/)")
    ru.set_defaults(func=cmd_runs)
    rp = sub.add_parser("report", help="self-contained HTML report (with PNG figures) of runs and studies")
    rp.add_argument("paths", type=Path, nargs="+", help="run folders, folders of runs, study folders")
    rp.add_argument("--out", type=Path, default=Path("report"))
    rp.set_defaults(func=cmd_report)
    ch = sub.add_parser("choices", help="the choices of every name-valued config key, with a line of help each")
    ch.add_argument("key", nargs="?", help="one key, e.g. loss.name (default: all)")
    ch.set_defaults(func=cmd_choices)
    pr = sub.add_parser("presets", help="list the shipped presets")
    pr.set_defaults(func=cmd_presets)
    pl = sub.add_parser("plot", help="plot losses, Wasserstein estimate, penalty schedule of a run as PNG")
    pl.add_argument("run_dir", type=Path)
    pl.add_argument("--out", type=Path, help="folder for the PNGs (default RUN_DIR/plots)")
    pl.set_defaults(func=cmd_plot)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except GanforgeError as e:
        print(f"ganforge: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganforge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of the output left (`ganforge train --dry-run | head -1`): stop quietly as
        # Unix tools do; stdout goes to devnull so the interpreter's last flush cannot raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
