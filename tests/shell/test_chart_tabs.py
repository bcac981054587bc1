"""The chart's tabs: each shown only to those its page lets in, so no tab leads to a refusal."""

from __future__ import annotations

import re

from django.urls import reverse

from kapstone.web.templatetags.chart import CHART_TABS


def _tabs(client, patient) -> list[str]:  # type: ignore[no-untyped-def]
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    nav = re.search(r'<nav class="tabs" aria-label="Chart sections">(.*?)</nav>', page, re.S)
    assert nav is not None
    return re.findall(r'href="([^"]+)"', nav.group(1))


def test_every_tab_shown_opens_and_every_tab_hidden_is_refused(clinic, as_role):
    for role in ("medical_director", "prescriber", "nurse", "therapist", "intake_coordinator"):
        client = as_role(role)
        shown = _tabs(client, clinic.on_team)
        assert shown, role
        for _, _, name in CHART_TABS:
            url = reverse(name, args=[clinic.on_team.pk])
            status = client.get(url).status_code
            assert (status == 200) == (url in shown), (role, url, status)


def test_the_intake_coordinator_sees_no_integration_tab(clinic, as_role):
    shown = _tabs(as_role("intake_coordinator"), clinic.on_team)
    assert reverse("integration:chart_tab", args=[clinic.on_team.pk]) not in shown
    assert reverse("intake:chart_tab", args=[clinic.on_team.pk]) in shown
