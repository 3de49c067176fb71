"""`rlvr-eval data` rebuilds the benchmark mirror from its public sources at pinned commits, byte for byte. The
sources' hosts (raw.githubusercontent.com, github.com releases) are unreachable here, so a local HTTP server
serves the same paths, filled from the mirror in ../shared: the download, the sha256 check and the layout are
the real ones; only the host is swapped (RLVR_EVAL_MIRROR_URL_MAP)."""

from __future__ import annotations

import filecmp
import functools
import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from rlvr_eval.data.mirror_sources import MIRROR_FILES, URL_MAP_ENV

FIXTURE = Path(__file__).parent / "fixtures" / "omni_math_rule" / "omni_math_rule.jsonl"


def present(mirror) -> list:
    """The mirror files this machine's mirror holds (the shared mirror has no Omni-MATH-Rule: `make data` adds it)."""
    return [f for f in MIRROR_FILES if (mirror / f.path).is_file()]


@pytest.fixture
def public_sources(tmp_path, mirror):
    """An HTTP server on localhost holding every source file at its public URL's path; yields its URL map."""
    root = tmp_path / "www"
    for f in present(mirror):
        served = root / urlsplit(f.url).netloc / urlsplit(f.url).path.lstrip("/")
        served.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mirror / f.path, served)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    yield root, ",".join(f"https://{host}/={base}/{host}/" for host in ("raw.githubusercontent.com", "github.com"))
    server.shutdown()


def rlvr_eval_data(*args: str, url_map: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "rlvr_eval.cli", "data", *args], capture_output=True, text=True,
                          env={**os.environ, URL_MAP_ENV: url_map}, timeout=300)


def test_the_mirror_is_rebuilt_byte_for_byte_and_a_second_run_keeps_it(tmp_path, mirror, public_sources):
    _, url_map = public_sources
    rebuilt = tmp_path / "benchmarks"
    files = present(mirror)
    first = rlvr_eval_data(str(rebuilt), *([] if files == MIRROR_FILES else
                                           ["--benchmarks", *sorted({f.benchmark for f in files})]), url_map=url_map)
    assert first.returncode == 0, first.stderr
    assert len(MIRROR_FILES) == 12 and first.stdout.count("fetched") == len(files) >= 11
    for f in files:
        assert filecmp.cmp(rebuilt / f.path, mirror / f.path, shallow=False), f.path
    again = rlvr_eval_data(str(rebuilt), "--benchmarks", "aime24", "gsm8k", url_map=url_map)
    assert again.returncode == 0 and again.stdout.count("kept") == 2 and "fetched" not in again.stdout


def test_a_source_with_other_bytes_is_refused_and_nothing_is_written(tmp_path, public_sources):
    root, url_map = public_sources
    aime = next(f for f in MIRROR_FILES if f.benchmark == "aime24")
    served = root / urlsplit(aime.url).netloc / urlsplit(aime.url).path.lstrip("/")
    served.write_bytes(served.read_bytes().replace(b"\n", b"\r\n", 1))  # one line ending changed upstream
    rebuilt = tmp_path / "benchmarks"
    result = rlvr_eval_data(str(rebuilt), "--benchmarks", "aime24", url_map=url_map)
    assert result.returncode == 1
    assert f"expected {aime.sha256} (the paper's file)" in result.stderr and "was not written" in result.stderr
    assert list((rebuilt / "aime24").iterdir()) == []  # no file, no temporary left behind


def test_a_benchmark_without_a_known_source_is_named():
    result = rlvr_eval_data("/nonexistent", "--benchmarks", "livecodebench", url_map="")
    assert result.returncode == 1 and "no public source known for livecodebench" in result.stderr


def test_omni_math_rule_is_fetched_from_its_pinned_commit_and_checked(tmp_path):
    """Both Omni-MATH splits name the one file, fetched from KbsdJames/omni-math-rule at a commit, sha256-checked:
    a file with other bytes (here the repository's few-row fixture served at that URL) is refused."""
    from rlvr_eval.data.benchmarks import KNOWN_SOURCES

    omni = next(f for f in MIRROR_FILES if f.benchmark == "omni_math_rule")
    assert omni.url == ("https://raw.githubusercontent.com/KbsdJames/omni-math-rule/"
                        "4793415ef37d31c9cdb4e5b82dbe172f76f8cf08/omni_math_rule.jsonl")
    assert omni.sha256 == KNOWN_SOURCES["omni_math_train"].sha256 == KNOWN_SOURCES["omni_math_test"].sha256
    root = tmp_path / "www"
    served = root / urlsplit(omni.url).netloc / urlsplit(omni.url).path.lstrip("/")
    served.parent.mkdir(parents=True)
    shutil.copyfile(FIXTURE, served)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url_map = f"https://raw.githubusercontent.com/=http://127.0.0.1:{server.server_port}/raw.githubusercontent.com/"
        result = rlvr_eval_data(str(tmp_path / "benchmarks"), "--benchmarks", "omni_math_test", url_map=url_map)
    finally:
        server.shutdown()
    assert result.returncode == 1 and f"expected {omni.sha256} (the paper's file)" in result.stderr
    assert not (tmp_path / "benchmarks" / omni.path).exists()
