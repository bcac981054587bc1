"""A real browser: Debian's chromium driven by Playwright, with axe-core checking each page."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, chromium reaches for Google's hosts, which this network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is missing: run scripts/ensure-chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request, tmp_path):
    context = browser.new_context(viewport={"width": 1024, "height": 1366})  # a tablet, portrait
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda msg: (
            page.csp_violations.append(msg.text)
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None
        ),
    )
    yield page
    _keep_what_the_browser_showed(request, browser, tmp_path)
    context.close()


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _keep_what_the_browser_showed(request, browser, folder) -> None:
    """A failed browser test leaves each tab's address, text and a screenshot behind (the warnings
    summary names the folder): a failure on a loaded machine is seldom reproduced at will."""
    report = request.node.stash.get(_REPORTS, {}).get("call")
    if report is None or not report.failed:
        return
    tabs = [tab for context in browser.contexts for tab in context.pages]
    for n, tab in enumerate(tabs):
        try:
            tab.screenshot(path=folder / f"tab{n}.png", full_page=True)
            (folder / f"tab{n}.txt").write_text(f"{tab.url}\n\n{tab.inner_text('body')}")
        except Exception as exc:  # a crashed tab: say so, and keep the test's own failure
            (folder / f"tab{n}.txt").write_text(f"could not be read: {exc!r}")
    request.node.warn(pytest.PytestWarning(f"what each browser tab showed: {folder}"))


def assert_accessible(page) -> None:
    """No serious or critical axe-core violations on the page as it is now, and no CSP breach."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not bad, f"{page.url}: " + "; ".join(
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in bad
    )
    assert not page.csp_violations, page.csp_violations
