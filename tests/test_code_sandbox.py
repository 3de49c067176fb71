"""The code-execution sandbox against hostile programs: no false passes, no escapes, the run goes on.

Each hostile program is written so that it would *pass* if its trick worked (it returns what it read,
or claims success); the tests check that it does not, that nothing outside the sandbox changed, and that
a correct program run in the same batch still passes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from rlvr_eval.code import sandbox
from rlvr_eval.code.verifier import FunctionalTests, StdioTests, check_functional, check_stdio, run_many


class Equality:
    def passes(self, inp, out, exp):
        return out == exp


def one_test(expected, limit_s: float = 2.0) -> FunctionalTests:
    """One call `f()` that must return `expected`."""
    return FunctionalTests(entry_point="f", groups={"t": [[]]}, expected={"t": [expected]},
                           limits_s={"t": [limit_s]}, oracle=lambda g: Equality())


def program(body: str) -> str:
    return textwrap.dedent(body).strip() + "\n"


LIMITS = sandbox.Limits(wall_s=5.0, cpu_s=5, memory_bytes=1 << 30, processes=64)
ISOLATION = sandbox.detect_isolation()
needs_namespaces = pytest.mark.skipif(ISOLATION != "namespaces",
                                      reason="namespaces unavailable here: the 'rlimits' fallback does not contain these")

CORRECT = program("""
    def f():
        return 42
