"""The report's page in a real browser: Debian's headless Chromium driven by ChromeDriver (selenium).

Slow tier. The fixture installs the browser through the project's own make target (`make browser`:
apt-get as root) and skips only when that could not install it. Each page must load without a
script error or a failed resource, run its script, show every section, and draw its pictures; a
screenshot of each page is written to the test output directory (`test-output/`, or
$MEMVIEW_TEST_OUTPUT), for people to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_report import NO_REVOKE, memview

from memview.report.page import SECTIONS
from memview.report.snapshot import HEADLESS_FLAGS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = Path(os.environ.get("MEMVIEW_TEST_OUTPUT", ROOT / "test-output"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def browser_missing() -> str | None:
    if shutil.which("chromium") and shutil.which("chromedriver"):
        return None
    done = subprocess.run(["make", "--no-print-directory", "browser"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False)
    if done.returncode != 0 or not (shutil.which("chromium") and shutil.which("chromedriver")):
        return f"make browser could not install Chromium: {(done.stdout + done.stderr).strip()[-300:]}"
    return None


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    os.environ["SE_OFFLINE"] = "true"  # selenium must not try to download a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in HEADLESS_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument("--window-size=1400,2000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver") or "chromedriver")
    chrome = webdriver.Chrome(service=service, options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


def report(out: Path, *args: str) -> Path:
    done = memview("report", "--out", str(out), *args)
    assert done.returncode in (0, 1), done.stderr
    return out / "index.html"


def look_at(driver: Any, page: Path, name: str) -> dict[str, Any]:
    """Load the page, check it as a reader would see it, and keep a screenshot."""
    driver.get(page.as_uri())
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors  # a script error or a resource that failed to load
    assert driver.execute_script("return document.documentElement.getAttribute('data-memview-ready')") == "yes"
    shown = driver.execute_script("""
        return Array.from(document.querySelectorAll('section.report-section')).map(function (s) {
          var box = s.getBoundingClientRect();
          return [s.id, box.height, s.querySelector('h2').textContent];
        });""")
    assert [ident for ident, _, _ in shown] == [ident for ident, _ in SECTIONS]
    assert all(height > 40 for _, height, _ in shown), shown
    links = driver.execute_script("return document.querySelectorAll('#nav a').length")
    assert links == len(SECTIONS)  # the script built the navigation
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = OUTPUT / f"report-{name}.png"
    driver.set_window_size(1400, min(int(driver.execute_script("return document.body.scrollHeight")) + 40, 8000))
    driver.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000, shot  # a page, not a blank window
    pictures: dict[str, Any] = driver.execute_script("""
        var out = {};
        document.querySelectorAll('svg.memview-picture').forEach(function (svg) {
          var box = svg.getBBox();
          out[svg.id] = [box.width, box.height, svg.querySelectorAll('.access-marker').length];
        });
        return out;""")
    return pictures


def test_the_seed_report_renders_every_section(driver: Any, tmp_path: Path) -> None:
    page = report(tmp_path / "seed", "--design", "seed", "--run", "check,graph", "--engine", "explore",
                  "--depth", "2", "--jobs", "1")
    pictures = look_at(driver, page, "seed")
    assert pictures == {}  # nothing violated: no timelines
    graph = driver.execute_script("return document.querySelector('#state-graph svg').getBBox().width")
    assert graph > 100  # Graphviz's picture, laid out


def test_a_broken_design_report_renders_its_counterexamples(driver: Any, tmp_path: Path) -> None:
    page = report(tmp_path / "broken", "--design", str(NO_REVOKE), "--run", "check,conform,graph", "--engine",
                  "explore", "--depth", "3", "--jobs", "1")
    pictures = look_at(driver, page, "no-revoke")
    assert pictures, "no counterexample pictures"
    for ident, (width, height, markers) in pictures.items():
        assert width > 500 and height > 200, ident
        assert markers >= 1, ident  # the access that went wrong is drawn
    counterexamples = driver.find_element("id", "counterexamples")
    counterexamples.screenshot(str(OUTPUT / "report-no-revoke-counterexamples.png"))
    assert (OUTPUT / "report-no-revoke-counterexamples.png").read_bytes().startswith(PNG_MAGIC)
