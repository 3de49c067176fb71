"""A sampling job's progress: a bar in its log, and a line on the console now and then (rlvr_eval.console)."""

from __future__ import annotations

import time

from rlvr_eval.console import progress


class ShardProgress:
    """A tqdm bar in the job's log, and a line on the console (rlvr_eval.console) at most every `every_s` seconds
    and at the end: several jobs may share the console, so no bar there."""

    def __init__(self, total: int, desc: str, enabled: bool, every_s: float = 60.0):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=desc, unit="problem", disable=not enabled)
        self.total, self.desc, self.enabled, self.every_s = total, desc, enabled, every_s
        self.done, self.started = 0, time.monotonic()
        self.shown = self.started

    def update(self, n: int) -> None:
        self.bar.update(n)
        self.done += n
        if self.enabled and time.monotonic() - self.shown >= self.every_s:
            self._show()

    def close(self) -> None:
        self.bar.close()
        if self.enabled:
            self._show()

    def _show(self) -> None:
        self.shown = time.monotonic()
        progress(f"{self.desc}: {self.done} of {self.total} problems sampled ({self.shown - self.started:.0f} s)")
