"""CPU time of another process, read from outside it: the clock of the deadline pool (rlvr_eval.verify.deadline_pool).

A wall-clock deadline charges an item for the time other processes held the CPU, so on a loaded machine a
fast item times out; CPU time (user + system, all threads) counts only the item's own work. It is read by the
parent, never by the graded code, so a grader stuck in C code cannot hide or stop its own clock.

Linux: /proc/<pid>/stat (no dependency, ~20 µs a read). Elsewhere: psutil, if installed. Where neither works,
`cpu_seconds` answers None and the pool falls back to wall-clock time (and says so).
"""

from __future__ import annotations

import os

try:
    _TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")  # /proc counts CPU time in clock ticks (usually 10 ms)
except (AttributeError, ValueError, OSError):
    _TICK_S = None


def _from_proc(pid: int) -> float | None:
    if _TICK_S is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            # the command name (field 2) may hold spaces and ")": split after its last ")"
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * _TICK_S  # utime + stime (fields 14 and 15)
    except (OSError, IndexError, ValueError):
        return None


def _from_psutil(pid: int) -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.Error, OSError):
        return None
    return times.user + times.system


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) the process has used so far; None if it cannot be read (ended, no source)."""
    seconds = _from_proc(pid)
    return seconds if seconds is not None else _from_psutil(pid)


def available() -> bool:
    """Whether CPU time of a process can be read here (tried on this process)."""
    return cpu_seconds(os.getpid()) is not None
