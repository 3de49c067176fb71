"""Run a function over many items in worker processes, with a hard per-item deadline in CPU time.

The parent process enforces the deadline: when an item has used more CPU time than the deadline, the
worker is killed (SIGKILL) and a fresh one replaces it. In-process timeouts (signal.alarm, threads) cannot
do this: alarms only work in the main thread and do not interrupt long C-level computations such as sympy
evaluating `5^{5^{5^{5^{5}}}}`.

The deadline is CPU time, read by the parent from outside the worker (rlvr_eval.verify.cpu_clock), so a
verdict does not depend on the machine's load: on a busy machine an item gets less of the CPU per second,
not less CPU. Wall-clock time only backs it up against items that stall without using the CPU (sleeping,
blocked, swapped out): `stall_s`, by default max(10 x the deadline, 60 s). Ten times, because even with ten
runnable processes per core a worker gets about a tenth of one, so the CPU deadline comes first; at least
60 s, so that a short deadline survives a burst of paging or a stopped VM. Where CPU time cannot be read,
the pool falls back to the wall clock (and warns).

Workers are long-lived (spawned once, fed one item at a time through a pipe) so the cost of starting
Python and importing the function is paid once per worker, not per item. Before a worker reports ready it
warms up: if the function's module defines `warmup`, the worker calls `warmup(*warmup_args)` (a grader
imports sympy and its LaTeX parser and grades a trivial answer). A fresh worker would otherwise pay those
lazy imports inside its first item, and a worker replaced after a timeout would pay them again. Startup,
warm-up included, is bounded by `startup_timeout_s` of wall-clock time, never by an item's deadline.

A timeout is retried once before it is final: after the other items, alone (no other item runs, so no
sibling competes for caches and memory bandwidth), in an idle warm worker, with `retry_factor` x the
deadline. An `Outcome` says how many attempts it took.

Generic on purpose: the function is named "module:function" (imported inside the workers), items are
argument tuples, and results come back as `Outcome`s in input order. Answer grading uses it
(rlvr_eval.verify.driver); a code-execution sandbox can reuse it.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing as mp
import signal
import sys
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable, Iterable, Sequence

from rlvr_eval.verify import cpu_clock

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 120.0  # spawning Python, importing and warming sympy/math-verify on a loaded machine
RETRY_FACTOR = 4.0  # a timed-out item's second (and last) attempt gets this many times the deadline
STALL_FACTOR, STALL_MIN_S = 10.0, 60.0  # the wall-clock backstop: max(STALL_FACTOR x deadline, STALL_MIN_S)
# How often a busy worker's CPU time is read: not before its remaining budget could be spent at one CPU
# second per second (so a quick item is never read at all), not more often than the kernel's 10 ms ticks,
# at least twice a second (a multi-threaded item can spend faster than one CPU second per second).
_POLL_MIN_S, _POLL_MAX_S = 0.02, 0.5


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok" (value holds the return value), "timeout" (killed at the deadline) or "error"
    value: Any = None
    error: str | None = None  # "ExceptionType: message" for "error"; what happened for "timeout"
    seconds: float = 0.0  # wall-clock run time of the item, all attempts (for "timeout": until the kill)
    cpu_seconds: float = 0.0  # CPU time of the item, all attempts
    attempts: int = 1  # 2 when a timeout was retried (the outcome is the retry's)


class WorkerStartupError(RuntimeError):
    """A worker could not start, import the function or warm up: no item can run."""


def load_function(func_path: str) -> Callable:
    module, sep, name = func_path.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"function path {func_path!r} is not of the form 'module:function'")
    func = getattr(importlib.import_module(module), name, None)
    if not callable(func):
        raise ValueError(f"{func_path!r}: module {module!r} has no function {name!r}")
    return func


def load_warmup(func_path: str) -> Callable | None:
    """The `warmup` function of the function's module, if it defines one."""
    warmup = getattr(importlib.import_module(func_path.partition(":")[0]), "warmup", None)
    return warmup if callable(warmup) else None


