"""The trajectory viewer in a real headless browser (Debian's chromium driven by Playwright)."""

import shutil
from pathlib import Path

import pytest
from test_env import call, expert
from vista.evaluation import EvalConfig, evaluate
from vista.viewer import serve_in_background

playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the browser is Debian's)")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def crop_then_answer(obs):
    n = int(obs["example_id"].split("-")[1])
    if obs["turn"] == 0:
        return "<think>look closer</think>" + call("crop", bbox=[0, 0, 2, 2])
    question = obs["messages"][1]["content"][-1]["text"]
    value, factor = [int(w.strip(".")) for w in question.split() if w.strip(".").isdigit()][:2]
    return "<think>guess</think><answer>1</answer>" if n % 2 else f"<think>so</think><answer>{value * factor}</answer>"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_viewer_loads_filters_and_shows_a_trajectory(registry, tmp_path):
    evaluate(expert, EvalConfig(tasks=["multiply"], limit=3), tmp_path, registry=registry)
    evaluate(crop_then_answer, EvalConfig(tasks=["multiply"], limit=4, seed=100), tmp_path, registry=registry)
    server, url = serve_in_background(tmp_path)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector(".row")
            assert page.locator(".row").count() == 7
            assert "7 of 7" in page.inner_text("#count")
            page.select_option("#f-correct", "false")
            wrong = page.locator(".row").count()
            assert 0 < wrong < 7 and f"{wrong} of 7" in page.inner_text("#count")
            page.select_option("#f-correct", "")
            page.select_option("#f-tool", "crop")
            assert page.locator(".row").count() == 4
            page.locator(".row").first.click()
            page.wait_for_selector(".call")
            assert "crop" in page.inner_text(".call") and "valid" in page.inner_text(".call")
            images = page.locator("#detail img")
            assert images.count() >= 2  # the question's image and the crop the tool returned
            assert page.evaluate("document.querySelector('#detail img').naturalWidth") > 0
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "viewer.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
    assert (ARTIFACTS / "viewer.png").stat().st_size > 1000
