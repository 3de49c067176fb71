"""Exclusive locks on one output path, naming their holder: one job at a time writes an output (a sample shard, a
perplexity table), e.g. when a rerun after `snakemake --unlock` meets an orphaned job of a killed Snakemake.

Two schemes, chosen by the config key `sampling.lock` (it applies to sampling and perplexity jobs):

- `flock` (default): `fcntl.flock` on `.<name>.lock` beside the output. The kernel releases it when its holder
  dies, however it dies. Some cluster filesystems do not provide it (Lustre mounted without `flock`, some NFS
  setups): the job then stops at once, naming the setting that switches to the other scheme. Where flock is only
  node-local (Lustre's `localflock`) it does not exclude jobs on other nodes: use `lockfile` there too.
- `lockfile`: `.<name>.lockfile` created with O_EXCL (atomic on local filesystems, NFS v3+ and Lustre), holding
  its owner: host, pid, SLURM job, start time. Nothing releases it when its owner is killed, so a job that finds
  one checks the owner: a process gone from this host left a stale lock, which is taken over; an owner on another
  host cannot be seen from here and counts as holding it (the error says how to clear it by hand).

    with exclusive_lock(out_path, "lockfile") as lock:
        ...                # compute
        lock.verify()      # still ours? (raises LockLostError), then write the output
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

LOCK_SCHEMES = ("flock", "lockfile")
SETTING = "sampling.lock"


class LockHeldError(RuntimeError):
    """Another process holds the lock; `holder` describes it."""

    def __init__(self, path: Path, holder: str, advice: str = ""):
        self.path, self.holder, self.advice = path, holder, advice  # advice: a sentence on clearing it, or ""
        super().__init__(f"{path} is held by {holder}" + (f". {advice}" if advice else ""))


class LockUnsupportedError(RuntimeError):
    """The filesystem cannot provide the lock scheme asked for."""


class LockLostError(RuntimeError):
    """The lock this process took is no longer its own (its lock file was removed or taken over)."""


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22): a pid reused by another
    process has another start time."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


@dataclass(frozen=True)
class Owner:
    """Who holds a lock (or claims an output): enough to find the process, and to tell a dead one on this host."""
    host: str
    pid: int
    since: str
    slurm_job: str | None = None
    boot_id: str | None = None
    process_start: int | None = None

    @classmethod
    def current(cls) -> "Owner":
        return cls(socket.gethostname(), os.getpid(), time.strftime("%Y-%m-%d %H:%M:%S"),
                   os.environ.get("SLURM_JOB_ID"), _boot_id(), _process_start(os.getpid()))

    @classmethod
    def parse(cls, text: str) -> "Owner | None":
        try:
            fields = json.loads(text)
        except ValueError:
            return None  # empty (being written) or another format
        if not isinstance(fields, dict) or not {"host", "pid"} <= fields.keys():
            return None
        return cls(**{k: fields.get(k) for k in cls.__dataclass_fields__})

    def to_text(self) -> str:
        return json.dumps(asdict(self)) + "\n"

    def describe(self) -> str:
        job = f", SLURM job {self.slurm_job}" if self.slurm_job else ""
        return f"pid {self.pid} on {self.host}{job}, since {self.since}"

    def alive(self) -> bool | None:
        """True or False on this host (the same boot); None where it cannot be told (another host)."""
        if self.host != socket.gethostname():
            return None
        if self.boot_id and _boot_id() and self.boot_id != _boot_id():
            return False  # the machine rebooted since: every process of then is gone
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # a process of another user: it exists
        start = _process_start(self.pid)
        return self.process_start is None or start is None or start == self.process_start


class _Held:
    """What `exclusive_lock` yields: `verify()` before the final write."""

    def __init__(self, path: Path, check):
        self.path, self._check = path, check

    def verify(self) -> None:
        if not self._check():
            raise LockLostError(f"{self.path}: this job's lock was removed or taken over while it ran; its result is "
                                "not written (another job owns the output now)")


@contextmanager
def exclusive_lock(out_path: str | os.PathLike, scheme: str = "flock") -> Iterator[_Held]:
    """Hold the lock of `out_path` for the block, or raise LockHeldError at once if another process holds it."""
    if scheme not in LOCK_SCHEMES:
        raise ValueError(f"unknown lock scheme {scheme!r}; known: {', '.join(LOCK_SCHEMES)}")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with (_flock if scheme == "flock" else _lockfile)(out_path) as held:
        yield held


def lock_path(out_path: Path, scheme: str) -> Path:
    return out_path.with_name(f".{out_path.name}.{'lock' if scheme == 'flock' else 'lockfile'}")


@contextmanager
def _flock(out_path: Path) -> Iterator[_Held]:
    path = lock_path(out_path, "flock")
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            text = f.read().strip()
            holder = Owner.parse(text)
            raise LockHeldError(path, holder.describe() if holder else (text or "an unknown process")) from None
        except OSError as e:  # ENOLCK, EOPNOTSUPP, ENOSYS...: no flock on this filesystem
            raise LockUnsupportedError(
                f"{path}: this filesystem does not support flock ({errno.errorcode.get(e.errno, e.errno)}: {e.strerror}); "
                f"set `{SETTING}: lockfile` in the config to lock with lock files instead") from None
        f.seek(0)
        f.truncate()
        f.write(Owner.current().to_text())
        f.flush()
        inode = os.fstat(f.fileno()).st_ino

        def still_ours() -> bool:  # the lock file at `path` is still the one locked (not deleted and recreated)
            try:
                return os.stat(path).st_ino == inode
            except FileNotFoundError:
                return False

        try:
            yield _Held(path, still_ours)
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def _lockfile(out_path: Path) -> Iterator[_Held]:
    path = lock_path(out_path, "lockfile")
    me = Owner.current().to_text()
    _create_exclusive(path, me)

    def still_ours() -> bool:
        try:
            return path.read_text() == me
        except FileNotFoundError:
            return False

    try:
        yield _Held(path, still_ours)
    finally:
        if still_ours():
            path.unlink()


def _create_exclusive(path: Path, content: str, attempts: int = 5) -> None:
    for _ in range(attempts):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            _break_if_stale(path)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())  # other hosts read the owner
        return
    raise LockHeldError(path, "processes that keep taking it over")


def _break_if_stale(path: Path) -> None:
    """Remove `path` if its owner is gone from this host; else raise LockHeldError naming it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return  # released meanwhile: try again
    owner = Owner.parse(text)
    if owner is None:
        time.sleep(0.2)  # being written by its creator: read it once more
        text = path.read_text() if path.exists() else ""
        owner = Owner.parse(text)
    if owner is None:
        raise LockHeldError(path, f"an owner it does not name ({text.strip()!r})",
                            f"If no job writes this output any more, delete {path} and rerun")
    alive = owner.alive()
    if alive is None:
        check = (f"`squeue -j {owner.slurm_job}` or " if owner.slurm_job else "") + f"`ssh {owner.host} ps -p {owner.pid}`"
        raise LockHeldError(path, owner.describe(), f"It runs on another host, where this job cannot check it: if it "
                                                    f"is gone ({check}), delete {path} and rerun")
    if alive:
        raise LockHeldError(path, owner.describe())
    # Stale: its owner died on this host. Rename it aside, then check that what was renamed is the stale lock and
    # not one another job created meanwhile (which is put back), so that two jobs never both break one lock.
    aside = path.with_name(f"{path.name}.stale.{os.getpid()}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    if aside.read_text() == text:
        print(f"{path}: taking over the lock of {owner.describe()}, gone")
        aside.unlink()
        return
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    aside.unlink()
