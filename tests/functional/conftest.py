"""A real browser: Debian's chromium driven by Playwright, with axe-core checking each page."""

from __future__ import annotations

import base64
import shutil

import pytest

CHROMIUM_ARGS = [
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

    # Debian's chromium-headless-shell (the same chromium, built without the windowed browser's
    # layers) drives the same journeys for about a sixth less CPU than chromium in --headless=new;
    # chromium alone still serves.
    shell = shutil.which("chromium-headless-shell")
    executable = shell or shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is missing: run scripts/ensure-chromium")
    args = CHROMIUM_ARGS if shell else ["--headless=new", *CHROMIUM_ARGS]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=args)
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


@pytest.fixture
def daytime(settings) -> str:
    """The clinic's zone, for a journey whose sessions must lie within today's clinic hours: one
    where it is now daytime (tests.conftest.daytime_zone), so that the journey runs at any hour of
    the day instead of skipping near local midnight. The live server runs in the test's process and
    reads the same setting; the pages carry no script that reads the tablet's own zone (the server
    renders every time), so the browser's zone does not enter."""
    from tests.conftest import daytime_zone

    settings.TIME_ZONE = daytime_zone()
    return settings.TIME_ZONE


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


def signed_in(page, base: str, username: str, secret: str) -> None:
    """``page``'s browser context is signed in as ``username``, second factor passed with the
    authenticator whose key is ``secret``, and shows the home page: the session is made the way
    tests/conftest.py's verified_client makes one and handed to the browser as its cookie.

    For journeys that are not about signing in: typing the form and the TOTP code costs four
    requests and pages per tablet. Signing in through the form stays walked, page by page, where it
    is the subject (test_first_sign_in_and_registry, test_kiosk, test_companion_accounts).
    """
    from django.conf import settings
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kapstone.accounts.models import StaffUser

    user = StaffUser.objects.get(username=username)
    client = Client()
    client.force_login(user)
    session = client.session
    device = next(
        d
        for d in TOTPDevice.objects.filter(user=user, confirmed=True)
        if base64.b32encode(bytes.fromhex(d.key)).decode().rstrip("=") == secret
    )
    session["otp_device_id"] = device.persistent_id
    session.save()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base}]
    )
    page.goto(f"{base}/")
    page.get_by_role("button", name="Sign out").wait_for()


def assert_accessible(page) -> None:
    """No serious or critical axe-core violations on the page as it is now, and no CSP breach."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not bad, f"{page.url}: " + "; ".join(
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in bad
    )
    assert not page.csp_violations, page.csp_violations
