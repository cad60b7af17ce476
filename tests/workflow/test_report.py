"""`snakemake --report` after the tiny run: every figure and the verdict page are in the report with
their captions, and the report renders in headless Chromium, driven by Selenium (Debian's chromium and
chromium-driver, installed with apt-get when missing; that test is skipped, with the reason, only where
they cannot be installed: not root, or no apt-get)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from conftest import TINY_CONFIG, snakemake
from report_browser import (
    check_caption,
    click_text,
    embedded,
    enter_result_frame,
    headless_chromium,
    open_first_result,
    open_report,
    shown_image_size,
    visible_text,
    wait_for_visible,
)
from sandbox.summary.table import inline_html

OUT = f"results/{TINY_CONFIG['experiment']}"
CONFIG = "test-config.yaml"
# Menu entry -> what its first result's caption says (report/*.rst); the tiny run has no HPO.
CATEGORIES = {
    "1. Verdict": "The verdict table",
    "2. Held-out bpb": "paired interval over test",
    "3. Stats and thresholds": "k-sigma refinement",
    "4. Removals per operator": "first operator that rejects it",
    "5. Training curves": "Training curves of the GPT proxy",
}


@pytest.fixture(scope="module")
def report_html(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny run's report, written outside the run's folder (the run itself stays untouched)."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    result = snakemake(tiny_run, "--report", str(path), "--configfile", CONFIG, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return path


def test_report_has_every_figure_with_its_caption(tiny_run: Path, report_html: Path) -> None:
    html = report_html.read_text(encoding="utf-8")
    categories = embedded(html, "categories")
    results = embedded(html, "results")
    assert set(categories) == set(CATEGORIES), categories
    expected = {f"{OUT}/report/verdict.html", f"{OUT}/report/bpb_ngram.png", f"{OUT}/report/bpb_gpt.png",
                f"{OUT}/report/thresholds.png", f"{OUT}/report/removals/recipe.png",
                f"{OUT}/report/removals/k_sigma.png", f"{OUT}/report/loss_gpt.png"}
    assert set(results) == expected
    for path, result in results.items():
        assert result["caption"].strip(), f"{path} has no caption"
        assert result["data_uri"].startswith("data:"), f"{path} is not embedded"
    # captions are filled in from the config and the wildcards
    assert "k = 3" in results[f"{OUT}/report/thresholds.png"]["caption"]
    assert "proxies.gpt.variants" in results[f"{OUT}/report/bpb_gpt.png"]["caption"]
    assert "recipe-sandbox report: tiny" in html
    summary = json.loads((tiny_run / OUT / "summary.json").read_text())
    verdict = (tiny_run / OUT / "report/verdict.html").read_text(encoding="utf-8")
    for proxy in summary["proxies"].values():
        assert inline_html(proxy["verdict"]) in verdict  # code spans rendered as <code>
    # the first heading's next line is a verdict (the one summary.md opens with)
    first_line = summary["verdict"]["text"].splitlines()[0]
    assert verdict.split("</h1>", 1)[1].startswith(f"<p class='verdict'>{inline_html(first_line)}</p>")


def test_report_renders_in_headless_chromium(tiny_run: Path, report_html: Path, tmp_path: Path) -> None:
    summary = json.loads((tiny_run / OUT / "summary.json").read_text())
    with headless_chromium(tmp_path / "profile", tmp_path / "chromedriver.log") as browser:
        open_report(browser, report_html)
        visible_text(browser, "recipe-sandbox report: tiny")
        for category in CATEGORIES:
            visible_text(browser, category)
        browser.save_screenshot(str(tmp_path / "landing.png"))

        # The verdict page opens in a frame; its table names every variant of both proxies.
        open_first_result(browser, "1. Verdict")
        enter_result_frame(browser)
        visible_text(browser, "Verdict: tiny")
        for proxy in summary["proxies"]:
            wait_for_visible(browser, f"//h2[starts-with(normalize-space(.), 'Proxy {proxy}')]")
        # two proxies (where validation chose it, "k_sigma (selected)"), and the data table
        k_sigma_cells = ("//td[normalize-space(text())='k_sigma' "
                         "or normalize-space(text())='k_sigma (selected)']")
        assert len(browser.find_elements(By.XPATH, k_sigma_cells)) == 3
        browser.switch_to.parent_frame()
        browser.save_screenshot(str(tmp_path / "verdict.png"))
        check_caption(browser, CATEGORIES["1. Verdict"])

        for category, snippet in list(CATEGORIES.items())[1:]:
            click_text(browser, "Results")
            open_first_result(browser, category)
            width, height = shown_image_size(browser)
            assert width > 200 and height > 100, (category, width, height)
            check_caption(browser, snippet)
            if category == "2. Held-out bpb":
                browser.save_screenshot(str(tmp_path / "bpb.png"))
    print(f"screenshots in {tmp_path}")
