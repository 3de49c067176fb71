"""Code-execution sandbox: run one untrusted program's tests in a fresh, limited, isolated process.

(Not the answer-grading deadline pool of rlvr_eval.verify.deadline_pool: that one runs *our* grader code with a
deadline; this one runs *model-written programs*, which may be hostile.)

Each run is forked from a small fork server, `python -I -S sandbox_stub.py` (rlvr_eval/code/sandbox_stub.py),
started once with vfork+exec and a scrubbed environment: a start costs about a millisecond and does not grow
with the memory of the process that holds the dataset. Each program runs in its own process group, with these
limits (`Limits`): CPU time, address space, file size,
process count, wall clock (enforced here: at the deadline the whole group is killed).

Time: each line the runner reports is stamped here with the runner's CPU time, read from /proc while the runner
waits for this process's acknowledgement (`_read`), so the CPU time between two lines is the program's own work,
exact under any load and out of the program's reach (it can patch its interpreter's clocks, not the kernel's).
While a line is awaited, `Within` bounds the CPU time spent towards it and the time the runner sits idle
(neither running nor waiting for a CPU): a stall guard that a busy machine does not trip. The wall-clock
deadline is only the last backstop.

Isolation (`detect_isolation`, recorded in every result):

- "namespaces" (Linux with user namespaces, or root): no network (a new network namespace), its own PID
  namespace (it cannot see or signal any process outside; when its first process ends, all end), its own
  root filesystem holding only the interpreter, system libraries and /etc, read-only, and a private /tmp
  of `tmp_bytes`; the user's home, the results and the expected outputs are not there. Root drops to
  nobody; others drop every capability.
- "rlimits" (fallback where namespaces are refused): the limits, a process group, a fresh temporary
  directory as working directory and a scrubbed environment only. WEAKER: the program can open network
  connections, read and write whatever the user running the workflow can, and signal the user's other
  processes; a child that leaves the process group (setsid) outlives the deadline until its CPU limit.
  Use it only for programs you would run yourself.
"""

from __future__ import annotations

import json
import marshal
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from rlvr_eval.code.runner_clock import RunnerClock, Watch

STUB = str(Path(__file__).with_name("sandbox_stub.py"))
ISOLATIONS = ("namespaces", "rlimits")
_SCRUBBED_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}


