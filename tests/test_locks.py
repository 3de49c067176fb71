"""Output locks (rlvr_eval.sampling.locks), claims (claims) and a job's hold on its output (holds): one job at a
time per output, the newest job owns it, and a lock the filesystem cannot give stops the job at once, naming the
setting to change."""

from __future__ import annotations

import errno
import fcntl
import json
import subprocess
import sys

import pytest

from rlvr_eval.sampling.claims import SupersededError, claim_output
from rlvr_eval.sampling.holds import OutputHeldError, OutputHold
from rlvr_eval.sampling.locks import (LockHeldError, LockLostError, LockUnsupportedError, Owner, exclusive_lock,
                                      lock_path)


def holder(out, scheme):
    """A separate process that takes the lock of `out` and keeps it until killed or its stdin closes."""
    code = ("import sys; from rlvr_eval.sampling.locks import exclusive_lock\n"
            f"with exclusive_lock({str(out)!r}, {scheme!r}):\n"
            "    print('locked', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.mark.parametrize("scheme", ["flock", "lockfile"])
def test_a_held_lock_names_its_holder_and_is_free_once_the_holder_ends_or_dies(tmp_path, scheme):
    out = tmp_path / "shard-0000.parquet"
    proc = holder(out, scheme)
    with pytest.raises(LockHeldError, match=rf"is held by pid {proc.pid} on "):
        with exclusive_lock(out, scheme):
            pass
    proc.communicate("")  # it ends normally: the lock is released (a lock file removed)
    with exclusive_lock(out, scheme):
        pass
    proc = holder(out, scheme)
    proc.kill()  # SIGKILL: flock is released by the kernel; a lock file stays, and is stale (its owner is gone)
    proc.wait()
    with exclusive_lock(out, scheme):
        pass
    assert not lock_path(out, "lockfile").exists()


def test_a_filesystem_without_flock_stops_the_job_at_once_naming_the_setting(tmp_path, monkeypatch):
    def no_flock(fd, op):  # as on Lustre mounted without -o flock (ENOSYS) or NFS without lockd (ENOLCK)
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    with pytest.raises(LockUnsupportedError, match=r"does not support flock \(ENOLCK: No locks available\); set "
                                                   r"`sampling.lock: lockfile` in the config"):
        with exclusive_lock(tmp_path / "out.parquet", "flock"):
            pass
    with exclusive_lock(tmp_path / "out.parquet", "lockfile"):  # the other scheme needs no flock
        pass


def test_a_lock_file_from_another_host_counts_as_held_and_says_how_to_clear_it(tmp_path):
    out = tmp_path / "shard-0000.parquet"
    path = lock_path(out, "lockfile")
    path.write_text(json.dumps({"host": "gpu-node-17", "pid": 4242, "since": "2026-01-01 00:00:00",
                                "slurm_job": "912345"}))
    with pytest.raises(LockHeldError) as e:
        with exclusive_lock(out, "lockfile"):
            pass
    assert str(e.value) == (f"{path} is held by pid 4242 on gpu-node-17, SLURM job 912345, since 2026-01-01 00:00:00. "
                            "It runs on another host, where this job cannot check it: if it is gone (`squeue -j 912345` "
                            f"or `ssh gpu-node-17 ps -p 4242`), delete {path} and rerun")
    path.unlink()  # cleared by hand
    with exclusive_lock(out, "lockfile"):
        assert Owner.parse(path.read_text()).describe().startswith(f"pid {__import__('os').getpid()} on ")


def test_a_lock_taken_over_while_its_job_ran_is_noticed_before_the_write(tmp_path):
    out = tmp_path / "out.parquet"
    for scheme in ("flock", "lockfile"):
        with exclusive_lock(out, scheme) as lock:
            lock.verify()
            path = lock_path(out, scheme)
            path.unlink()  # e.g. deleted by hand while this job still ran, and taken by another job
            path.write_text(Owner("elsewhere", 1, "now").to_text())
            with pytest.raises(LockLostError):
                lock.verify()
        path.unlink()


def test_the_newest_job_owns_the_output(tmp_path):
    out = tmp_path / "perplexity.parquet"
    orphan = claim_output(out)  # a job of a Snakemake that was then killed
    orphan.check()
    rerun = claim_output(out)  # the job of the rerun, started after it
    with pytest.raises(SupersededError, match=r"a newer job \(pid \d+ on .*\) has claimed this output"):
        orphan.check()
    rerun.check()
    assert rerun.owned() and not orphan.owned()


def test_a_job_holds_its_output_from_before_it_touches_it_until_its_record_is_written(tmp_path):
    """The workflow's sampling and perplexity jobs: `with logged(snakemake, hold=OutputHold(out, scheme))`."""
    out = tmp_path / "perplexity.parquet"
    with OutputHold(out) as job:
        with pytest.raises(OutputHeldError, match=r"another job is computing this output \(pid \d+ on .*\), e.g. an "
                                                  r"orphan of a killed Snakemake"):
            with OutputHold(out):  # a second job meanwhile: fails at once (and has superseded the first)
                pass
        with pytest.raises(SupersededError):
            job.check()  # so the first writes nothing


def test_a_job_superseded_before_it_could_lock_touches_nothing(tmp_path):
    """An orphan paused before its lock (or slow to start) while a rerun's job ran to its end: it stops at the lock."""
    out = tmp_path / "perplexity.parquet"
    orphan = OutputHold(out)  # claimed as it started
    with OutputHold(out) as rerun:
        rerun.check()
    with pytest.raises(SupersededError):
        with orphan:
            raise AssertionError("the orphan went on")
    with OutputHold(out) as later:  # the lock was released
        later.check()
