"""Helpers of the report tests: Debian's headless Chromium (installed with apt-get when missing and
root; skipped where it cannot be installed, a failure where the install fails) and the moves through
Snakemake's report page."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import can_install_system_packages, unavailable
from webdriver import Browser, WebDriverError

APP_READY = "const app = document.querySelector('#app'); return app !== null && app.innerText.length > 0;"


def embedded(html: str, name: str) -> dict:
    """One of the JSON objects the report embeds (`var results = {...};`)."""
    match = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', html, re.S)
    assert match, f"no {name} in the report"
    return json.loads(match.group(1))


def browser_binaries() -> tuple[str, str]:
    """Debian's chromium and chromedriver, installed with apt-get when missing. Skips only where they
    cannot be installed (not root, or no apt-get); as root with apt-get, a failed install fails."""
    def found() -> tuple[str | None, str | None]:
        return shutil.which("chromium"), shutil.which("chromedriver")

    chromium, driver = found()
    if chromium and driver:
        return chromium, driver
    if not can_install_system_packages():
        pytest.skip("needs Debian's chromium and chromium-driver; installing them needs root and apt-get")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium",
                     "chromium-driver"]):
        done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=900)
        if done.returncode != 0:
            unavailable(f"could not install chromium: {' '.join(command)}: {done.stderr[-2000:]}")
    chromium, driver = found()
    if not (chromium and driver):
        unavailable("apt-get installed chromium and chromium-driver, yet neither is on PATH")
    return chromium, driver


def visible_text(browser: Browser, text: str) -> str:
    """The innermost displayed element whose whole text is `text` (spaces normalised)."""
    elements = [element for element in browser.find_all(f"//*[normalize-space(.)='{text}']")
                if browser.displayed(element)]
    assert elements, f"{text!r} is not visible"
    return elements[-1]  # document order puts ancestors first


def wait_for_visible(browser: Browser, xpath: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = [element for element in browser.find_all(xpath) if browser.displayed(element)]
        if shown:
            return shown[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing visible matches {xpath} after {timeout} s")


# What the content pane shows once a result is open: an HTML page in a frame, or a figure.
OPENED_RESULT = "//iframe | //img[starts-with(@src, 'data:image/png')]"


def open_first_result(browser: Browser, category: str, tries: int = 3) -> None:
    """Click the category in the menu, then the eye button of its first result, until the result shows.
    The menu animates its rows (`transition-all`): a click during the animation is intercepted by
    another element or lands on nothing, so it is tried again."""
    browser.click(visible_text(browser, category))
    for attempt in range(1, tries + 1):
        try:
            browser.click(wait_for_visible(browser, "//a[@iconname='eye']"))
            wait_for_visible(browser, OPENED_RESULT, timeout=8)
            return
        except (AssertionError, WebDriverError):
            if attempt == tries:
                raise
            time.sleep(1)


def shown_image_size(browser: Browser) -> list[int]:
    """Natural width and height of the figure in the content pane, once it has loaded."""
    return browser.wait_until(
        "const img = document.querySelector('img[src^=\"data:image/png\"]');"  # not the logo (SVG)
        "return img && img.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : null;")


def check_caption(browser: Browser, snippet: str) -> None:
    browser.click(wait_for_visible(browser, "//a[@iconname='information-circle']"))
    visible_text(browser, "Description")
    wait_for_visible(browser, f"//*[contains(@class, 'prose')]//*[contains(., '{snippet}')]")



def check_report_renders(report_html: Path, experiment: str, categories: list[str], proxies: list[str],
                         figure_category: str, screenshots: Path) -> None:
    """The report opens in headless Chromium with every category, the verdict page names each proxy,
    and the first figure of figure_category loads with a real size."""
    chromium, driver = browser_binaries()
    with Browser(chromium, driver, screenshots / "profile", screenshots / "chromedriver.log") as browser:
        browser.open(report_html.as_uri())
        browser.wait_until(APP_READY)
        visible_text(browser, f"recipe-sandbox report: {experiment}")
        for category in categories:
            visible_text(browser, category)
        open_first_result(browser, "1. Verdict")
        browser.enter_frame(wait_for_visible(browser, "//iframe"))
        visible_text(browser, f"Verdict: {experiment}")
        for proxy in proxies:
            wait_for_visible(browser, f"//h2[starts-with(normalize-space(.), 'Proxy {proxy}')]")
        browser.leave_frame()
        browser.screenshot(screenshots / "verdict.png")
        browser.click(visible_text(browser, "Results"))
        open_first_result(browser, figure_category)
        width, height = shown_image_size(browser)
        assert width > 200 and height > 100, (figure_category, width, height)
        browser.screenshot(screenshots / "figure.png")
