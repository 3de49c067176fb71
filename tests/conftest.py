from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

from workflow_helpers import MIRROR, copy_workflow, snakemake


@pytest.fixture(scope="session")
def mirror():
    if not MIRROR.is_dir():
        pytest.fail(f"benchmark mirror {MIRROR} is missing: the tests expect ../shared beside the repository")
    return MIRROR


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, mirror):
    """A randomly initialised tiny Qwen2 model directory with a locally trained tokenizer."""
    from rlvr_eval.data.benchmarks import load_benchmark
    from rlvr_eval.models.tiny_spec import TinyModelSpec
    from rlvr_eval.models.tiny_text import build_tiny_model

    problems, _ = load_benchmark("gsm8k", mirror, limit=16)
    out = tmp_path_factory.mktemp("tiny-model")
    build_tiny_model(out, TinyModelSpec(seed=0), problems, "qwen-boxed")
    return out


@pytest.fixture(scope="session")
def tiny_vl_model_dir(tmp_path_factory, mirror):
    """A randomly initialised tiny Qwen2.5-VL (rlvr_eval.models.tiny_vl), its tokenizer trained on MATH-V prompts."""
    from rlvr_eval.data.benchmarks import load_benchmark
    from rlvr_eval.models.tiny_spec import TinyModelSpec
    from rlvr_eval.models.tiny_text import build_tiny_model

    problems, _ = load_benchmark("mathvision", mirror, limit=16)
    out = tmp_path_factory.mktemp("tiny-vl-model")
    build_tiny_model(out, TinyModelSpec(seed=0, vocab_size=512, vision=True), problems, "qwen25-vl-think")
    return out


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, mirror):
    """The whole demo DAG, run once per test session with the real Snakemake in a scratch copy."""
    workdir = copy_workflow(tmp_path_factory.mktemp("demo"))
    snakemake(workdir)
    return workdir


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium under Selenium (tests/browser_helpers.py): skipped with the reason where Chromium, its
    chromedriver or selenium is missing, failed instead under RLVR_EVAL_REQUIRE_BROWSER=1 (CI: .ci/run installs
    Debian's chromium and chromium-driver; selenium is in the `test` extra)."""
    from browser_helpers import HeadlessBrowser, chromium_path

    chromium, chromedriver = chromium_path(), shutil.which("chromedriver")
    missing = [what for what, found in (("chromium", chromium), ("chromedriver", chromedriver),
                                        ("the Python package selenium", importlib.util.find_spec("selenium"))) if not found]
    if missing:
        reason = (f"no headless browser: {', '.join(missing)} not found (Debian: apt-get install chromium "
                  f"chromium-driver; pip install -e '.[test]')")
        if os.environ.get("RLVR_EVAL_REQUIRE_BROWSER") == "1":
            pytest.fail(f"RLVR_EVAL_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    browser = HeadlessBrowser(chromium, chromedriver, tmp_path_factory.mktemp("browser"))
    yield browser
    browser.quit()


@pytest.fixture()
def demo_copy(demo_run, tmp_path, monkeypatch):
    """A private copy of the finished demo (results, logs, Snakemake metadata, modification times kept) with its
    own copy of the package in `src/`, first on PYTHONPATH for Snakemake and its jobs: edit config or code there."""
    from workflow_helpers import copy_run, package_env

    work = copy_run(demo_run, tmp_path / "run", package=True)
    for k, v in package_env(work).items():
        monkeypatch.setenv(k, v)
    return work


def pytest_runtest_setup(item):
    """Tests marked `vllm` run the real engine (vLLM's CPU build in .venv-vllm, or a GPU build): skipped with the
    reason where vllm does not import, failed instead under RLVR_EVAL_REQUIRE_VLLM=1 (`make test-vllm`, CI)."""
    if item.get_closest_marker("vllm") is None or importlib.util.find_spec("vllm") is not None:
        return
    reason = "vllm is not installed in this environment (`make test-vllm` runs these tests in .venv-vllm)"
    if os.environ.get("RLVR_EVAL_REQUIRE_VLLM") == "1":
        pytest.fail(f"RLVR_EVAL_REQUIRE_VLLM=1 but {reason}", pytrace=False)
    pytest.skip(reason)
