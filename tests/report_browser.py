"""Helpers of the report tests: Debian's headless Chromium driven by Selenium (installed with apt-get when
missing and root; skipped where it cannot be installed, a failure where the install fails) and the moves
through Snakemake's report page. Selenium gets Debian's chromium and chromedriver by path and runs its
Selenium Manager offline, so it never downloads a browser or a driver. Every move waits (WebDriverWait)
for what it needs: no sleeps, no clicks tried again."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from conftest import can_install_system_packages, unavailable

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium
CHROMEDRIVER = "/usr/bin/chromedriver"  # Debian's chromium-driver
INSTALL = "Fix: apt-get install chromium chromium-driver (Debian's, as root)."
# Headless Chromium behind a closed network: no sandbox (root), no GPU, and none of the background
# connections (updates, sync, QUIC probes) that would be refused and slow it down.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000"]
TIMEOUT = 20  # seconds a move waits for what it needs
APP_READY = "const app = document.querySelector('#app'); return app !== null && app.innerText.length > 0;"
# Whether a CSS transition or animation runs in the page: the report's menu animates its width
# (Tailwind's `transition-all`), and its rows move while it does.
ANIMATING = "return document.getAnimations().some(a => a.pending || a.playState === 'running');"
FIGURE_SIZE = ("const img = document.querySelector('img[src^=\"data:image/png\"]');"  # not the logo (SVG)
               "return img && img.complete && img.naturalWidth > 0"
               " ? [img.naturalWidth, img.naturalHeight] : null;")
# What the content pane shows once a result is open: an HTML page in a frame, or a figure.
OPENED_RESULT = "//iframe | //img[starts-with(@src, 'data:image/png')]"

T = TypeVar("T")


def embedded(html: str, name: str) -> dict:
    """One of the JSON objects the report embeds (`var results = {...};`)."""
    match = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', html, re.S)
    assert match, f"no {name} in the report"
    return json.loads(match.group(1))


def browser_binaries() -> tuple[str, str]:
    """Debian's chromium and chromedriver, installed with apt-get when missing. Skips only where they
    cannot be installed (not root, or no apt-get); as root with apt-get, a failed install fails."""
    def found() -> bool:
        return all(os.access(path, os.X_OK) for path in (CHROMIUM, CHROMEDRIVER))

    if found():
        return CHROMIUM, CHROMEDRIVER
    if not can_install_system_packages():
        pytest.skip(f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}); installing "
                    f"them needs root and apt-get. {INSTALL}")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium",
                     "chromium-driver"]):
        done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=900)
        if done.returncode != 0:
            unavailable(f"could not install chromium: {' '.join(command)}: {done.stderr[-2000:]} {INSTALL}")
    if not found():
        unavailable(f"apt-get installed chromium and chromium-driver, yet {CHROMIUM} or {CHROMEDRIVER} is "
                    f"missing. {INSTALL}")
    return CHROMIUM, CHROMEDRIVER


@contextmanager
def headless_chromium(profile_dir: Path, log_path: Path) -> Iterator[WebDriver]:
    """One headless Chromium session (Debian's, installed when missing: browser_binaries), with
    chromedriver's log in log_path; quit on the way out."""
    chromium, chromedriver = browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in CHROMIUM_ARGS + [f"--user-data-dir={profile_dir}"]:
        options.add_argument(argument)
    service = Service(executable_path=chromedriver, log_output=str(log_path))
    # With the driver's path given Selenium skips its Selenium Manager; offline, it could not download
    # anyway. SE_CHROMEDRIVER would replace the path given, so it goes while the session starts.
    with mock.patch.dict(os.environ, {"SE_OFFLINE": "true"}):
        os.environ.pop("SE_CHROMEDRIVER", None)
        try:
            browser = webdriver.Chrome(options=options, service=service)
        except WebDriverException as error:
            pytest.fail(f"headless Chromium did not start: {error.msg} Fix: read chromedriver's log "
                        f"{log_path}; chromium and chromium-driver must be Debian's, of one version "
                        "(apt-get install chromium chromium-driver).", pytrace=False)
    try:
        yield browser
    finally:
        browser.quit()


def wait_for(browser: WebDriver, condition: Callable[[WebDriver], T | bool], failure: str,
             timeout: float = TIMEOUT) -> T:
    """What condition returns once it is truthy; an AssertionError naming the failure after timeout s.
    An element replaced while the condition looks at it (React re-renders) counts as not yet."""
    wait = WebDriverWait(browser, timeout, poll_frequency=0.1,
                         ignored_exceptions=[StaleElementReferenceException])
    try:
        return wait.until(condition)
    except TimeoutException:
        raise AssertionError(f"{failure} after {timeout} s") from None


def text_xpath(text: str) -> str:
    """The innermost elements whose whole text is `text` (spaces normalised)."""
    return f"//*[normalize-space(.)='{text}' and not(*[normalize-space(.)='{text}'])]"


def wait_for_visible(browser: WebDriver, xpath: str, timeout: float = TIMEOUT) -> WebElement:
    """The first displayed element that matches xpath, once there is one."""
    located = expected_conditions.visibility_of_any_elements_located((By.XPATH, xpath))
    return wait_for(browser, located, f"nothing visible matches {xpath}", timeout)[0]


def visible_text(browser: WebDriver, text: str) -> WebElement:
    """The first displayed element of text_xpath(text), once there is one."""
    located = expected_conditions.visibility_of_any_elements_located((By.XPATH, text_xpath(text)))
    return wait_for(browser, located, f"{text!r} is not visible")[0]


def still_and_clickable(xpath: str) -> Callable[[WebDriver], WebElement | bool]:
    """Expected condition: the first displayed element that matches xpath, once it is clickable (enabled)
    and still: no transition or animation runs in the page, and its box is where it was at the previous
    poll. A click while the menu animates lands beside the element or on another one."""
    last_box: dict[str, Any] | None = None

    def predicate(browser: WebDriver) -> WebElement | bool:
        nonlocal last_box
        shown = expected_conditions.visibility_of_any_elements_located((By.XPATH, xpath))(browser)
        element = shown[0] if shown else None
        box = element.rect if element is not None and element.is_enabled() else None
        still = box is not None and box == last_box and not browser.execute_script(ANIMATING)
        last_box = box
        return element if still else False

    return predicate


def click(browser: WebDriver, xpath: str) -> None:
    """Click the first displayed element that matches xpath, once it is clickable and still."""
    wait_for(browser, still_and_clickable(xpath), f"nothing clickable and still matches {xpath}").click()


def click_text(browser: WebDriver, text: str) -> None:
    """Click the first displayed element of text_xpath(text), once it is clickable and still."""
    click(browser, text_xpath(text))


def open_report(browser: WebDriver, report_html: Path) -> None:
    browser.get(report_html.as_uri())
    wait_for(browser, lambda page: page.execute_script(APP_READY), f"{report_html} did not render its app")


def open_first_result(browser: WebDriver, category: str) -> None:
    """Click the category in the menu, then the eye button of its first result; the result shows."""
    click_text(browser, category)
    click(browser, "//a[@iconname='eye']")
    wait_for_visible(browser, OPENED_RESULT)


def enter_result_frame(browser: WebDriver) -> None:
    """Switch into the frame of the HTML result the content pane shows."""
    browser.switch_to.frame(wait_for_visible(browser, "//iframe"))


def shown_image_size(browser: WebDriver) -> list[int]:
    """Natural width and height of the figure in the content pane, once it has loaded."""
    return wait_for(browser, lambda page: page.execute_script(FIGURE_SIZE), "no figure loaded")


def check_caption(browser: WebDriver, snippet: str) -> None:
    click(browser, "//a[@iconname='information-circle']")
    visible_text(browser, "Description")
    wait_for_visible(browser, f"//*[contains(@class, 'prose')]//*[contains(., '{snippet}')]")


def check_report_renders(report_html: Path, experiment: str, categories: list[str], proxies: list[str],
                         figure_category: str, screenshots: Path) -> None:
    """The report opens in headless Chromium with every category, the verdict page names each proxy,
    and the first figure of figure_category loads with a real size."""
    with headless_chromium(screenshots / "profile", screenshots / "chromedriver.log") as browser:
        open_report(browser, report_html)
        visible_text(browser, f"recipe-sandbox report: {experiment}")
        for category in categories:
            visible_text(browser, category)
        open_first_result(browser, "1. Verdict")
        enter_result_frame(browser)
        visible_text(browser, f"Verdict: {experiment}")
        for proxy in proxies:
            wait_for_visible(browser, f"//h2[starts-with(normalize-space(.), 'Proxy {proxy}')]")
        browser.switch_to.parent_frame()
        browser.save_screenshot(str(screenshots / "verdict.png"))
        click_text(browser, "Results")
        open_first_result(browser, figure_category)
        width, height = shown_image_size(browser)
        assert width > 200 and height > 100, (figure_category, width, height)
        browser.save_screenshot(str(screenshots / "figure.png"))
