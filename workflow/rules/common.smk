# Config validation and input functions. All grid logic lives in rlvr_eval.grid (importable, tested).
import os
import re
import sys

from snakemake.utils import validate

from rlvr_eval import provenance
from rlvr_eval.config import SCHEMA_PATH, ConfigError, validate_config
from rlvr_eval.grid import Grid
from rlvr_eval.prompts import code_prefix
from rlvr_eval.provenance import logic_version
from rlvr_eval.resources import JobResources, ResourceConfigError

try:
    config.update(validate_config(config))
    RESOURCES = JobResources(config)  # per-job cluster resources (config `resources:`)
except (ConfigError, ResourceConfigError) as e:
    sys.exit(f"Config error: {e}")
validate(config, SCHEMA_PATH, set_default=True)

GRID = Grid(config)

# Provenance (rlvr_eval.provenance): every rule passes `logic=logic_version(<stage>)`, a stamp of its code that
# also sees the modules its script imports, so Snakemake's params trigger reruns what a code change invalidates.
# The workflow profile (profiles/default/config.yaml) turns off Snakemake's own code trigger (a script's mtime)
# and checksums inputs up to 10 GB, so a touched but unchanged file reruns nothing.
provenance.set_workflow_dir(workflow.basedir)

# Jobs in the conda environments of envs/ (--use-conda) import rlvr_eval from this source tree.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.join(workflow.basedir, "src"), os.environ.get("PYTHONPATH")]))


def regex_of(names):
    """A wildcard constraint matching exactly these names (or nothing)."""
    return "|".join(re.escape(n) for n in names) or "(?!x)x"


wildcard_constraints:
    model=regex_of(GRID.models),
    benchmark=regex_of(GRID.benchmarks),
    shard=r"\d{4}",
    pair=regex_of([p["name"] for p in GRID.pairs]),
