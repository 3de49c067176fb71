"""What a SLURM cluster offers, read with its client tools in a few calls: partitions (time limit, GPUs per node,
the default one) from `sinfo`, the user's accounts from `sacctmgr` (as snakemake-executor-plugin-slurm validates
them). Each reader returns None when its tool is missing or fails, so a caller can say what it could not check."""

from __future__ import annotations

import getpass
import re
import shutil
import subprocess
from dataclasses import dataclass, field

TIMEOUT_S = 20  # a controller that does not answer must not hang the doctor


@dataclass
class Partition:
    name: str
    max_minutes: int | None  # None: no limit
    time_text: str  # as sinfo prints it, for messages
    gpus: dict[str, int] = field(default_factory=dict)  # GPU type ("" if untyped) -> most on one node
    gres_text: list[str] = field(default_factory=list)
    default: bool = False

    def gpus_per_node(self, gpu_model: str | None = None) -> int:
        """The most GPUs one node has (of `gpu_model`, when the job asks for a type)."""
        if gpu_model:
            return self.gpus.get(str(gpu_model).lower(), 0)
        return self.gpus.get("*", 0)


def run(*cmd: str) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def parse_time(text: str) -> int | None:
    """Minutes of a SLURM time limit ("infinite", "30", "2:00:00", "1-00:00:00", "1-12"); None: unlimited."""
    text = text.strip()
    if text.lower() in ("infinite", "unlimited"):
        return None
    days, sep, rest = text.partition("-") if "-" in text else ("0", "", text)
    parts = [int(p) for p in rest.split(":")]
    if sep:  # days-hours[:minutes[:seconds]]
        hours, minutes, seconds = (parts + [0, 0])[:3]
    elif len(parts) == 3:  # hours:minutes:seconds
        hours, minutes, seconds = parts
    else:  # minutes[:seconds]
        hours, (minutes, seconds) = 0, (parts + [0])[:2]
    total = (int(days) * 24 + hours) * 60 + minutes + seconds / 60
    return int(total)  # a limit's whole minutes: a job asking for more is refused


GRES_RE = re.compile(r"gpu(?::([A-Za-z][^:(,]*))?:(\d+)")


def parse_gres(text: str) -> dict[str, int]:
    """GPUs of one node from sinfo's %G ("gpu:a100:4(S:0-1),gpu:h100:2"): per type, and all of them under "*"."""
    out: dict[str, int] = {}
    for kind, count in GRES_RE.findall(text):
        out[kind.lower()] = out.get(kind.lower(), 0) + int(count)
        out["*"] = out.get("*", 0) + int(count)
    return out


def partitions() -> dict[str, Partition] | None:
    """Partitions this user can submit to (sinfo hides the others), one `sinfo` call."""
    out = run("sinfo", "-h", "-o", "%P|%l|%G")
    if out is None:
        return None
    found: dict[str, Partition] = {}
    for line in out.splitlines():
        if line.count("|") != 2:
            continue
        name, limit, gres = (x.strip() for x in line.split("|"))
        default = name.endswith("*")
        name = name.rstrip("*")
        try:
            minutes = parse_time(limit)
        except ValueError:
            minutes = None
        p = found.setdefault(name, Partition(name, minutes, limit, default=default))
        p.gres_text.append(gres)
        for kind, count in parse_gres(gres).items():  # nodes differ: the largest one counts
            p.gpus[kind] = max(p.gpus.get(kind, 0), count)
    return found


def user() -> str:
    return getpass.getuser()


def accounts() -> set[str] | None:
    """The accounts the user may charge (lower case), as the SLURM executor plugin checks a given one."""
    out = run("sacctmgr", "-n", "-s", "-P", "list", "user", user(), "format=account")
    if out is None:
        return None
    return {line.strip().lower() for line in out.splitlines() if line.strip()}


def default_account() -> str | None:
    """The account sbatch charges when none is given ('' if the user has none; None if unknown)."""
    out = run("sacctmgr", "-n", "-P", "show", "user", user(), "format=defaultaccount")
    if out is None:
        return None
    return next((line.strip() for line in out.splitlines() if line.strip()), "")
