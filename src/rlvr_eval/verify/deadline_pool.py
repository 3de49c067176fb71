"""Run a function over many items in worker processes, with a hard per-item deadline.

The parent process enforces the deadline: when an item runs past it, the worker is killed
(SIGKILL) and a fresh one replaces it. In-process timeouts (signal.alarm, threads) cannot do this:
alarms only work in the main thread and do not interrupt long C-level computations such as sympy
evaluating `5^{5^{5^{5^{5}}}}`.

Workers are long-lived (spawned once, fed one item at a time through a pipe) so the cost of
starting Python and importing the function is paid once per worker, not per item; a worker is
respawned only after it has been killed or has died. A worker's clock starts only once it reports
that the function is imported, so a slow import never counts against an item.

Generic on purpose: the function is named "module:function" (imported inside the workers), items
are argument tuples, and results come back as `Outcome`s in input order. Answer grading uses it
(rlvr_eval.verify.driver); a code-execution sandbox can reuse it.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import signal
import sys
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable, Iterable, Sequence

STARTUP_TIMEOUT_S = 120.0  # spawning Python and importing sympy/math-verify on a loaded machine


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok" (value holds the return value), "timeout" (killed at the deadline) or "error"
    value: Any = None
    error: str | None = None  # "ExceptionType: message" for "error"; what happened for "timeout"
    seconds: float = 0.0  # run time of the item (for "timeout": until the kill)


class WorkerStartupError(RuntimeError):
    """A worker could not start or could not import the function: no item can run."""


def load_function(func_path: str) -> Callable:
    module, sep, name = func_path.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"function path {func_path!r} is not of the form 'module:function'")
    func = getattr(importlib.import_module(module), name, None)
    if not callable(func):
        raise ValueError(f"{func_path!r}: module {module!r} has no function {name!r}")
    return func


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


def _worker_main(func_path: str, conn) -> None:
    _die_with_parent()
    try:
        func = load_function(func_path)
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(("init_error", None, f"{type(e).__name__}: {e}", 0.0))
        return
    conn.send(("ready", None, None, 0.0))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # parent gone
            return
        if msg is None:
            return
        index, args = msg
        start = time.perf_counter()
        try:
            reply = ("ok", index, func(*args), time.perf_counter() - start)
        except Exception as e:  # noqa: BLE001 - an item's failure is its outcome, not the worker's
            reply = ("error", index, f"{type(e).__name__}: {e}", time.perf_counter() - start)
        try:
            conn.send(reply)
        except Exception as e:  # noqa: BLE001 - e.g. an unpicklable return value
            conn.send(("error", index, f"result could not be sent back: {type(e).__name__}: {e}", reply[3]))


class _Worker:
    def __init__(self, ctx, func_path: str, startup_timeout_s: float):
        self.conn, child_conn = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(func_path, child_conn), daemon=True,
                                   name=f"sandbox-worker[{func_path}]")
        with _parent_main_hidden():
            self.process.start()
        child_conn.close()  # so the parent sees EOF if the worker dies
        self.ready = False
        self.index: int | None = None  # item being run
        self.started = 0.0
        self.deadline = time.monotonic() + startup_timeout_s  # for startup, then for the current item

    def send(self, index: int, args: tuple, timeout_s: float) -> None:
        self.index, self.started = index, time.monotonic()
        self.deadline = self.started + timeout_s
        self.conn.send((index, args))

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
    """Long-lived workers running `func_path` with a hard per-item deadline.

    >>> with WorkerPool("math:sqrt", workers=2, timeout_s=1.0) as pool:
    ...     [o.value for o in pool.map([(4,), (9,)])]
    [2.0, 3.0]
    """

    def __init__(self, func_path: str, workers: int, timeout_s: float, startup_timeout_s: float = STARTUP_TIMEOUT_S,
                 context: str = "spawn"):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if context not in ("spawn", "forkserver"):  # fork would copy the parent's threads and locks
            raise ValueError(f"context must be 'spawn' or 'forkserver', got {context!r}")
        self.func_path, self.workers, self.timeout_s = func_path, workers, float(timeout_s)
        self.startup_timeout_s = startup_timeout_s
        self._ctx = mp.get_context(context)
        self._pool: list[_Worker] = []
        self.workers_lost = 0  # killed at a deadline or died; replaced while items remain

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop idle workers (asked to exit, killed if they do not) and kill busy ones."""
        for w in self._pool:
            if w.index is None:
                w.ask_to_exit()
            else:
                w.kill()
        deadline = time.monotonic() + 2.0
        for w in self._pool:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            w.kill()
        self._pool = []

    def _spawn(self) -> None:
        self._pool.append(_Worker(self._ctx, self.func_path, self.startup_timeout_s))

    def _discard(self, w: _Worker) -> None:
        w.kill()
        self._pool.remove(w)

    def map(self, items: Iterable[Sequence], on_result: Callable[[int, Outcome], None] | None = None) -> list[Outcome]:
        """Run the function on every item (a tuple of arguments); outcomes come back in input order.

        `on_result(index, outcome)` is called as each item finishes (for progress and logging).
        Ends within about len(items) / workers * timeout_s (plus worker startup) whatever the items do.
        """
        items = [tuple(args) for args in items]
        results: list[Outcome | None] = [None] * len(items)
        pending = list(range(len(items)))[::-1]  # a stack: pop() yields items in input order
        remaining = len(items)

        def finish(w: _Worker, outcome: Outcome) -> None:
            nonlocal remaining
            index, w.index = w.index, None
            results[index] = outcome
            remaining -= 1
            if on_result is not None:
                on_result(index, outcome)

        try:
            while remaining:
                while len(self._pool) < min(self.workers, len(pending) + sum(w.index is not None for w in self._pool)):
                    self._spawn()
                for w in self._pool:
                    if w.ready and w.index is None and pending:
                        index = pending.pop()
                        w.send(index, items[index], self.timeout_s)

                now = time.monotonic()
                next_deadline = min((w.deadline for w in self._pool if w.index is not None or not w.ready), default=now)
                wait_s = max(0.0, next_deadline - now)
                waitables = [w.conn for w in self._pool] + [w.process.sentinel for w in self._pool]
                ready = set(wait(waitables, timeout=wait_s))

                for w in list(self._pool):
                    if w.conn in ready:
                        try:
                            kind, index, payload, seconds = w.conn.recv()
                        except (EOFError, OSError):
                            kind = "died"
                        if kind == "ready":
                            w.ready = True
                        elif kind == "init_error":
                            raise WorkerStartupError(f"worker could not load {self.func_path!r}: {payload}")
                        elif kind == "ok":
                            finish(w, Outcome("ok", value=payload, seconds=seconds))
                        elif kind == "error":
                            finish(w, Outcome("error", error=payload, seconds=seconds))
                        if kind != "died":
                            continue
                    elif w.process.sentinel not in ready:
                        continue
                    # The worker exited without answering (crash, os._exit, out of memory…).
                    w.process.join(timeout=10)
                    if not w.ready:
                        raise WorkerStartupError(f"worker for {self.func_path!r} exited during startup "
                                                 f"(exit code {w.process.exitcode})")
                    if w.index is not None:
                        finish(w, Outcome("error", error=f"worker process died (exit code {w.process.exitcode})",
                                          seconds=time.monotonic() - w.started))
                    self._discard(w)
                    self.workers_lost += 1

                now = time.monotonic()
                for w in list(self._pool):
                    if now < w.deadline:
                        continue
                    if not w.ready:
                        raise WorkerStartupError(f"worker for {self.func_path!r} not ready after "
                                                 f"{self.startup_timeout_s:.0f} s")
                    if w.index is not None:
                        self._discard(w)  # SIGKILL first, so a result arriving now cannot be mistaken for the next item's
                        finish(w, Outcome("timeout", error=f"killed after the {self.timeout_s:g} s deadline",
                                          seconds=now - w.started))
                        self.workers_lost += 1
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
