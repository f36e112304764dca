"""Open the Snakemake report in headless Chromium: its first screen shows the results at a glance above the job
graph, its sections come in reading order, and a brain map renders."""

import json
import re
import shutil

import pytest
from conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = REPO / "tests" / "_output"


FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# the report's sections in reading order (workflow/rules/common.smk, REPORT_SECTIONS)
READING_ORDER = ["At a glance", "Tables", "Classification", "Fairness", "Brain maps", "neurolip attention"]


@pytest.mark.slow
def test_report_sections_are_numbered_in_reading_order(tiny_run):
    _, report = tiny_run
    categories = json.loads(re.search(r"var categories = (.*?);\n", report.read_text(), re.S).group(1))
    sections = sorted(categories["simulated"])  # the order Snakemake's menu lists them in
    assert sections[0] == "01 At a glance" and sections[-1] == "11 Data"
    names = [re.sub(r"^\d\d ", "", name) for name in sections]
    assert [n for n in names if n in READING_ORDER] == READING_ORDER


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_opens_on_the_results_at_a_glance_above_the_job_graph(tiny_run):
    from playwright.sync_api import sync_playwright

    results, report = tiny_run
    SCREENSHOTS.mkdir(exist_ok=True)
    lines = (results / "summary.md").read_text().splitlines()
    methods = sum(line.startswith("| ") for line in lines) - 1  # the table's rows less its header
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(report.as_uri())
        table = page.locator("table.glance")
        table.wait_for()
        page.locator("div#rulegraph").wait_for(state="attached")
        rows = table.locator("tbody tr").count()
        first_row = table.locator("tbody tr").first.bounding_box()
        table_box, graph_box = table.bounding_box(), page.locator("div#rulegraph").bounding_box()
        page.screenshot(path=str(SCREENSHOTS / "report_first_screen.png"))
        browser.close()
    assert rows == methods > 0
    assert first_row["y"] + first_row["height"] <= 900  # the table starts on the first screen
    assert graph_box["y"] >= table_box["y"] + table_box["height"]  # the job graph below it


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_renders_with_its_images(tiny_run):
    from playwright.sync_api import sync_playwright

    _, report = tiny_run
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(report.as_uri())
        page.get_by_text("Results").first.click()
        page.get_by_text("simulated", exact=True).first.wait_for()
        page.get_by_text("06 neurolip attention", exact=True).click()
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
