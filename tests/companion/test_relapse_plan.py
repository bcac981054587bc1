"""The patient reads their relapse-prevention plan from the signed treatment plan, with the clinic's
crisis resources first; before a plan is signed, the page says so kindly."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kapstone.audit.models import AuditEntry
from tests.companion.support import make_account, patient_client
from tests.shell.chairside_support import signed_plan_for
from tests.shell.plans_support import RELAPSE, draft_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(clinic):
    return make_account(patient=clinic.on_team, by=clinic.staff["prescriber"])


def test_the_signed_plan_is_shown_in_plain_words_with_the_crisis_lines_first(
    client, clinic, account, settings
):
    settings.CRISIS_LINE_CALL = "988"
    signed_plan_for(clinic)
    page = patient_client(client, account).get(reverse("companion:relapse_plan"))
    body = page.content.decode()
    assert page.status_code == 200
    for text in (RELAPSE.warning_signs, RELAPSE.actions, RELAPSE.supports):
        assert text.replace("'", "&#x27;") in body
    assert body.index('href="tel:988"') < body.index("Signs that low mood")
    assert "<form" not in body.split('id="main"')[1].split("</main>")[0]  # read-only
    assert AuditEntry.objects.filter(
        action="companion.relapse_plan_viewed", actor_label=account.audit_label
    ).exists()


def test_a_draft_plan_is_not_shown_and_the_patient_is_told_kindly(client, clinic, account):
    draft_plan(clinic.on_team, clinic.staff["prescriber"])
    body = patient_client(client, account).get(reverse("companion:relapse_plan")).content.decode()
    assert "Your plan is not ready yet" in body
    assert RELAPSE.actions not in body
