"""The first code that runs in a code-execution sandbox process (standard library only).

Started by rlvr_eval.code.sandbox as `python -I -S sandbox_stub.py` (isolated, no site-packages: the program sees
the standard library only) in its own process group with a scrubbed environment, as a fork server (`serve`) that
forks one supervisor per program, which reads its job (marshal: no json/re import) and then:

1. isolates itself ("namespaces": new user (unless root), mount, network, PID and IPC namespaces; a fresh root
   holding only the interpreter, system libraries, /etc and a private /tmp, all read-only but /tmp; no network but
   a downed loopback) or, in the "rlimits" fallback, only a fresh temporary directory under the host's temp dir;
2. forks the runner (PID 1 of the new PID namespace: when it ends, every process it left behind dies), which
   sets resource limits, drops privileges (root: to nobody; otherwise all capabilities) and runs the program;
3. reports on its stdout (the result channel) one JSON object per line: a header with the isolation used, then
   what the program returned for each test input. After each line the runner waits until the verifying process
   has read its CPU time from /proc: the CPU time between two lines is exactly the work between them, under any
   load, and out of reach of the program (which can patch its interpreter's clocks).

Nothing the program does here can make a test pass: the parent compares the reported values with expected outputs
the sandbox never sees. Values keep exact types (`dump_value`); anything else is reported as unsupported.
"""

import _json
import marshal
import os
import resource
import signal
import sys
import time

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC = 0x20000, 0x10000000, 0x20000000, 0x40000000, 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
MNT_DETACH, PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG = 2, 38, 1
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine)
NOBODY = 65534

_libc = None  # ctypes, imported once by the fork server (preload)


def libc():
    global _libc, ctypes
    if _libc is None:
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {source} on {target}")


def _locked_flags(path):
    """Per-mount flags a user namespace may not clear: a read-only remount must keep them."""
    f = os.statvfs(path).f_flag
    flags = 0
    for st, ms in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
                   (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME)):
        if f & st:
            flags |= ms
    return flags


