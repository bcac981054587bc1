"""Free texts are capped wherever they are taken (issue 14, point 7): a 1,000,000-character reason or
note is refused by the page and by the service, and nothing is written."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.integration.models import ProcessNote
from kapstone.integration.services import write_process_note
from kapstone.policies.models import MonitoringPolicyVersion
from kapstone.policies.services import set_monitoring_policy
from kapstone.safety.models import AlertAcknowledgement
from kapstone.safety.services import acknowledge_alert, raise_alert

LONG = "x" * 1_000_000


def _counts() -> tuple[int, int, int, int]:
    return (
        AlertAcknowledgement.objects.count(),
        MonitoringPolicyVersion.objects.count(),
        ProcessNote.objects.count(),
        AuditEntry.objects.count(),
    )


def test_a_safety_acknowledgement_note_is_capped(clinic, as_role):
    alert = raise_alert(patient=clinic.on_team, reason="PHQ-9 item 9")
    client = as_role("therapist")  # signing in is audited: count after it
    before = _counts()
    with pytest.raises(InputError) as refused:
        acknowledge_alert(
            by=clinic.staff["therapist"], alert=alert, actions=["safety_plan"], note=LONG
        )
    assert "1,000,000 characters long; keep it to 2,000" in refused.value.errors["note"][0]
    url = reverse("safety:acknowledge", args=[clinic.on_team.pk, alert.pk])
    response = client.post(url, {"actions": ["safety_plan"], "note": LONG})
    assert response.status_code == 200
    assert "at most 2000 characters" in html.unescape(response.content.decode())
    assert _counts() == before


def test_a_policy_reason_is_capped(clinic, as_role):
    before = _counts()
    with pytest.raises(InputError) as refused:
        set_monitoring_policy(by=clinic.staff["medical_director"], overrides={}, reason=LONG)
    assert "keep it to 2,000" in refused.value.errors["reason"][0]
    assert _counts() == before


def test_a_process_note_is_capped_at_the_narrative_limit(clinic):
    before = _counts()
    with pytest.raises(InputError) as refused:
        write_process_note(by=clinic.staff["therapist"], patient=clinic.on_team, text=LONG)
    assert refused.value.errors["text"] == ["Keep the note to 20,000 characters."]
    assert _counts() == before
