"""Send a rule script's output (prints, warnings, logging, tracebacks) to the rule's log file."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from pathlib import Path


@contextlib.contextmanager
def logged(path: str):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", buffering=1) as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        handler = logging.StreamHandler(log)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        try:
            yield
        except BaseException:
            traceback.print_exc(file=log)
            raise
        finally:
            logging.getLogger().removeHandler(handler)