def _bind_readonly(src, dst):
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    _mount(src, dst, None, MS_BIND | MS_REC)
    _mount(None, dst, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(src))


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def enter_namespaces(root_user):
    """Unshare namespaces (before the fork: the PID namespace applies to children)."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC
    uid, gid = os.getuid(), os.getgid()
    if not root_user:
        flags |= CLONE_NEWUSER
    _check(libc().unshare(flags), "unshare")
    if not root_user:  # keep our own ids inside: no uid 0 that could regain capabilities on exec
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")


def build_root(newroot, tmp_bytes, sandbox_uid, sandbox_gid):
    """In the runner (PID 1 of the new namespace): a fresh read-only root, pivoted into."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", newroot, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    prefixes = {os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix)}
    for d in ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc", *sorted(prefixes)]:
        if os.path.exists(d) and not os.path.islink(d):
            _bind_readonly(d, newroot + d)
        elif os.path.islink(d):  # merged /usr: /lib -> usr/lib
            os.symlink(os.readlink(d), newroot + d)
    for dev in ("null", "zero", "random", "urandom"):
        _bind_readonly_dev(f"/dev/{dev}", f"{newroot}/dev/{dev}")
    os.makedirs(newroot + "/tmp")
    _mount("tmpfs", newroot + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={tmp_bytes},mode=0700,uid={sandbox_uid},gid={sandbox_gid}")
    os.makedirs(newroot + "/proc")
    try:  # our own /proc (this PID namespace only); containers that mask /proc refuse it: then none at all
        _mount("proc", newroot + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass
    os.makedirs(newroot + "/.old_root")
    os.chdir(newroot)
    if SYS_PIVOT_ROOT is not None:
        _check(libc().syscall(SYS_PIVOT_ROOT, b".", b".old_root"), "pivot_root")
        os.chdir("/")
        _check(libc().umount2(b"/.old_root", MNT_DETACH), "umount old root")
        os.rmdir("/.old_root")
    else:
        os.chroot(".")
        os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _bind_readonly_dev(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    open(dst, "a").close()
    _mount(src, dst, None, MS_BIND)
    _mount(None, dst, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(src) & ~MS_NODEV | MS_NOSUID)


def drop_privileges(root_user):
    libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if root_user:  # setuid from 0 clears every capability
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    elif SYS_CAPSET is not None:  # the namespace's creator holds all capabilities in it: clear them
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        _check(libc().syscall(SYS_CAPSET, header, data), "capset")


def set_limits(limits):
    for name, value in (("RLIMIT_CPU", limits["cpu_s"]), ("RLIMIT_AS", limits["memory_bytes"]),
                        ("RLIMIT_FSIZE", limits["file_bytes"]), ("RLIMIT_NPROC", limits["processes"]),
                        ("RLIMIT_CORE", 0), ("RLIMIT_NOFILE", 256)):
        resource.setrlimit(getattr(resource, name), (value, value))


# --- exact-type value encoding (decoded by rlvr_eval.code.values) ---------------------------------
# JSON text in which a list is a list and all JSON cannot tell apart is tagged: {"tuple": [...]}, {"set": [...]},
# {"frozenset": [...]}, {"dict": [[k, v], ...]} (also "Counter", "OrderedDict", "defaultdict"), {"bytes": hex},
# {"complex": [re, im]}, {"int": hex} beyond 2**53, {"unsupported": type name}. Lists of plain scalars go through
# _json's C encoder in one call (outputs of a million numbers are common in HumanEval+).

_DICT_TAGS = {}  # collections' dict types (Counter, OrderedDict, defaultdict) -> their tag; see run_functional
_c_encode = _json.make_encoder(None, None, _json.encode_basestring_ascii, None, ":", ",", False, False, True)
_PLAIN, _INT = {str, float, bool, type(None)}, {int}
_BIG = 2 ** 53


def _plain(v):
    t = type(v)
    return t in _PLAIN or (t is int and -_BIG < v < _BIG)


def _plain_list(x):
    """all(_plain(v) for v in x), at C speed where the list holds one type (3x faster on a million ints)."""
    types = set(map(type, x))
    if types <= _PLAIN:
        return True
    if types == _INT:
        return -_BIG < min(x) and max(x) < _BIG
    return all(_plain(v) for v in x)


def dump_value(x, depth=0):
    t = type(x)
    if t is list:
        if _plain_list(x):
            return "".join(_c_encode(x, 0))
        if depth > 100:
            return '{"unsupported":"nesting deeper than 100"}'
        return "[" + ",".join([dump_value(v, depth + 1) for v in x]) + "]"
    if _plain(x):
        return "".join(_c_encode(x, 0))
    if t is int:
        return '{"int":"' + hex(x) + '"}'
    if depth > 100:
        return '{"unsupported":"nesting deeper than 100"}'
    if t is tuple or t is set or t is frozenset:
        return '{"' + t.__name__ + '":' + dump_value(list(x), depth + 1) + "}"
    if t is dict or t in _DICT_TAGS:
        return '{"' + _DICT_TAGS.get(t, "dict") + '":[' + ",".join(["[" + dump_value(k, depth + 1) + "," + dump_value(v, depth + 1) + "]"
                                       for k, v in x.items()]) + "]}"
    if t is bytes:
        return '{"bytes":"' + x.hex() + '"}'
    if t is complex:
        return '{"complex":[' + dump_value(x.real) + "," + dump_value(x.imag) + "]}"
    return '{"unsupported":' + _json.encode_basestring_ascii(t.__module__ + "." + t.__qualname__) + "}"


def to_json(obj):
    """A report: a flat dict of plain values (the "value" entry, when there is one, already JSON text)."""
    return "{" + ",".join([_json.encode_basestring_ascii(k) + ":" + (v if k == "value" else "".join(_c_encode(v, 0)))
                           for k, v in obj.items()]) + "}"


# --- the runner ------------------------------------------------------------------------------------

def run_functional(job, report):
    """Exec the program once per test group, call the entry point on each input, report each value."""
    import collections  # (preloaded) its dict types travel with their type: Mbpp/88 returns a Counter

    _DICT_TAGS.update({collections.Counter: "Counter", collections.OrderedDict: "OrderedDict",
                       collections.defaultdict: "defaultdict"})
    for group in job["groups"]:
        env = {"__name__": "__main__", "__builtins__": __builtins__}  # a fresh module per group, as evalplus
        try:
            exec(compile(job["code"], "<solution>", "exec"), env)
            fn = env[job["entry_point"]]
        except BaseException as e:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            report({"kind": "load_error", "group": group["name"], "error": f"{type(e).__name__}: {e}"[:500]})
            return
        report({"kind": "loaded", "group": group["name"]})
        for i, args in enumerate(group["inputs"]):  # each input object is used once: no copy needed
            start = time.process_time()  # "seconds": the call alone, for the canonical solutions' time limits
            try:
                value = fn(*args)
                line = {"kind": "value", "group": group["name"], "i": i, "value": dump_value(value)}
            except BaseException as e:  # noqa: BLE001
                line = {"kind": "raised", "group": group["name"], "i": i, "error": f"{type(e).__name__}: {e}"[:500]}
            seconds = line["seconds"] = time.process_time() - start
            try:
                report(line)
            except MemoryError:  # copying a huge value into the line went over the memory limit (Mbpp/255)
                value = line = None
                report({"kind": "raised", "group": group["name"], "i": i, "seconds": seconds,
                        "error": "MemoryError: the value is too large to report within the memory limit"})


def run_stdio(job, report):
    """Run the program once per test input in a fresh interpreter; report its stdout and exit code. Its time limit
    is the verifying process's to enforce, on the CPU time of this process's children (rlvr_eval.code.sandbox)."""
    import subprocess
    with open("solution.py", "w") as f:
        f.write(job["code"])
    for i, stdin in enumerate(job["stdin"]):
        try:
            p = subprocess.run([sys.executable, "-I", "-S", "solution.py"], input=stdin.encode(), capture_output=True,
                               env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
            line = {"kind": "stdout", "i": i, "stdout": p.stdout[: job["max_output_bytes"]].decode("utf-8", "replace"),
                    "returncode": p.returncode, "stderr": p.stderr[-300:].decode("utf-8", "replace")}
        except OSError as e:
            line = {"kind": "raised", "i": i, "error": f"{type(e).__name__}: {e}"}
        report(line)


# Standard-library modules programs commonly import, imported once by the fork server, which every program is
# forked from: `from typing import List` then costs a dictionary look-up instead of 5 to 30 ms per program
# (evalplus's programs, forked from its worker, find them imported too). It also serves root's rlimits
# fallback, where nobody may not be able to read an interpreter under /root (pyenv). A program still gets its
# own copy of each module (a fork): nothing it changes reaches the server or another program; `random` reseeds
# itself in every forked child.
PRELOADED = ("typing", "collections", "itertools", "functools", "math", "re", "heapq", "bisect", "string", "copy",
             "json", "random", "statistics", "fractions", "decimal", "operator", "hashlib")


def preload():
    libc()  # ctypes (7 ms to import): every supervisor and runner needs it (unshare, prctl)
    for name in PRELOADED:
        try:
            __import__(name)
        except ImportError:
            pass


def runner(job, result_fd, ack_fd, workdir):
    if job["isolation"] == "namespaces":
        build_root(workdir, job["limits"]["tmp_bytes"], *_sandbox_ids())
        os.chdir("/tmp")
    else:
        os.chdir(workdir)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    if job["mode"] == "stdio":  # imported while the interpreter's files are surely readable
        import subprocess  # noqa: F401
    set_limits(job["limits"])
    drop_privileges(os.getuid() == 0)
    libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # changing credentials cleared it
    out = os.fdopen(result_fd, "w", buffering=1)

    def report(obj):
        out.write(to_json(obj) + "\n")
        os.read(ack_fd, 1)  # until the verifying process has read our CPU time: this line's work ends here

    report({"kind": "started"})
    (run_functional if job["mode"] == "functional" else run_stdio)(job, report)
    report({"kind": "finished"})
    out.flush()
    os._exit(0)


def _sandbox_ids():
    return (NOBODY, NOBODY) if os.getuid() == 0 else (os.getuid(), os.getgid())


def supervise(job, ack_fd):
    """One program: report the header, isolate, fork the runner, wait for it, report how it ended."""
    result_fd = os.dup(1)
    header = {"kind": "header", "isolation": job["isolation"], "python": sys.version.split()[0],
              "uid": _sandbox_ids()[0]}
    os.write(result_fd, (to_json(header) + "\n").encode())
    workdir = job["workdir"]
    if job["isolation"] == "namespaces":
        enter_namespaces(os.getuid() == 0)
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(go_w)
            os.read(go_r, 1)  # until its pid is reported: the verifying process needs it to stamp the first line
            os.close(go_r)
            libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            runner(job, result_fd, ack_fd, workdir)
        except BaseException as e:  # noqa: BLE001 - setup failed: say so, never run the program
            os.write(result_fd, (to_json({"kind": "sandbox_error", "error": f"{type(e).__name__}: {e}"}) + "\n").encode())
            os._exit(70)
    # its pid as the verifying process sees it, to read its CPU time (rlvr_eval.code.sandbox)
    os.write(result_fd, (to_json({"kind": "runner", "pid": pid}) + "\n").encode())
    os.close(go_r)
    os.close(go_w)
    os.close(ack_fd)
    _, status = os.waitpid(pid, 0)
    os.write(result_fd, (to_json({"kind": "runner_exit", "status": status}) + "\n").encode())


def _recv_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def serve(control_fd):
    """The fork server: for each job (8-byte length + marshal; the result, stderr and acknowledgement pipes as file
    descriptors) fork a supervisor in its own process group and answer its pid (about 1 ms; starting Python costs
    tens). It never runs a program itself, and ends when the verifying process closes the control socket."""
    import socket

    preload()
    sock = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    while True:
        try:
            head, fds, _, _ = socket.recv_fds(sock, 8, 3)
            if len(head) < 8 or len(fds) != 3:
                return
            payload = _recv_exact(sock, int.from_bytes(head, "little"))
        except (EOFError, OSError):
            return
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the supervisor waits for its runner
                sock.close()
                os.setpgid(0, 0)
                os.dup2(fds[0], 1)
                os.dup2(fds[1], 2)
                for fd in fds[:2]:
                    os.close(fd)
                supervise(marshal.loads(payload), fds[2])
                code = 0
            finally:
                os._exit(code)
        try:
            os.setpgid(pid, pid)  # also here: the client may kill the group before the child sets it
        except OSError:
            pass
        for fd in fds:
            os.close(fd)
        sock.sendall(pid.to_bytes(8, "little"))


if __name__ == "__main__":
    serve(int(sys.argv[1]))
