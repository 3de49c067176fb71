# Config validation and input functions. All grid logic lives in rlvr_eval.grid (importable, tested).
import re
import sys

from snakemake.utils import validate

from rlvr_eval.config import SCHEMA_PATH, ConfigError, validate_config
from rlvr_eval.grid import Grid

try:
    config.update(validate_config(config))
except ConfigError as e:
    sys.exit(f"Config error: {e}")
validate(config, SCHEMA_PATH, set_default=True)

GRID = Grid(config)


def regex_of(names):
    """A wildcard constraint matching exactly these names (or nothing)."""
    return "|".join(re.escape(n) for n in names) or "(?!x)x"


wildcard_constraints:
    model=regex_of(GRID.models),
    benchmark=regex_of(GRID.benchmarks),
    shard=r"\d{4}",
