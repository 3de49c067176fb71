"""Headless Chromium driven by Selenium, for the pages the workflow writes (the guessing check's review sheet)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")  # Debian's package installs `chromium`


def chromium_path() -> str | None:
    """RLVR_EVAL_CHROMIUM, else the first Chromium on PATH."""
    return os.environ.get("RLVR_EVAL_CHROMIUM") or next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


class HeadlessBrowser:
    """One Chromium for a test session, its profile (localStorage) and download folder in `workdir`; Selenium
    talks to it through the chromedriver of the same release (Debian: chromium-driver), nothing is downloaded."""

    def __init__(self, chromium: str, chromedriver: str, workdir: Path):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    f"--user-data-dir={workdir / 'profile'}"):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        self.downloads = workdir / "downloads"
        self.downloads.mkdir()
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(self.downloads)})

    def open(self, path: Path) -> None:
        self.driver.get(Path(path).resolve().as_uri())

    def downloaded(self, name: str, timeout: float = 10) -> Path:
        """The file `name` once the browser has finished writing it in its download folder."""
        path, deadline = self.downloads / name, time.time() + timeout
        while not path.exists() or (self.downloads / f"{name}.crdownload").exists():
            assert time.time() < deadline, f"no download {name} after {timeout:.0f} s: {sorted(os.listdir(self.downloads))}"
            time.sleep(0.05)
        return path

    def quit(self) -> None:
        self.driver.quit()