def interpreter() -> str:
    """The base interpreter (not a virtualenv's): with -I -S, programs see its standard library only."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def environment() -> dict:
    """What a verdict depends on besides the program and the tests (recorded with every result)."""
    return {"interpreter": interpreter(), "python": sys.version.split()[0], "flags": "-I -S",
            "packages": "standard library only"}


@dataclass(frozen=True)
class Limits:
    wall_s: float = 10.0
    cpu_s: int = 10
    memory_bytes: int = 4 << 30
    file_bytes: int = 16 << 20
    processes: int = 256
    tmp_bytes: int = 64 << 20
    max_line_bytes: int = 64 << 20  # one reported value; a program printing without end is cut off


@dataclass(frozen=True)
class Within:
    """What on_line may return: before the next line the runner may use at most `cpu_s` seconds of CPU time after
    the stamp (`cpu`) of the line just read, and be idle (sleeping, blocked: neither running nor waiting for a CPU)
    for at most `idle_s` seconds. Both are read from /proc, polled only once `cpu_s` of wall-clock time has passed
    (CPU time cannot outrun the clock), so fast tests cost nothing; idle time counts from then."""

    cpu_s: float
    idle_s: float


@dataclass
class RunResult:
    lines: list[dict]  # what the stub reported, in order (header first)
    isolation: str
    timed_out: bool = False  # killed at the wall-clock deadline
    stopped: bool = False  # killed early because on_line asked for it (the verdict was known)
    line_timeout: bool = False  # killed because a line on_line asked for did not come in time
    stalled: bool = False  # ... because the runner sat idle past the idle allowance (not its CPU time)
    output_overflow: bool = False
    stderr_tail: str = ""
    seconds: float = 0.0
    sandbox_error: str | None = None  # the sandbox could not be set up: the program never ran
    extra: dict = field(default_factory=dict)


def run(job: dict, limits: Limits, isolation: str,
        on_line: Callable[[dict], bool | float | Within | None] | None = None,
        keep_lines: bool = True) -> RunResult:
    """Run one job in the sandbox. `on_line(obj)` sees each reported object (its "cpu": the runner's CPU seconds
    when it wrote it, read here; None where /proc cannot be read) and returns True to stop the run (the verdict
    is known), a number of wall-clock seconds within which the next line must come or a `Within` (a per-test
    time limit; `line_timeout` says it was missed), or None. With keep_lines=False only the stub's own lines
    (header, runner, sandbox_error, runner_exit) are kept in the result.

    job: {"mode": "functional", "code", "entry_point", "groups": [{"name", "inputs"}]}
      or {"mode": "stdio", "code", "stdin": [str]} (each input's time limit is on_line's to enforce)
    """
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {ISOLATIONS}, got {isolation!r}")
    workdir = tempfile.mkdtemp(prefix="rlvr-sandbox-")
    if os.getuid() == 0:  # the program runs as nobody
        os.chown(workdir, 65534, 65534)
    payload = marshal.dumps({**job, "isolation": isolation, "workdir": workdir, "max_output_bytes": limits.max_line_bytes,
                          "limits": {k: v for k, v in asdict(limits).items() if k != "wall_s"}})
    started = time.monotonic()
    result = RunResult(lines=[], isolation=isolation)
    try:
        pid, out_fd, err_fd, ack_fd = _fork_server().start(payload)
    except (OSError, RuntimeError):  # the server died (a program in the rlimits fallback can kill it): once more
        pid, out_fd, err_fd, ack_fd = _fork_server().start(payload)
    ended = False
    try:
        ended = _read(out_fd, err_fd, ack_fd, started + limits.wall_s, limits.max_line_bytes, result, on_line,
                      keep_lines)
    finally:
        if not ended:  # once both pipes closed the group is gone, and its number may already be someone else's
            _kill_group(pid)
        result.seconds = time.monotonic() - started
        shutil.rmtree(workdir, ignore_errors=True)
    for line in result.lines:
        if line.get("kind") == "sandbox_error":
            result.sandbox_error = line.get("error")
    return result


class _ForkServer:
    """The stub's fork server (sandbox_stub.serve) and the socket that asks it for supervisors."""

    def __init__(self):
        ours, theirs = socket.socketpair()
        self.proc = subprocess.Popen([interpreter(), "-I", "-S", STUB, str(theirs.fileno())], pass_fds=(theirs.fileno(),),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=_SCRUBBED_ENV, cwd="/",
                                     process_group=0)
        theirs.close()
        self.sock = ours
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def start(self, payload: bytes) -> tuple[int, int, int, int]:
        """Fork a supervisor for `payload`: (its pid = its process group, result pipe, stderr pipe, the pipe that
        acknowledges the runner's lines)."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ack_r, ack_w = os.pipe()
        try:
            with self.lock:
                socket.send_fds(self.sock, [len(payload).to_bytes(8, "little")], [out_w, err_w, ack_r])
                self.sock.sendall(payload)
                answer = b""
                while len(answer) < 8:
                    chunk = self.sock.recv(8 - len(answer))
                    if not chunk:
                        raise RuntimeError("code sandbox: the fork server ended")
                    answer += chunk
        except BaseException:
            for fd in (out_r, err_r, ack_w):
                os.close(fd)
            raise
        finally:
            for fd in (out_w, err_w, ack_r):
                os.close(fd)
        return int.from_bytes(answer, "little"), out_r, err_r, ack_w


_SERVER: _ForkServer | None = None
_SERVER_LOCK = threading.Lock()


def _fork_server() -> _ForkServer:
    global _SERVER
    with _SERVER_LOCK:
        if _SERVER is None or not _SERVER.alive():
            _SERVER = _ForkServer()
        return _SERVER


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read(out_fd: int, err_fd: int, ack_fd: int, deadline: float, max_line: int, result: RunResult, on_line,
          keep_lines: bool) -> bool:
    """Read the run's reports until both pipes close (True) or the run must be stopped (False)."""
    sel = selectors.DefaultSelector()
    for fd in (out_fd, err_fd, ack_fd):
        os.set_blocking(fd, False)  # (ack_fd: a runner that stops reading its acknowledgements must not block us)
    for fd in (out_fd, err_fd):
        sel.register(fd, selectors.EVENT_READ)
    pending, err = bytearray(), b""  # pending: a line not yet complete
    clock = RunnerClock()
    line_deadline = float("inf")  # a plain number from on_line: the next line by then, wall-clock
    watch: Watch | None = None  # a Within from on_line
    try:
        while sel.get_map():
            now = time.monotonic()
            if now >= deadline:
                result.timed_out = True
                return False
            if now >= line_deadline:
                result.line_timeout = True
                return False
            if watch is not None and now >= watch.next_poll:
                over = watch.poll(now)
                if over:
                    result.line_timeout, result.stalled = True, over == "idle"
                    return False
            left = min(deadline, line_deadline, watch.next_poll if watch else float("inf")) - now
            for key, _ in sel.select(timeout=left):
                chunk = os.read(key.fd, 1 << 20)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                if key.fd == err_fd:
                    err = (err + chunk)[-2000:]
                    continue
                if b"\n" not in chunk:  # (splitting only here keeps a long line linear to read)
                    pending += chunk
                    if len(pending) > max_line:
                        result.output_overflow = True
                        return False
                    continue
                *complete, rest = chunk.split(b"\n")
                complete[0] = bytes(pending) + complete[0]
                pending = bytearray(rest)
                # The runner waits after each line: read its CPU time now, and let it go on before any parsing.
                # (Lines written by the supervisor, which waits for nothing, start as below; a program that forges
                # that start only withholds its own acknowledgements.)
                runner_lines = sum(not raw.startswith(_SUPERVISOR_PREFIX) for raw in complete)
                if runner_lines and clock.pid is None:  # its pid may come in this very chunk, just before
                    clock.pid = _runner_pid(complete)
                stamp = clock.read() if runner_lines else None
                if runner_lines:
                    try:
                        os.write(ack_fd, b"." * runner_lines)
                    except (BlockingIOError, BrokenPipeError):
                        pass
                for raw in complete:
                    try:  # the program can write here too: only ever parsed as JSON
                        obj = json.loads(raw)
                    except (ValueError, RecursionError):
                        obj = {"kind": "garbage", "text": raw[:200].decode("utf-8", "replace")}
                    if not isinstance(obj, dict):
                        obj = {"kind": "garbage", "text": raw[:200].decode("utf-8", "replace")}
                    obj["cpu"] = None if raw.startswith(_SUPERVISOR_PREFIX) else stamp
                    if keep_lines or obj.get("kind") in _STUB_KINDS:
                        result.lines.append(obj)
                    if obj.get("kind") == "runner" and raw.startswith(_SUPERVISOR_PREFIX) and clock.pid is None:
                        clock.pid = _runner_pid([raw])
                    if clock.pid is not None:
                        result.extra["runner_pid"] = clock.pid
                    answer = on_line(obj) if on_line is not None else None
                    if answer is True:
                        result.stopped = True
                        return False
                    if answer is not None:
                        line_deadline, watch = float("inf"), None
                        if not isinstance(answer, Within):
                            line_deadline = time.monotonic() + float(answer)
                        elif obj["cpu"] is not None:
                            watch = Watch(clock, obj["cpu"], answer, time.monotonic())
                        else:  # no /proc: the allowances become wall-clock time, as close as it gets
                            line_deadline = time.monotonic() + answer.cpu_s + answer.idle_s
        return True
    finally:
        sel.close()
        clock.close()
        result.stderr_tail = err.decode("utf-8", "replace")
        for fd in (out_fd, err_fd, ack_fd):
            os.close(fd)