""")

# Programs that must not pass a test expecting 42 (they never compute it honestly, or lie about it).
FALSE_PASSES = {
    "sys.exit(0) before the tests": "import sys\nsys.exit(0)\ndef f():\n    return 0\n",
    "os._exit(0) before the tests": "import os\nos._exit(0)\ndef f():\n    return 0\n",
    "os._exit(0) inside the test": "import os\ndef f():\n    os._exit(0)\n",
    "an object equal to everything": program("""
        class Anything:
            def __eq__(self, other):
                return True
            __hash__ = object.__hash__
        def f():
            return Anything()
    """),
    "an int subclass equal to everything": program("""
        class Sly(int):
            def __eq__(self, other):
                return True
            __hash__ = int.__hash__
        def f():
            return Sly(0)
    """),
    "rebound builtins and assert machinery": program("""
        import builtins
        builtins.isinstance = lambda *a: True
        builtins.type = lambda *a: int
        builtins.AssertionError = type("Never", (Exception,), {})
        builtins.print = lambda *a, **k: None
        def f():
            return 0
    """),
    "patched harness: every report says finished": program("""
        import sys
        main = sys.modules["__main__"]
        main.run_functional = lambda job, report: report({"kind": "finished"})
        main.dump_value = lambda x, depth=0: '"finished"'
        main.to_json = lambda obj: '{"kind": "finished"}'
        def f():
            return 0
    """),
    "fake success markers on every descriptor": program("""
        import os
        def f():
            for fd in range(3, 20):
                for line in (b"{'kind': 'finished'}\\n", b"ALL TESTS PASSED\\n",
                             b"{'kind': 'value', 'group': 't', 'i': 0, 'value': 42}\\n"):
                    try:
                        os.write(fd, line)
                    except OSError:
                        pass
            print("PASSED")
            return 0
    """),
    "kills its parent": "import os, signal\ndef f():\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 0\n",
    "kills the fork server (its grandparent)": program("""
        import os, signal
        def f():
            grandparent = int(open(f"/proc/{os.getppid()}/stat").read().rsplit(")", 1)[1].split()[1])
            os.kill(grandparent, signal.SIGKILL)
            return 0
    """),
    "kills its process group": "import os, signal\ndef f():\n    os.killpg(0, signal.SIGKILL)\n    return 0\n",
    "raises SystemExit in the test": "def f():\n    raise SystemExit(0)\n",
}


@pytest.mark.parametrize("isolation", sorted({ISOLATION, "rlimits"}))
def test_tricks_never_pass_and_the_run_goes_on(isolation):
    tests = one_test(42)
    names = list(FALSE_PASSES)
    tasks = [(FALSE_PASSES[n], tests) for n in names] + [(CORRECT, tests)]
    verdicts = run_many(tasks, lambda code, t: check_functional(code, t, LIMITS, isolation), workers=2)
    for name, verdict in zip(names, verdicts):
        assert verdict.status != "passed", f"{name}: {verdict}"
    assert verdicts[-1].status == "passed", verdicts[-1]


def test_verdicts_say_what_failed():
    tests = one_test(42)
    check = lambda code: check_functional(code, tests, LIMITS, ISOLATION)  # noqa: E731
    wrong = check("def f():\n    return 41\n")
    assert (wrong.status, wrong.failure, wrong.isolation) == ("failed", "t[0]: expected 42, got 41", ISOLATION)
    syntax = check("def f(:\n")
    assert syntax.status == "error" and "SyntaxError" in syntax.failure
    missing = check("def g():\n    return 42\n")
    assert missing.status == "error" and "KeyError" in missing.failure
    raised = check("def f():\n    return 1 / 0\n")
    assert raised.status == "failed" and "ZeroDivisionError" in raised.failure
    assert check("def f():\n    return (42,)\n").status == "failed"  # exact types: a tuple is not 42
    assert check("def f():\n    return 42.0\n").status == "passed"  # as evalplus: 42.0 == 42


@needs_namespaces
def test_hostile_programs_are_contained(tmp_path):
    """Fork bomb, endless loop, 10 GB, writes and deletions outside, a shell, a socket, the home directory."""
    canary = tmp_path / "canary.txt"
    canary.write_text("keep me")
    secret = Path.home() / f".rlvr-sandbox-secret-{os.getpid()}"
    secret.write_text("s3cret")
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.settimeout(0.2)
    connections: list = []

    def accept():
        end = time.monotonic() + 30
        while time.monotonic() < end and not stop.is_set():
            try:
                connections.append(server.accept())
            except OSError:
                pass

    stop = threading.Event()
    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    before = _snapshot(tmp_path), _snapshot(Path.home(), depth=1)
    hostile = {
        "fork bomb": "import os\ndef f():\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n",
        "endless loop": "def f():\n    while True:\n        pass\n",
        "10 GB allocation": "def f():\n    x = bytearray(10 * 1024 ** 3)\n    return 42\n",
        "write outside": f"def f():\n    open({str(tmp_path / 'written.txt')!r}, 'w').write('x')\n    return 42\n",
        "write into the repository": "def f():\n    open('/work/wt-code-escaped.txt', 'w').write('x')\n    return 42\n",
        "delete a file": f"import os\ndef f():\n    os.remove({str(canary)!r})\n    return 42\n",
        "delete a tree": f"import shutil\ndef f():\n    shutil.rmtree({str(tmp_path)!r})\n    return 42\n",
        "spawn a shell": program(f"""
            import subprocess
            def f():
                out = subprocess.run(['/bin/sh', '-c', 'echo x > {tmp_path}/shell.txt; rm -f {canary}; cat {secret}'],
                                     capture_output=True, text=True).stdout
                return 42 if 's3cret' in out else 0
        """),
        "open a socket": f"import socket\ndef f():\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    return 42\n",
        "resolve a host": "import socket\ndef f():\n    socket.getaddrinfo('pypi.org', 443)\n    return 42\n",
        "read the home directory": f"def f():\n    return 42 if open({str(secret)!r}).read() == 's3cret' else 0\n",
        "list the home directory": f"import os\ndef f():\n    return 42 if {secret.name!r} in os.listdir({str(Path.home())!r}) else 0\n",
        "signal the test runner": f"import os\ndef f():\n    os.kill({os.getpid()}, 9)\n    return 42\n",
        "kill every process it can": "import os\ndef f():\n    os.kill(-1, 9)\n    return 42\n",
    }
    try:
        tests = one_test(42, limit_s=1.0)
        started = time.monotonic()
        verdicts = run_many([(code, tests) for code in hostile.values()] + [(CORRECT, tests)],
                            lambda code, t: check_functional(code, t, LIMITS, ISOLATION), workers=2)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        acceptor.join()
        server.close()
        secret_text = secret.read_text()
        secret.unlink()
    for name, verdict in zip(hostile, verdicts):
        assert verdict.status != "passed", f"{name}: {verdict}"
        print(f"{name:28s} {verdict.status:8s} {verdict.failure}")
    assert verdicts[-1].status == "passed"
    assert elapsed < 60, f"the batch took {elapsed:.0f} s"
    assert canary.read_text() == "keep me" and secret_text == "s3cret"
    assert not Path("/work/wt-code-escaped.txt").exists()
    assert connections == []
    assert before == (_snapshot(tmp_path), _snapshot(Path.home(), depth=1) | {secret.name})
    end = time.monotonic() + 10  # the kernel reaps a killed PID namespace asynchronously
    while _processes_of(65534 if os.getuid() == 0 else None) and time.monotonic() < end:
        time.sleep(0.2)
    assert _processes_of(65534 if os.getuid() == 0 else None) == []


def _snapshot(root: Path, depth: int = 10) -> set:
    out = set()
    for p in root.rglob("*") if depth > 1 else root.iterdir():
        out.add(str(p.relative_to(root)))
    return out


def _processes_of(uid):
    """Processes of `uid` still alive (root runs programs as nobody; others: none to check)."""
    if uid is None:
        return []
    ps = subprocess.run(["ps", "-o", "pid=,comm=", "-u", str(uid)], capture_output=True, text=True)
    return ps.stdout.split()


@needs_namespaces
def test_the_program_sees_a_fresh_private_root():
    code = program("""
        import os
        def f():
            return (os.getcwd(), sorted(os.listdir('/')), os.listdir('.'), os.getuid() != 0,
                    sorted(k for k in os.environ))
    """)
    r = sandbox.run({"mode": "functional", "code": code, "entry_point": "f", "groups": [{"name": "t", "inputs": [[]]}]},
                    LIMITS, ISOLATION)
    value = next(line["value"]["tuple"] for line in r.lines if line.get("kind") == "value")
    cwd, root, here, not_root, env = value
    assert cwd == "/tmp" and here == [] and not_root
    assert "work" not in root and "home" not in root
    assert env == ["HOME", "LANG", "PATH"]


def test_stdio_programs_run_once_per_input_in_a_fresh_interpreter():
    """Standard-input programs (the LiveCodeBench kind): stdout and exit code per input."""
    code = "import sys\nn = int(sys.stdin.readline())\nprint(n * 2)\n"
    r = sandbox.run({"mode": "stdio", "code": code, "stdin": ["21\n", "x\n"]}, LIMITS, ISOLATION)
    out = {line["i"]: line for line in r.lines if line.get("kind") == "stdout"}
    assert out[0]["stdout"] == "42\n" and out[0]["returncode"] == 0
    assert out[1]["returncode"] != 0 and "ValueError" in out[1]["stderr"]


def test_returned_values_come_back_with_their_exact_types():
    from rlvr_eval.code.values import Unsupported, decode

    code = program("""
        import re
        def f():
            return [1, True, None, 2.5, float('inf'), 'é"\\n', (1, [2]), {3}, frozenset({4}), {(5, 6): [7]},
                    b'\\x00', 1 + 2j, 2 ** 70, -0.0, list(range(5)), re.match('a', 'a')]
    """)
    r = sandbox.run({"mode": "functional", "code": code, "entry_point": "f", "groups": [{"name": "t", "inputs": [[]]}]},
                    LIMITS, ISOLATION)
    value = decode(next(line["value"] for line in r.lines if line.get("kind") == "value"))
    *plain, match = value
    assert plain == [1, True, None, 2.5, float("inf"), 'é"\n', (1, [2]), {3}, frozenset({4}), {(5, 6): [7]},
                     b"\x00", 1 + 2j, 2 ** 70, -0.0, [0, 1, 2, 3, 4]]
    assert [type(v) for v in plain[:3]] == [int, bool, type(None)] and type(plain[6]) is tuple
    assert isinstance(match, Unsupported) and match != match


def test_a_dead_fork_server_is_replaced():
    """Programs are forked from one small server process; if it dies, the next run starts another."""
    tests = one_test(42)
    assert check_functional(CORRECT, tests, LIMITS, ISOLATION).status == "passed"
    server = sandbox._fork_server()
    assert server.proc.pid != os.getpid()
    server.proc.kill()
    server.proc.wait()
    assert check_functional(CORRECT, tests, LIMITS, ISOLATION).status == "passed"
    assert sandbox._fork_server() is not server


def test_a_test_over_its_cpu_time_is_stopped_before_its_wall_clock_limit():
    """An endless loop is stopped once it has used its CPU allowance after the last line's stamp (read from
    /proc), long before its idle allowance, which only catches tests that sleep or block."""
    job = {"mode": "functional", "code": "def f(n):\n    while n:\n        pass\n    return n\n", "entry_point": "f",
           "groups": [{"name": "base", "inputs": [[0], [1]]}]}
    seen = []

    def on_line(obj):
        seen.append(obj.get("kind"))
        return sandbox.Within(cpu_s=0.3, idle_s=60) if obj.get("kind") in ("loaded", "value") else None

    r = sandbox.run(job, LIMITS, ISOLATION, on_line)
    assert r.line_timeout and not r.timed_out
    assert seen.count("value") == 1 and "runner" in seen
    assert r.seconds < 30  # about 0.3 s of CPU time: the 60 s wall-clock limit was not needed
    sleeper = {**job, "code": "import time\ndef f(n):\n    time.sleep(60 * n)\n    return n\n"}
    r = sandbox.run(sleeper, LIMITS, ISOLATION, lambda obj: sandbox.Within(cpu_s=0.3, idle_s=1.5)
                    if obj.get("kind") in ("loaded", "value") else None)
    assert r.line_timeout and r.stalled and r.seconds < 30  # no CPU used: the idle allowance stops it


# --- time limits: CPU time read from outside the program, the same under any load ---------------------------------

# The wall-clock deadline is only a backstop; these tests must not depend on how busy the machine is either.
BACKSTOP = sandbox.Limits(wall_s=120.0, cpu_s=30, memory_bytes=1 << 30, processes=64)


def burning(body: str) -> str:
    """A program with `burn(s)`: spend s seconds of CPU time, as a slow solution would."""
    return program("""
        import time
        def burn(seconds):
            end = time.thread_time() + seconds
            while time.thread_time() < end:
                pass
    """) + program(body)


def test_a_program_that_patches_its_clocks_still_gets_its_real_cpu_time():
    """The verifying process stamps every line with the runner's CPU time from /proc; what the program's own
    clocks say does not count."""
    code = burning("""
        import resource
        time.process_time = lambda: 0.0
        resource.getrusage = lambda who: None
        def f():
            burn(1.3)
            return 42
    """)
    r = sandbox.run({"mode": "functional", "code": code, "entry_point": "f", "groups": [{"name": "t", "inputs": [[]]}]},
                    BACKSTOP, ISOLATION)
    loaded, value = (next(line for line in r.lines if line.get("kind") == kind) for kind in ("loaded", "value"))
    assert value["seconds"] == 0.0  # the program's clock
    assert value["cpu"] - loaded["cpu"] >= 1.25  # the kernel's
    verdict = check_functional(code, one_test(42, limit_s=1.0), BACKSTOP, ISOLATION)
    assert verdict.status == "failed" and verdict.failure.endswith("over its 1 s time limit")  # stopped, or reported


def test_loading_the_program_counts_against_its_groups_cpu_budget():
    """Module-level code runs before any test: it spends the group's budget (evalplus's per-task timeout,
    min(60 s, sum of the limits) + 1 s: 2 s here), and is stopped there, whatever the wall-clock time."""
    tests = one_test(42, limit_s=1.0)
    precomputing = burning("burn(1.2)\ntable = {0: 42}\ndef f():\n    return table[0]\n")
    assert check_functional(precomputing, tests, BACKSTOP, ISOLATION).status == "passed"
    endless = burning("burn(60)\ndef f():\n    return 42\n")
    verdict = check_functional(endless, tests, BACKSTOP, ISOLATION)
    assert (verdict.status, verdict.failure) == ("failed", "loading the program: over the 2 s CPU budget of group t")
    assert verdict.seconds < 60  # stopped at about 2 s of CPU time


def doubling(limit_s: float = 1.0) -> StdioTests:
    """A standard-input problem: print twice the number read, within `limit_s` CPU seconds per input."""
    return StdioTests(["21\n", "5\n"], ["42", "10"], limit_s, lambda out, exp: out.strip() == exp)


def test_a_stdio_programs_time_limit_is_on_the_cpu_time_of_its_process():
    """The program runs in a child of the runner; its CPU time is read from /proc while it runs (LiveCodeBench's
    6 s limit is wall-clock time there)."""
    def doubling_program(body: str) -> str:
        return burning(body) + "print(2 * int(input()))\n"

    verdicts = {name: check_stdio(doubling_program(body), doubling(), BACKSTOP, ISOLATION) for name, body in {
        "within": "burn(0.6)", "over": "burn(1.5)", "endless": "burn(600)", "sleeps a little": "time.sleep(0.5)",
        "sleeps on": "time.sleep(600)"}.items()}
    assert verdicts["within"].status == "passed" and verdicts["sleeps a little"].status == "passed"
    assert verdicts["over"].status == "failed" and "over its 1 s time limit" in verdicts["over"].failure
    assert verdicts["endless"].failure == "test[0]: over its 1 s time limit"
    assert verdicts["sleeps on"].failure == "test[0]: idle (sleeping or blocked) too long"
    assert verdicts["endless"].seconds < 60 and verdicts["sleeps on"].seconds < 60


# HumanEval/15 (string_sequence), with samples that take their time: CPU time, as verdicts see it, does not change
# with the load, while the wall-clock time of the slow ones grows several-fold.
STRING_SEQUENCE = FunctionalTests(
    entry_point="string_sequence", groups={"base": [[0], [5]], "plus": [[20000]]},
    expected={"base": ["0", "0 1 2 3 4 5"], "plus": [" ".join(map(str, range(20001)))]},
    limits_s={"base": [1.0, 1.0], "plus": [1.0]}, oracle=lambda g: Equality())
STRING_SEQUENCE_SAMPLES = {
    "fast": ("def string_sequence(n):\n    return ' '.join(map(str, range(n + 1)))\n", "passed"),
    "slow, within its limit": (burning("""
        def string_sequence(n):
            if n > 1000:
                burn(0.85)
            return ' '.join(str(i) for i in range(n + 1))
    """), "passed"),
    "sleeps a little": (program("""
        import time
        def string_sequence(n):
            time.sleep(0.5)
            return ' '.join(map(str, range(n + 1)))
    """), "passed"),
    "over its limit": (burning("""
        def string_sequence(n):
            if n > 1000:
                burn(3)
            return ' '.join(map(str, range(n + 1)))
    """), "failed"),
    "wrong": ("def string_sequence(n):\n    return ' '.join(map(str, range(n)))\n", "failed"),
}


# The same for a standard-input problem (LiveCodeBench's kind), whose programs each run in a process of their own.
DOUBLING_SAMPLES = {
    "slow, within its limit": (burning("burn(0.85)") + "print(2 * int(input()))\n", "passed"),
    "over its limit": (burning("burn(3)") + "print(2 * int(input()))\n", "failed"),
    "wrong": ("print(int(input()))\n", "failed"),
}


def test_verdicts_do_not_depend_on_the_machines_load():
    tasks = [(code, STRING_SEQUENCE) for code, _ in STRING_SEQUENCE_SAMPLES.values()]
    tasks += [(code, doubling()) for code, _ in DOUBLING_SAMPLES.values()]

    def check(code, tests):
        return (check_functional if isinstance(tests, FunctionalTests) else check_stdio)(code, tests, BACKSTOP,
                                                                                          ISOLATION)

    def grade():
        started = time.monotonic()
        verdicts = run_many(tasks, check, workers=2)
        return [(v.status, v.failure) for v in verdicts], time.monotonic() - started

    idle, idle_s = grade()
    expected = [status for _, status in (*STRING_SEQUENCE_SAMPLES.values(), *DOUBLING_SAMPLES.values())]
    assert [status for status, _ in idle] == expected, idle
    # busy loops on every core, four times over; each ends by itself after 2 minutes should this test die
    hog = "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end:\n    pass\n"
    hogs = [subprocess.Popen([sys.executable, "-c", hog]) for _ in range(4 * (os.cpu_count() or 1))]
    try:
        loaded, loaded_s = grade()
    finally:
        for h in hogs:
            h.kill()
        for h in hogs:
            h.wait()
    assert loaded == idle
    assert loaded_s > 1.5 * idle_s  # the load was real
