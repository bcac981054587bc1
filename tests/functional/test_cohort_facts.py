"""The medical director filters the demo clinic's cohort by route and reads the durability curve.

The demo's history patients were treated before plans were kept: their sessions were booked
without a route, and the route is on each chair-side record. Filtering by that route must count
them (it counted none), and the durability plot shows, under its axis, how many responders are
still followed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kapstone.chairside.models import ChairsideRecord
from kapstone.clinical.routes import Route
from kapstone.cohorts.dashboard import cohort_dashboard
from kapstone.cohorts.forms import default_period
from kapstone.demo.generator import DEMO_PASSWORD, build_demo_clinic
from tests.functional.conftest import assert_accessible

pytestmark = pytest.mark.functional


def test_director_filters_by_route_and_sees_numbers_at_risk(live_server, page, settings):
    settings.DEMO_MODE = True  # the demo clinic's accounts sign in without a second factor
    now = timezone.now()
    build_demo_clinic(patients=14, seed=2026, today=timezone.localdate(now), history_until=now)
    route = Route(ChairsideRecord.objects.values_list("route", flat=True).first())
    start, end = default_period(timezone.localdate())
    everyone = cohort_dashboard(start=start, end=end, now=timezone.now())
    assert everyone.started >= 3 and everyone.responders_followed >= 1

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("director")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Cohort outcomes").click()
    page.get_by_role("heading", name="Cohort dashboard").wait_for()
    started = int(page.locator("#started").inner_text())
    assert started == everyone.started

    # The durability curve: numbers at risk under the axis, the first being everyone followed.
    chart = page.locator("#durability svg.kapstone-chart")
    chart.wait_for()
    texts = [t.strip() for t in chart.locator("text").all_text_contents()]
    assert "At risk" in texts
    assert str(everyone.responders_followed) in texts
    assert "at risk" in page.locator("#durability figcaption").inner_text() or (
        "followed" in page.locator("#durability figcaption").inner_text()
    )

    # The route charted at the chair side counts: the filter keeps that route's courses.
    by_route = cohort_dashboard(start=start, end=end, route=route.value, now=timezone.now())
    assert 0 < by_route.started <= started
    page.get_by_label("Route", exact=True).select_option(label=route.label)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**route={route.value}**")
    assert int(page.locator("#started").inner_text()) == by_route.started
    breakdown = page.locator("table", has_text="Route").first
    assert route.label in breakdown.inner_text()
    assert_accessible(page)
