"""How long a misspelt config key takes to stop the workflow (target: a few seconds, before any job).

    .venv/bin/python bench/config_error_latency.py
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from workflow_helpers import copy_workflow, demo_config, snakemake  # noqa: E402

config = demo_config()
config["sampling"]["temprature"] = config["sampling"].pop("temperature")
with tempfile.TemporaryDirectory() as tmp:
    workdir = copy_workflow(Path(tmp), config)
    times = []
    for _ in range(3):
        start = time.monotonic()
        proc = snakemake(workdir, "--dry-run", check=False)
        times.append(time.monotonic() - start)
    message = [line for line in proc.stderr.splitlines() if "Config error" in line]
    print(f"exit status {proc.returncode}; message: {message}")
    print(f"seconds to fail: min {min(times):.2f}, max {max(times):.2f} over {len(times)} runs")
