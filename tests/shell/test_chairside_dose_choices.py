"""The console's dose form charts on the draw and with the witness the nurse picked, from those it
offered (the session's open draws, the site's other clinical staff); anything else is refused by the
form and stores nothing."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.chairside.models import DoseAdministration
from tests.shell.chairside_support import at, draw_for, ready_to_dose


def _post_dose(client, record, **chosen):  # type: ignore[no-untyped-def]
    url = reverse(
        "chairside:dose",
        kwargs={"patient_id": record.session.patient_id, "session_id": record.session_id},
    )
    started = timezone.localtime(at(record.session, 15)).strftime("%Y-%m-%dT%H:%M")
    data = {"d-dose_mg": "35", "d-started_at": started}
    return client.post(url, data | {f"d-{k}": str(v) for k, v in chosen.items()})


@pytest.fixture
def record(clinic):  # type: ignore[no-untyped-def]
    """IV, the plan's dose 35 mg, checklist passed, baseline charted, one open draw."""
    return ready_to_dose(clinic)


def test_the_dose_is_charted_on_the_chosen_draw_with_the_chosen_witness(clinic, record, as_role):
    second = draw_for(record)
    prescriber = clinic.staff["prescriber"]
    response = _post_dose(
        as_role("nurse"), record, ledger_entry=second.seq, witnessed_by=prescriber.pk
    )
    assert response.status_code == 302
    given = AuditEntry.objects.get(action="chairside.dose_given")
    assert given.after["draw"] == second.seq
    assert given.after["witnessed_by"] == prescriber.pk
    assert DoseAdministration.objects.get().witnessed_by == prescriber


@pytest.mark.parametrize("field", ["ledger_entry", "witnessed_by"])
def test_a_draw_or_witness_the_form_did_not_offer_is_refused(clinic, record, as_role, field):
    # The nurse cannot witness her own dose; entry #999999 is no draw of this session.
    chosen = {"ledger_entry": 999_999, "witnessed_by": clinic.staff["nurse"].pk}[field]
    response = _post_dose(as_role("nurse"), record, **{field: chosen})
    assert response.status_code == 200
    assert "Select a valid choice" in html.unescape(response.content.decode())
    assert not DoseAdministration.objects.exists()
