"""At 1024 px (a tablet) and 1280 px (a laptop), the chart's tabs and the scheduling grid either
fit or scroll where the user can see that they do: nothing is cut off or pushed out of sight.

The check walks every element of the page: the page itself must not be wider than the window,
and an element whose content is wider than its box must scroll (overflow auto or scroll) and show
that it does (the scroll shadow of ``.table-wrap``): an element that clips (hidden, clip) or
scrolls with no sign of it hides what a nurse cannot then find. (Playwright's headless chromium
hides scrollbars, so the shadow is what is checked.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kapstone.demo.generator import DEMO_PASSWORD, build_demo_clinic
from kapstone.timetable import selectors, services
from kapstone.timetable.models import RunStatus
from kapstone.timetable.tasks import solve_schedule

pytestmark = pytest.mark.functional

WIDTHS = (1024, 1280)

HIDDEN_OVERFLOW = """() => {
  const problems = [];
  const page = document.scrollingElement;
  if (page.scrollWidth > window.innerWidth + 1) {
    const beyond = [...document.querySelectorAll("body *")].filter(
      (el) => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.firstElementChild
    ).slice(0, 3).map(
      (el) => `${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 40)}"`
    );
    problems.push(`the page is ${page.scrollWidth} px wide in a ${window.innerWidth} px window: ${beyond}`);
  }
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".visually-hidden") || el.scrollWidth <= el.clientWidth + 1) continue;
    const style = getComputedStyle(el);
    const x = style.overflowX;
    if (x === "visible") continue;  // it spills, and the page-width check above sees that
    const scrolls = x === "auto" || x === "scroll";
    if (scrolls && /gradient/.test(style.backgroundImage)) continue;  // scrolls, visibly
    const name = el.tagName.toLowerCase() + (el.className ? "." + el.className : "");
    problems.push(`${name} hides ${el.scrollWidth - el.clientWidth} px (overflow-x: ${x})`);
  }
  return problems;
}"""


def _sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()


def test_chart_tabs_and_the_scheduling_grid_fit_or_scroll_visibly(live_server, page, settings):
    settings.DEMO_MODE = True  # the demo clinic's accounts sign in without a second factor
    settings.SCHEDULE_TIME_LIMIT_SECONDS = 3
    clinic = build_demo_clinic(
        patients=4, seed=3, today=timezone.localdate(), history_until=timezone.now()
    )
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    pending = [p.patient.pk for p in selectors.pending_plans() if p.selectable]
    run = services.start_run(
        by=clinic.staff["intake"], starts_on=monday, weeks=2, patient_ids=pending
    )
    assert solve_schedule.call(run.pk) == RunStatus.DONE
    patient = clinic.patients[0]

    _sign_in(page, live_server.url, "director")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/patients/{patient.pk}/")
        tabs = page.get_by_role("navigation", name="Chart sections")
        tabs.wait_for()
        problems = page.evaluate(HIDDEN_OVERFLOW)
        assert problems == [], f"chart at {width} px: {problems}"
        # Every tab can be reached: none lies outside the window.
        for link in tabs.get_by_role("link").all():
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width

        for view in ("", "?view=staff"):
            page.goto(f"{live_server.url}/schedule/runs/{run.pk}/{view}")
            page.get_by_role("region", name="Proposed sessions", exact=False).first.wait_for()
            assert page.evaluate(HIDDEN_OVERFLOW) == [], f"schedule grid{view} at {width} px"