_STUB_KINDS = ("header", "runner", "sandbox_error", "runner_exit")
_SUPERVISOR_PREFIX = tuple(b'{"kind":"%s"' % k for k in (b"header", b"runner", b"runner_exit"))


def _runner_pid(lines: list[bytes]) -> int | None:
    """The runner's pid from the supervisor's "runner" line among `lines` (the first such line: the supervisor
    writes it before the runner may write anything)."""
    for raw in lines:
        if raw.startswith(b'{"kind":"runner"'):
            try:
                pid = json.loads(raw).get("pid")
            except (ValueError, AttributeError):
                return None
            return pid if isinstance(pid, int) and not isinstance(pid, bool) else None
    return None


_DETECTED: str | None = None


def detect_isolation(requested: str = "auto") -> str:
    """'namespaces' if a probe program runs isolated here, else 'rlimits' (with a warning); cached.

    requested="namespaces" raises instead of falling back; "rlimits" skips the probe.
    """
    global _DETECTED
    if requested == "rlimits":
        return "rlimits"
    if _DETECTED is None:
        probe = run({"mode": "functional", "code": "def f():\n    return 1\n", "entry_point": "f",
                     "groups": [{"name": "probe", "inputs": [[]]}]}, Limits(wall_s=30), "namespaces")
        ok = any(line.get("kind") == "value" and line.get("value") == 1 for line in probe.lines)
        _DETECTED = "namespaces" if ok else "rlimits"
        if not ok:
            _DETECTED_REASON["namespaces"] = probe.sandbox_error or probe.stderr_tail[-300:]
            if requested == "auto":
                import logging

                logging.getLogger(__name__).warning(
                    "code sandbox: namespaces unavailable (%s); falling back to 'rlimits', which does NOT "
                    "isolate network, files or other processes", _DETECTED_REASON["namespaces"])
    if requested == "namespaces" and _DETECTED != "namespaces":
        raise RuntimeError(f"code sandbox: namespace isolation unavailable: {_DETECTED_REASON.get('namespaces')}")
    return _DETECTED


_DETECTED_REASON: dict[str, str | None] = {}
