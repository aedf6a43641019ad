"""What the browser tests share: Debian's Chromium under Playwright, the built widget, screenshots."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from devstack.paths import REPO_ROOT

# GUIDE §2: Debian's chromium as it is, quiet and offline-friendly.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS_ROOT = REPO_ROOT / "data" / "test-artifacts"


def build_widget() -> None:
    """Build widget.js from the current sources (a no-op when they did not change)."""
    build = subprocess.run(["make", "-s", "widget"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert build.returncode == 0, f"the widget did not build:\n{build.stdout}\n{build.stderr}"


@contextmanager
def chromium() -> Iterator[Browser]:
    """One headless Chromium for a test module."""
    executable = shutil.which("chromium")
    assert executable is not None, "chromium is not installed (make setup installs Debian's package)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def save_screenshot(page: Page, folder: str, name: str) -> Path:
    """Keep a screenshot as a test artefact under data/test-artifacts/<folder>/."""
    target = ARTIFACTS_ROOT / folder / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))
    return target
