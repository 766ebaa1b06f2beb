"""The run folder: config, metrics, samples, checkpoints, status."""
from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..config import Config
from ..errors import RunError
from .checkpoint import atomic_write_bytes


#: how a run reads whose run.json says running while its process is gone (RunDir.live_status):
#: derived when read, never written
LOST = "lost"


def _boot_id() -> str:
    """This boot of the machine (Linux; empty elsewhere): a pid from before a restart names
    no process of ours, even if a new process has the same number now."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (Linux; None elsewhere or when
    there is no such process): with the pid it names one process, not whoever takes the pid later."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[19])  # field 22; the name may hold spaces
    except (OSError, ValueError, IndexError):
        return None


def trainer_fields() -> dict[str, Any]:
    """What run.json records of the process that trains the run, so that a run whose process
    is gone (killed, the machine restarted) is told from one still training."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "boot": _boot_id(), "started": _start_ticks(os.getpid())}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, another user's
        return True
    except (OSError, OverflowError):
        return False
    return True


def trainer_alive(status: dict[str, Any]) -> bool | None:
    """Whether the process that run.json says trains the run still runs: None when this
    machine cannot tell (another host, or a run.json from before these fields)."""
    pid, host = status.get("pid"), status.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return None
    if os.name == "nt":  # there os.kill(pid, 0) sends a Ctrl-C event instead of asking
        return None
    if status.get("boot") and _boot_id() and status["boot"] != _boot_id():
        return False  # the machine restarted since
    if pid == os.getpid():
        return False  # this process is not training it now: it is here, asking
    if not _pid_alive(pid):
        return False
    started = status.get("started")
    if isinstance(started, int):
        now = _start_ticks(pid)
        if now is not None and now != started:
            return False  # the pid was taken by a process started later
    return True


@dataclass
class RunDir:
    """A run folder. ``writable=False`` (ranks other than 0 of a distributed run) turns
    every write into a no-op, so the same callbacks run on every rank and one writes."""

    path: Path
    writable: bool = True

    @property
    def config_file(self) -> Path:
        return self.path / "config.yaml"

    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def status_file(self) -> Path:
        return self.path / "run.json"

    def is_run(self) -> bool:
        return self.config_file.is_file()

    def require_run(self) -> "RunDir":
        if not self.path.is_dir():
            raise RunError(f"run folder {str(self.path)!r} does not exist")
        if not self.is_run():
            raise RunError(f"{self.path} is not a ganforge run folder (no config.yaml)")
        self.check_confined()
        return self

    #: the entries ganforge reads, writes or deletes inside a run folder
    ENTRIES = ("config.yaml", "metrics.jsonl", "run.json", "eval.json", "samples", "checkpoints",
               "checkpoints/manifest.json", "checkpoints/best", "checkpoints/best/manifest.json", "plots", "tb")

    def check_confined(self) -> None:
        """RunError when an entry of the folder is a link that leads outside it: run folders
        are shared and downloaded, and checkpoint rotation deletes files, so nothing read
        from a run may reach a file elsewhere (checkpoint names are checked by the manifest
        reader, see checkpoint.check_name)."""
        root = self.path.resolve()
        for name in self.ENTRIES:
            p = self.path / name
            if not (p.is_symlink() or p.exists()):
                continue
            target = p.resolve()
            if target != root and root not in target.parents:
                raise RunError(f"{p}: refused: it leads outside the run folder (to {target})")

    def create(self, cfg: Config) -> None:
        if not self.writable:
            return
        if self.is_run():
            raise RunError(f"{self.path} already holds a run; resume it with --resume {self.path} or choose another --out")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.samples.mkdir(exist_ok=True)
        except OSError as e:
            raise RunError(f"cannot create run folder {self.path} ({e.strerror or e})") from None
        self.write_config(cfg)

    def write_config(self, cfg: Config) -> None:
        if not self.writable:
            return
        atomic_write_bytes(self.config_file, cfg.to_yaml().encode())

    def read_config(self) -> dict[str, Any]:
        self.require_run()
        try:
            d = yaml.safe_load(self.config_file.read_text())
        except yaml.YAMLError as e:
            # safe_load refuses tags (!!python/object...) with a multi-line message: one line here
            mark = getattr(e, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark is not None else ""
            what = str(getattr(e, "problem", None) or "invalid YAML").splitlines()[0]
            raise RunError(f"{self.config_file}: unreadable{at} ({what})") from None
        except (OSError, UnicodeDecodeError) as e:
            raise RunError(f"{self.config_file}: unreadable ({getattr(e, 'strerror', None) or e})") from None
        if not isinstance(d, dict):
            raise RunError(f"{self.config_file}: not a config mapping")
        return d

    def write_status(self, **fields: Any) -> None:
        if not self.writable:
            return
        cur = self.read_status()
        cur.update(fields, updated=time.strftime("%Y-%m-%dT%H:%M:%S"))
        atomic_write_bytes(self.status_file, json.dumps(cur, indent=1).encode())

    def live_status(self) -> dict[str, Any]:
        """run.json as things stand: a run that says ``running`` whose process is gone from
        this machine (killed, or the machine restarted) reads ``lost``; it resumes like an
        interrupted run, from its newest checkpoint."""
        st = self.read_status()
        if st.get("status") == "running" and trainer_alive(st) is False:
            st["status"] = LOST
        return st

    def require_not_training(self) -> None:
        """RunError when another process on this machine is training the run now: two
        processes writing one run's checkpoints and metrics would interleave them."""
        st = self.read_status()
        if st.get("status") == "running" and trainer_alive(st):
            raise RunError(f"{self.path} is being trained now by process {st['pid']} on this machine; "
                           "let it finish or stop it (Ctrl-C) before resuming")

    def read_status(self) -> dict[str, Any]:
        try:
            return json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return {}

    def append_metrics(self, rec: dict[str, Any]) -> None:
        """One JSON line at the end of metrics.jsonl."""
        if not self.writable:
            return
        with open(self.metrics_file, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        return list(iter_metrics(self.metrics_file))

    def truncate_metrics(self, step: int) -> None:
        """Drop records after ``step`` (written after the checkpoint we resume from)."""
        if not self.writable:
            return
        if not self.metrics_file.exists():
            return
        keep = [r for r in iter_metrics(self.metrics_file) if r.get("step", 0) <= step]
        atomic_write_bytes(self.metrics_file, "".join(json.dumps(r) + "\n" for r in keep).encode())


def iter_metrics(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a metrics.jsonl; a torn last line (crash mid-write) is skipped."""
    if not path.exists():
        return
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except ValueError:
                continue


def default_run_name(cfg: Config) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{cfg.data.name}-{cfg.model.name}-{stamp}"
    p, i = base, 1
    while p.exists():
        i += 1
        p = base.with_name(f"{base.name}-{i}")
    return p