@contextmanager
def _parent_main_hidden():
    """Stop "spawn" from re-running the parent's main script in each worker.

    Spawned children normally execute the parent's `__main__` file first (as `__mp_main__`). Here
    that file is a Snakemake rule script (or anything else that calls us at top level, without an
    `if __name__ == "__main__"` guard), so every worker would re-run the whole job. Workers only
    need importable modules (the function is named "module:function"), so the parent presents a
    bare `__main__` while it starts them.
    """
    real_main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real_main


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker if the parent dies (even by SIGKILL), so a hung
    item never outlives the job that started it. (Strictly: when the parent *thread* that started
    the worker ends, so start a long-lived pool from a thread that outlives it.)"""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the parent's cleanup (and EOF on the pipe) still stops idle workers


def _worker_main(func_path: str, warmup_args: tuple | None, conn) -> None:
    _die_with_parent()
    try:
        func = load_function(func_path)
        warmup = load_warmup(func_path) if warmup_args is not None else None
        if warmup is not None:
            warmup(*warmup_args)
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(("init_error", None, f"{type(e).__name__}: {e}", 0.0, 0.0))
        return
    conn.send(("ready", None, None, 0.0, 0.0))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # parent gone
            return
        if msg is None:
            return
        index, args = msg
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            kind, payload = "ok", func(*args)
        except Exception as e:  # noqa: BLE001 - an item's failure is its outcome, not the worker's
            kind, payload = "error", f"{type(e).__name__}: {e}"
        spent = (time.perf_counter() - start, time.process_time() - cpu_start)
        try:
            conn.send((kind, index, payload, *spent))
        except Exception as e:  # noqa: BLE001 - e.g. an unpicklable return value
            conn.send(("error", index, f"result could not be sent back: {type(e).__name__}: {e}", *spent))


@dataclass
class _Job:
    """An item running in a worker: its attempt, CPU budget and clocks."""
    index: int
    attempt: int
    budget_s: float  # CPU seconds (wall-clock seconds where CPU time cannot be read)
    started: float  # time.monotonic() at the send
    cpu_start: float | None  # the worker's CPU time at the send (it is idle, waiting for the item, until then)
    next_check: float  # when to read the worker's CPU time next
    stall_at: float  # the wall-clock backstop


class _Worker:
    def __init__(self, ctx, func_path: str, warmup_args: tuple | None, startup_timeout_s: float):
        self.conn, child_conn = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(func_path, warmup_args, child_conn), daemon=True,
                                   name=f"sandbox-worker[{func_path}]")
        with _parent_main_hidden():
            self.process.start()
        child_conn.close()  # so the parent sees EOF if the worker dies
        self.ready = False
        self.startup_deadline = time.monotonic() + startup_timeout_s
        self.job: _Job | None = None

    def cpu_seconds(self) -> float | None:
        return cpu_clock.cpu_seconds(self.process.pid)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)
        self.conn.close()

    def ask_to_exit(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):  # already dead or closed
            pass


class WorkerPool:
    """Long-lived, warmed-up workers running `func_path` with a hard per-item CPU-time deadline.

    >>> with WorkerPool("math:sqrt", workers=2, timeout_s=1.0) as pool:
    ...     [o.value for o in pool.map([(4,), (9,)])]
    [2.0, 3.0]

    warmup_args: the arguments of the module's `warmup`, if it has one (None: no warm-up). retry_factor: the
    deadline of a timed-out item's retry, in deadlines (None: a timeout is final). stall_s: the wall-clock
    backstop of an attempt, in seconds (default: max(STALL_FACTOR x that attempt's deadline, STALL_MIN_S)).
    """

    def __init__(self, func_path: str, workers: int, timeout_s: float, startup_timeout_s: float = STARTUP_TIMEOUT_S,
                 context: str = "spawn", warmup_args: tuple | None = (), retry_factor: float | None = RETRY_FACTOR,
                 stall_s: float | None = None):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if retry_factor is not None and not retry_factor >= 1:
            raise ValueError(f"retry_factor must be >= 1 or None, got {retry_factor}")
        if context not in ("spawn", "forkserver"):  # fork would copy the parent's threads and locks
            raise ValueError(f"context must be 'spawn' or 'forkserver', got {context!r}")
        self.func_path, self.workers, self.timeout_s = func_path, workers, float(timeout_s)
        self.startup_timeout_s, self.warmup_args = startup_timeout_s, warmup_args
        self.retry_factor, self.stall_s = retry_factor, stall_s
        self.clock = "cpu" if cpu_clock.available() else "wall"
        if self.clock == "wall":
            log.warning("the CPU time of worker processes cannot be read here (no /proc, no psutil): deadlines "
                        "are wall-clock time, and verdicts near the deadline depend on the machine's load")
        self._ctx = mp.get_context(context)
        self._pool: list[_Worker] = []
        self.workers_lost = 0  # killed at a deadline or died; replaced while items remain
        self.retried = 0  # timeouts given a second attempt
        self.rescued = 0  # ... that finished within it

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop idle workers (asked to exit, killed if they do not) and kill busy ones."""
        for w in self._pool:
            if w.job is None:
                w.ask_to_exit()
            else:
                w.kill()
        deadline = time.monotonic() + 2.0
        for w in self._pool:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            w.kill()
        self._pool = []

    def _spawn(self) -> None:
        self._pool.append(_Worker(self._ctx, self.func_path, self.warmup_args, self.startup_timeout_s))

    def _discard(self, w: _Worker) -> None:
        w.kill()
        self._pool.remove(w)

    def _send(self, w: _Worker, index: int, args: tuple, attempt: int) -> None:
        budget = self.timeout_s * (self.retry_factor if attempt > 1 else 1.0)
        stall = self.stall_s if self.stall_s is not None else max(STALL_FACTOR * budget, STALL_MIN_S)
        now = time.monotonic()
        cpu_start = w.cpu_seconds() if self.clock == "cpu" else None
        w.job = _Job(index, attempt, budget, now, cpu_start, now + min(max(budget, _POLL_MIN_S), _POLL_MAX_S),
                     now + stall)
        w.conn.send((index, args))

    def _overrun(self, w: _Worker, now: float) -> str | None:
        """Why the worker's item must be killed now (None: not yet); schedules the next check."""
        job = w.job
        if now >= job.stall_at:
            return (f"stalled: killed after {now - job.started:.0f} s of wall-clock time "
                    f"(the backstop of the {job.budget_s:g} s deadline)")
        if now < job.next_check:
            return None
        if self.clock == "wall":
            used = now - job.started
        else:
            cpu = w.cpu_seconds()
            if cpu is None:  # the process has ended: its sentinel reports it
                return None
            if job.cpu_start is None:
                job.cpu_start = cpu
            used = cpu - job.cpu_start
        if used >= job.budget_s:
            return f"killed after the {job.budget_s:g} s deadline ({used:.2f} s of {self.clock} time)"
        job.next_check = now + min(max(job.budget_s - used, _POLL_MIN_S), _POLL_MAX_S)
        return None

    def map(self, items: Iterable[Sequence], on_result: Callable[[int, Outcome], None] | None = None) -> list[Outcome]:
        """Run the function on every item (a tuple of arguments); outcomes come back in input order.

        `on_result(index, outcome)` is called as each item's outcome is final (for progress and logging).
        Each attempt ends within its CPU deadline, or its stall backstop of wall-clock time, whatever it does.
        """
        items = [tuple(args) for args in items]
        results: list[Outcome | None] = [None] * len(items)
        pending = list(range(len(items)))[::-1]  # first attempts, a stack: pop() yields items in input order
        retries: list[int] = []  # timed-out items awaiting their retry, in the order they timed out
        earlier: dict[int, tuple[float, float]] = {}  # (wall, CPU) seconds of a retried item's first attempt
        remaining = len(items)

        def finish(w: _Worker, outcome: Outcome) -> None:
            nonlocal remaining
            job, w.job = w.job, None
            wall, cpu = earlier.pop(job.index, (0.0, 0.0))
            outcome = Outcome(outcome.status, outcome.value, outcome.error, wall + outcome.seconds,
                              cpu + outcome.cpu_seconds, job.attempt)
            if job.attempt > 1 and outcome.status != "timeout":
                self.rescued += 1
            results[job.index] = outcome
            remaining -= 1
            if on_result is not None:
                on_result(job.index, outcome)

        try:
            while remaining:
                busy = sum(w.job is not None for w in self._pool)
                while len(self._pool) < min(self.workers, len(pending) + busy + bool(retries)):
                    self._spawn()
                for w in self._pool:
                    if not w.ready or w.job is not None:
                        continue
                    if pending:
                        index = pending.pop()
                        self._send(w, index, items[index], attempt=1)
                    elif retries and not any(v.job is not None for v in self._pool):  # a retry runs alone
                        index = retries.pop(0)
                        self._send(w, index, items[index], attempt=2)

                now = time.monotonic()
                deadlines = [t for w in self._pool for t in
                             ((w.job.next_check, w.job.stall_at) if w.job is not None else
                              () if w.ready else (w.startup_deadline,))]
                wait_s = max(0.0, min(deadlines, default=now) - now)
                waitables = [w.conn for w in self._pool] + [w.process.sentinel for w in self._pool]
                ready = set(wait(waitables, timeout=wait_s))

                for w in list(self._pool):
                    if w.conn in ready:
                        try:
                            kind, index, payload, seconds, cpu_seconds = w.conn.recv()
                        except (EOFError, OSError):
                            kind = "died"
                        if kind == "ready":
                            w.ready = True
                        elif kind == "init_error":
                            raise WorkerStartupError(f"worker could not load or warm up {self.func_path!r}: {payload}")
                        elif kind == "ok":
                            finish(w, Outcome("ok", value=payload, seconds=seconds, cpu_seconds=cpu_seconds))
                        elif kind == "error":
                            finish(w, Outcome("error", error=payload, seconds=seconds, cpu_seconds=cpu_seconds))
                        if kind != "died":
                            continue
                    elif w.process.sentinel not in ready:
                        continue
                    # The worker exited without answering (crash, os._exit, out of memory…).
                    w.process.join(timeout=10)
                    if not w.ready:
                        raise WorkerStartupError(f"worker for {self.func_path!r} exited during startup "
                                                 f"(exit code {w.process.exitcode})")
                    if w.job is not None:
                        finish(w, Outcome("error", error=f"worker process died (exit code {w.process.exitcode})",
                                          seconds=time.monotonic() - w.job.started))
                    self._discard(w)
                    self.workers_lost += 1

                now = time.monotonic()
                for w in list(self._pool):
                    if not w.ready:
                        if now >= w.startup_deadline:
                            raise WorkerStartupError(f"worker for {self.func_path!r} not ready after "
                                                     f"{self.startup_timeout_s:.0f} s")
                        continue
                    why = self._overrun(w, now) if w.job is not None else None
                    if why is None:
                        continue
                    cpu = w.cpu_seconds()  # before the kill; None where unreadable
                    self._discard(w)  # SIGKILL first, so a result arriving now cannot be mistaken for the next item's
                    self.workers_lost += 1
                    job = w.job
                    cpu_used = cpu - job.cpu_start if cpu is not None and job.cpu_start is not None else 0.0
                    if job.attempt == 1 and self.retry_factor is not None:
                        earlier[job.index] = (now - job.started, cpu_used)
                        retries.append(job.index)
                        w.job = None
                        self.retried += 1
                    else:
                        finish(w, Outcome("timeout", error=why, seconds=now - job.started, cpu_seconds=cpu_used))
        except BaseException:
            self.close()  # never leave a worker running a hung item behind
            raise
        return results  # type: ignore[return-value]


def run_with_deadline(func_path: str, items: Iterable[Sequence], workers: int, timeout_s: float,
                      on_result: Callable[[int, Outcome], None] | None = None, **pool_options) -> list[Outcome]:
    """`WorkerPool(func_path, workers, timeout_s).map(items)`, with the workers stopped afterwards."""
    items = list(items)
    if not items:
        return []
    with WorkerPool(func_path, min(workers, len(items)), timeout_s, **pool_options) as pool:
        return pool.map(items, on_result)
