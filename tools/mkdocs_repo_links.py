"""MkDocs hook: build the user guide from the repository as it is laid out, links and all.

The pages are written to read on a forge as well as in the site: README.md at the root links to `docs/x.md`,
the docs link to `../config.yaml` or `../src/...`. This hook
- adds README.md (as the home page, index.md) and bench/README.md to the site, which MkDocs cannot take from
  outside `docs_dir`;
- rewrites each relative link from its repository path to its site path (README.md's `docs/x.md` -> `x.md`),
  leaving the anchor for MkDocs to check (`validation: anchors`);
- copies every other repository file a page links to into the site under `repo/`, so the link works there too;
  a link to a file that does not exist is a warning, which `mkdocs build --strict` turns into a failure.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.repo_links")

# repository path -> site path, for the pages that live outside docs_dir
OUTSIDE_PAGES = {
    "README.md": "index.md",
    "bench/README.md": "bench/README.md",
    "THIRD_PARTY.md": "third-party.md",
}
REPO_COPIES = "repo"  # site folder holding copies of linked repository files

# [text](target) outside code; the target has no scheme and does not start at the root or with '#'
LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")


def _repo_root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _docs_prefix(config) -> str:
    return Path(config.docs_dir).resolve().relative_to(_repo_root(config)).as_posix()


def _repo_path(src_uri: str, config) -> str:
    """The repository path of the page the site holds at src_uri."""
    for repo_path, site_path in OUTSIDE_PAGES.items():
        if site_path == src_uri:
            return repo_path
    return posixpath.join(_docs_prefix(config), src_uri)


def _site_path(repo_path: str, config) -> str | None:
    """Where the site holds a repository page, or None for a file outside the guide."""
    if repo_path in OUTSIDE_PAGES:
        return OUTSIDE_PAGES[repo_path]
    prefix = _docs_prefix(config) + "/"
    if repo_path.startswith(prefix) and repo_path.endswith(".md"):
        return repo_path[len(prefix) :]
    return None


def _relative_links(markdown: str):
    """(match, target path, anchor) for each relative link outside fenced and inline code."""
    in_fence = False
    offset = 0
    for line in markdown.splitlines(keepends=True):
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            code_spans = [m.span() for m in INLINE_CODE.finditer(line)]
            for match in LINK.finditer(line):
                if any(start <= match.start() < end for start, end in code_spans):
                    continue
                target = match.group("target")
                if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("/", "#")):
                    continue
                path, _, anchor = target.partition("#")
                yield offset + match.start("target"), offset + match.end("target"), path, anchor
        offset += len(line)


def _resolve(page_repo_path: str, link_path: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(page_repo_path), link_path))


def on_files(files, config):
    root = _repo_root(config)
    for repo_path, site_path in OUTSIDE_PAGES.items():
        files.append(File.generated(config, site_path, abs_src_path=str(root / repo_path)))
    copied = set()
    for page in [f for f in files if f.is_documentation_page()]:
        page_repo_path = _repo_path(page.src_uri, config)
        for _, _, link_path, _ in _relative_links(Path(page.abs_src_path).read_text(encoding="utf-8")):
            repo_path = _resolve(page_repo_path, link_path)
            if _site_path(repo_path, config) is not None or repo_path in copied:
                continue
            source = root / repo_path
            if repo_path.startswith("../") or not source.is_file():
                continue  # reported by on_page_markdown, where the page is known
            files.append(File.generated(config, f"{REPO_COPIES}/{repo_path}", abs_src_path=str(source)))
            copied.add(repo_path)
    return files


def on_page_markdown(markdown, page, config, files):
    page_repo_path = _repo_path(page.file.src_uri, config)
    page_dir = posixpath.dirname(page.file.src_uri)
    pieces, last = [], 0
    for start, end, link_path, anchor in _relative_links(markdown):
        repo_path = _resolve(page_repo_path, link_path)
        site_path = _site_path(repo_path, config)
        if site_path is None:
            if repo_path.startswith("../") or not (_repo_root(config) / repo_path).is_file():
                log.warning("%s links to '%s', which is not a file of the repository", page_repo_path, link_path)
                continue
            site_path = f"{REPO_COPIES}/{repo_path}"
        new_target = posixpath.relpath(site_path, page_dir or ".") + (f"#{anchor}" if anchor else "")
        pieces += [markdown[last:start], new_target]
        last = end
    return "".join(pieces) + markdown[last:]
