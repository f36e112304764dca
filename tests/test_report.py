"""Open the Snakemake report in headless Chromium, navigate to a brain map and check it renders."""

import shutil

import pytest
from conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = REPO / "tests" / "_output"


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_renders_with_its_images(tiny_run):
    from playwright.sync_api import sync_playwright

    _, report = tiny_run
    SCREENSHOTS.mkdir(exist_ok=True)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(report.as_uri())
        page.get_by_text("Results").first.click()
        page.get_by_text("simulated", exact=True).first.wait_for()
        page.get_by_text("neurolip attention", exact=True).click()
        row = page.locator("tr", has_text="neurolip_disease_attention_patient.png")
        row.first.locator("a").first.click()
        page.wait_for_function("Array.from(document.images).some(i => i.naturalWidth > 400)")
        widths = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
        page.screenshot(path=str(SCREENSHOTS / "report_brain_map.png"))
        page.get_by_text("Results").first.click()
        browser.close()
    assert max(widths) > 400
    assert not errors, errors
    assert (SCREENSHOTS / "report_brain_map.png").stat().st_size > 20_000
