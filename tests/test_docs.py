"""The user guide builds as a site (`make docs`), and a broken link or anchor stops the build."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", ".venv*", "results", "logs", ".snakemake", "site", "__pycache__", "*.egg-info")


def build_site(project: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(project / "mkdocs.yml"),
                           "-d", str(site)], capture_output=True, text=True, timeout=120)


def test_user_guide_builds_with_every_link_valid(tmp_path):
    result = build_site(REPO, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site"
    # README.md is the home page; its links into docs/ and to repository files point into the site
    home = (site / "index.html").read_text()
    assert 'href="configuration/"' in home and 'href="repo/config.yaml"' in home
    assert (site / "repo/config.yaml").read_bytes() == (REPO / "config.yaml").read_bytes()
    assert (site / "bench/index.html").is_file() and (site / "file-formats/index.html").is_file()


@pytest.mark.parametrize("page, link, reported", [
    ("docs/tests.md", "[gone](no-such-page.md)", "no-such-page.md"),
    ("docs/tests.md", "[README](../README.md#no-such-section)", "no-such-section"),
    ("README.md", "[schema](src/rlvr_eval/no_such_file.yaml)", "src/rlvr_eval/no_such_file.yaml"),
])
def test_a_broken_link_fails_the_build(tmp_path, page, link, reported):
    project = tmp_path / "repo"
    shutil.copytree(REPO, project, ignore=SKIP)
    with open(project / page, "a", encoding="utf-8") as f:
        f.write(f"\nSee {link}.\n")
    result = build_site(project, tmp_path / "site")
    assert result.returncode != 0 and reported in result.stderr, result.stderr
