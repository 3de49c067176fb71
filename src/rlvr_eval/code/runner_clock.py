"""The sandboxed runner's CPU and idle time, read from /proc by the verifying process (rlvr_eval.code.sandbox):
out of the program's reach, and not charged for the time a busy machine gives to others."""

from __future__ import annotations

import os

_POLL_S = 0.05
_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


class RunnerClock:
    """The runner's CPU time (user + system, waited-for children included), from /proc/<pid>/stat held open:
    read once per line, so a read costs a few microseconds. None until the pid is known, or once it has ended."""

    def __init__(self):
        self.pid: int | None = None  # set once, from the supervisor's "runner" line
        self._fd: int | None = None
        self._unreadable = False

    def read(self) -> float | None:
        if self._fd is None and self.pid is not None and not self._unreadable:
            try:
                self._fd = os.open(f"/proc/{self.pid}/stat", os.O_RDONLY)
            except OSError:
                self._unreadable = True  # no /proc here: no stamps
        if self._fd is None:
            return None
        try:
            fields = os.pread(self._fd, 1024, 0).rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) * _TICK_S
        except (OSError, IndexError, ValueError):
            return None

    def run_delay(self) -> float | None:
        """Seconds the runner's main thread has spent waiting for a CPU (/proc/<pid>/schedstat)."""
        try:
            with open(f"/proc/{self.pid}/schedstat", "rb") as f:
                return int(f.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Watch:
    """A line awaited under a `Within`: the runner's CPU time since the last line's stamp, and its idle time, polled."""

    def __init__(self, clock: RunnerClock, stamp: float, within, now: float):  # within: sandbox.Within
        self.clock, self.stamp, self.within = clock, stamp, within
        self.next_poll = now + within.cpu_s  # CPU time cannot outrun the clock
        self.first: tuple[float, float | None] | None = None  # (wall clock, busy time) at the first poll

    def poll(self, now: float) -> str | None:
        """"cpu" or "idle" when an allowance is spent, else None."""
        used = self.clock.read()
        if used is not None and used - self.stamp > self.within.cpu_s:
            return "cpu"
        delay = self.clock.run_delay()
        # busy: running (any thread) or waiting for a CPU (its main thread); the rest of the wall-clock time is
        # idle, which does not grow with the machine's load. Counted from the first poll as a whole: the kernel
        # adds a wait to run_delay only once it ends, so interval by interval the busy time comes in jumps.
        busy = None if used is None or delay is None else used + delay
        if self.first is None:
            self.first = (now, busy)
        start, busy0 = self.first
        idle = now - start if busy is None or busy0 is None else (now - start) - (busy - busy0)
        if idle > self.within.idle_s:
            return "idle"
        self.next_poll = now + _POLL_S
        return None
