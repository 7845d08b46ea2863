"""A headless Chromium, driven by Playwright, for the chart sources that draw in a browser (`render_plotly`,
`render_bokeh`): the Chromium already on the machine (Debian's `chromium`), started once, offline (Playwright downloads
no browser and the pages load no URL), with one page per device scale holding the scripts a source needs.

    with HeadlessChromium() as chromium:
        page = chromium.page(1.5, scripts=[plotly_js])
        page.evaluate(...)

Needs `playwright` and a Chromium on the machine.
"""

from __future__ import annotations

import shutil


class HeadlessChromium:
    """A headless Chromium started once; `page(scale, scripts)` gives a page with `scripts` run in it, drawn at
    `scale` device pixels per CSS pixel, made on first use and kept. A context manager."""

    def __init__(self, executable: str | None = None, needs: str = "pip install playwright"):
        self.executable = executable or shutil.which("chromium") or "/usr/bin/chromium"
        self._needs = needs
        self._pages: dict[float, object] = {}

    def __enter__(self) -> HeadlessChromium:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise ImportError(f"drawing charts in a browser needs playwright and a chromium on the machine: "
                              f"{self._needs}") from exc
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=self.executable, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
        except Exception:
            self._playwright.stop()
            raise
        return self

    def page(self, scale: float = 1.0, scripts: list[str] | tuple[str, ...] = (), body: str = ""):
        """The page for device scale `scale`: on first use an HTML page of `body` with each of `scripts` run in it."""
        if scale not in self._pages:
            page = self._browser.new_page(device_scale_factor=scale)
            page.set_content(f"<html><body style='margin:0'>{body}</body></html>")
            for script in scripts:
                page.add_script_tag(content=script)
            self._pages[scale] = page
        return self._pages[scale]

    def __exit__(self, *exc) -> None:
        self._pages.clear()
        self._browser.close()
        self._playwright.stop()
