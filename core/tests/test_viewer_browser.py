"""The trajectory viewer in a real headless browser (Debian's chromium driven by Playwright)."""

import shutil
from pathlib import Path

import pytest
from test_env import call, expert
from vista.evaluation import EvalConfig, evaluate
from vista.report import write_reports
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


needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="Debian's chromium is not installed (.ci/run installs it)")


def launch(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=[
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"])


@needs_chromium
def test_viewer_loads_filters_and_shows_a_trajectory(registry, tmp_path):
    evaluate(expert, EvalConfig(tasks=["multiply"], limit=3), tmp_path, registry=registry)
    evaluate(crop_then_answer, EvalConfig(tasks=["multiply"], limit=4, seed=100), tmp_path, registry=registry)
    server, url = serve_in_background(tmp_path)
    try:
        with playwright.sync_playwright() as p:
            browser = launch(p)
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
            # each tool output once (in its call, not again as the tool message), the system prompt folded
            assert page.inner_text("#detail").count("<tool_response>") == 0
            assert page.locator("#detail details summary").first.inner_text() == "system prompt"
            assert not page.locator("#detail details").first.evaluate("d => d.open")
            page.select_option("#f-tool", "")
            page.select_option("#sort", "reward+")
            rewards = [float(r.split("reward ")[1].split(" ")[0]) for r in page.locator(".row small").all_inner_texts()]
            assert rewards == sorted(rewards, reverse=True) and len(rewards) == 7
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "viewer.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
    assert (ARTIFACTS / "viewer.png").stat().st_size > 1000


@needs_chromium
def test_the_html_report_renders_tables_and_links_each_episode_to_the_viewer(registry, tmp_path):
    results = evaluate(crop_then_answer, EvalConfig(tasks=["multiply"], limit=4, seed=100), tmp_path,
                       registry=registry)
    paths = write_reports(tmp_path, results)
    server, url = serve_in_background(tmp_path, port=0)
    try:
        with playwright.sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page()
            page.goto(paths["html"].resolve().as_uri())
            assert page.locator("pre").count() == 0 and page.locator("table").count() >= 4
            header = page.locator("table").first.locator("th").all_inner_texts()
            assert header[:2] == ["run", "multiply"] and page.locator("svg").count() >= 3
            cell = page.locator("table").first.locator("td").nth(1)
            assert cell.inner_text() == f"{100 * results['per_task']['multiply']['accuracy']:.1f}"
            box = cell.bounding_box()
            assert box is not None and box["width"] > 10 and box["height"] > 10  # laid out as a table cell
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
            link = page.locator("details a").nth(2)
            href = link.get_attribute("href")
            assert href.startswith("http://127.0.0.1:8765/#run=") and results["episodes"][2]["id"] in href
            viewer = browser.new_page()  # the link, on the viewer this test serves on another port
            viewer.goto(href.replace("http://127.0.0.1:8765", url))
            viewer.wait_for_selector(".call")
            episode = results["episodes"][2]
            assert f"{episode['task']} / {episode['example_id']}" in viewer.inner_text("#detail h2")
            browser.close()
    finally:
        server.shutdown()
    assert (ARTIFACTS / "report.png").stat().st_size > 1000


@needs_chromium
def test_a_report_link_opens_that_runs_episode_in_a_viewer_started_on_the_folder_above(registry, tmp_path):
    """As the README has it: `vista view <training run>` shows every evaluation below it, and a link in one
    evaluation's report.html opens that evaluation's episode, not the one at the same position in another."""
    run = tmp_path / "runs" / "vista-train"
    first = evaluate(expert, EvalConfig(tasks=["multiply"], limit=4), run / "eval" / "bc", registry=registry)
    write_reports(run / "eval" / "bc", first)
    second = evaluate(crop_then_answer, EvalConfig(tasks=["multiply"], limit=4, seed=100), run / "eval" / "bc_grpo",
                      registry=registry)
    report = write_reports(run / "eval" / "bc_grpo", second)["html"]
    elsewhere = tmp_path / "elsewhere"
    evaluate(expert, EvalConfig(tasks=["multiply"], limit=1), elsewhere, registry=registry)
    servers = {name: serve_in_background(root) for name, root in
               {"above": run, "the run": run / "eval" / "bc_grpo", "elsewhere": elsewhere}.items()}
    try:
        with playwright.sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page()
            page.goto(report.resolve().as_uri())
            page.locator("details summary").click()
            link = page.locator("details a").nth(1)
            wanted = second["episodes"][1]
            assert link.inner_text() == f"{wanted['task']} / {wanted['example_id']}"
            for name in ("above", "the run"):
                viewer = browser.new_page()
                viewer.goto(link.get_attribute("href").replace("http://127.0.0.1:8765", servers[name][1]))
                viewer.wait_for_selector("#detail h2")
                assert f"{wanted['task']} / {wanted['example_id']}" in viewer.inner_text("#detail h2"), name
                assert "crop" in viewer.inner_text("#detail"), name  # bc_grpo's episode: it called crop; bc's did not
                viewer.locator(".row").first.click()  # a row's own address is the same scheme, shareable
                assert "#run=" in viewer.url and "&episode=" in viewer.url
            viewer = browser.new_page()
            viewer.goto(link.get_attribute("href").replace("http://127.0.0.1:8765", servers["elsewhere"][1]))
            viewer.wait_for_selector("#missing")
            assert f"vista view {(run / 'eval' / 'bc_grpo').resolve()}" in viewer.inner_text("#missing")
            browser.close()
    finally:
        for server, _ in servers.values():
            server.shutdown()
