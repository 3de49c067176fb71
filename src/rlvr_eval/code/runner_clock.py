"""The sandboxed runner's CPU and idle time, read from /proc by the verifying process (rlvr_eval.code.sandbox):
out of the program's reach, and not charged for the time a busy machine gives to others."""

from __future__ import annotations

import os

_POLL_S = 0.05
_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _stat_cpu(raw: bytes) -> float:
    """User + system time of a process and of its waited-for children, from the text of /proc/<pid>/stat."""
    fields = raw.rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) * _TICK_S


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", "rb") as f:
            return [int(c) for c in f.read().split()]
    except (OSError, ValueError):
        return []


class RunnerClock:
    """The runner's CPU time (its own and its waited-for children's, from /proc/<pid>/stat held open: a read costs
    microseconds), and, in a poll, its live descendants' too (a standard-input program runs in a child of the
    runner: its CPU time counts while it runs, not only once it is waited for). None until the pid is known, or
    once it has ended.

    A line's stamp needs no descendants: the runner reports after waiting for its child, whose time is then its
    own. A poll reads the runner before its descendants, so a child reaped in between can only be missed, never
    counted twice; the total is kept monotone (CPU time never goes back), so such a miss only delays it a poll."""

    def __init__(self):
        self.pid: int | None = None  # set once, from the supervisor's "runner" line
        self._fd: int | None = None
        self._unreadable = False
        self._cpu = 0.0
        self._seen: list[int] = []  # the descendants found by the last read with descendants
        self._delays: dict[int, float] = {}  # pid -> its main thread's last-read wait for a CPU (kept once it ends)

    def read(self, descendants: bool = False) -> float | None:
        if self._fd is None and self.pid is not None and not self._unreadable:
            try:
                self._fd = os.open(f"/proc/{self.pid}/stat", os.O_RDONLY)
            except OSError:
                self._unreadable = True  # no /proc here: no stamps
        if self._fd is None:
            return None
        try:
            cpu = _stat_cpu(os.pread(self._fd, 1024, 0))
        except (OSError, IndexError, ValueError):
            return None
        if descendants:
            self._seen = self._descendants()
            for child in self._seen:
                try:
                    with open(f"/proc/{child}/stat", "rb") as f:
                        cpu += _stat_cpu(f.read())
                except (OSError, IndexError, ValueError):
                    pass  # ended since it was listed
        self._cpu = max(self._cpu, cpu)
        return self._cpu

    def _descendants(self) -> list[int]:
        found, todo = [], _children(self.pid)
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(_children(pid))
        return found

    def run_delay(self) -> float | None:
        """Seconds the main threads of the runner and of every descendant seen have spent waiting for a CPU
        (/proc/<pid>/schedstat)."""
        for pid in [self.pid, *self._seen]:
            try:
                with open(f"/proc/{pid}/schedstat", "rb") as f:
                    self._delays[pid] = max(self._delays.get(pid, 0.0), int(f.read().split()[1]) / 1e9)
            except (OSError, IndexError, ValueError):
                if pid == self.pid:
                    return None
        return sum(self._delays.values())

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
        used = self.clock.read(descendants=True)
        if used is not None and used - self.stamp > self.within.cpu_s:
            return "cpu"
        delay = self.clock.run_delay()
        # busy: running (any thread) or waiting for a CPU (main threads); the rest of the wall-clock time is
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
