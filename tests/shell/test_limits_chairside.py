"""Plausibility limits at the chair side (issue 14, point 7): the medication record refuses what it
once stored (a 99,999.99 mg dose, zero and negative concentrations and rates, a 1,000,000-character
reason), a dose far from the plan waits for a prescriber's decision, and typed numbers that used to
give 500s (superscripts, 5,000 digits) get a clear message. Each refusal stores nothing."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.chairside import services
from kapstone.chairside.models import (
    DissociationRating,
    DoseAdministration,
    DoseChangeDecision,
    VitalReading,
)
from kapstone.clinical.discharge import DischargeChecklist
from kapstone.errors import InputError
from tests.conftest import build_clinic, kept_for_the_module, refreshed
from tests.shell.chairside_support import at, ready_to_dose

HUGE = "9" * 5000


def _counts() -> tuple[int, int, int, int, int]:
    return (
        DoseAdministration.objects.count(),
        DoseChangeDecision.objects.count(),
        VitalReading.objects.count(),
        DissociationRating.objects.count(),
        AuditEntry.objects.count(),
    )


def _local(when) -> str:  # type: ignore[no-untyped-def]
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


@pytest.fixture(scope="module")
def _kept(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The clinic and its record, built once for the module's 27 cases; each case's own writes
    are rolled back at its end (kept_for_the_module)."""
    with kept_for_the_module(django_db_blocker):
        clinic = build_clinic()
        yield clinic, ready_to_dose(clinic)


@pytest.fixture
def clinic(_kept, db):  # type: ignore[no-untyped-def]
    return refreshed(_kept[0], _kept[1])


@pytest.fixture
def record(_kept, clinic):  # type: ignore[no-untyped-def]
    """IV, the plan's dose 35 mg (0.5 mg/kg x 70 kg), checklist passed, baseline charted."""
    return _kept[1]


# --- the service is the gate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "field", "says"),
    [
        ({"dose_mg": Decimal("99999.99")}, "dose_mg", "99999.99 mg is not plausible"),
        ({"dose_mg": Decimal("100.5")}, "dose_mg", "to 100 mg"),
        ({"concentration_mg_per_ml": Decimal(0)}, "concentration_mg_per_ml", "from 0.1 to 100"),
        ({"concentration_mg_per_ml": Decimal(-10)}, "concentration_mg_per_ml", "-10 mg/mL"),
        ({"rate_ml_per_hour": Decimal(0)}, "rate_ml_per_hour", "above 0 to 7500 mL/h"),
        ({"rate_ml_per_hour": Decimal(-5)}, "rate_ml_per_hour", "-5 mL/h is not plausible"),
        (
            {"dose_mg": Decimal(33), "change_reason": "x" * 1_000_000},
            "change_reason",
            "1,000,000 characters long; keep it to 2,000",
        ),
    ],
)
def test_an_implausible_dose_line_is_refused_and_nothing_is_written(
    clinic, record, given, field, says
):
    before = _counts()
    kwargs = {"dose_mg": Decimal(35), "started_at": at(record.session, 15)} | given
    with pytest.raises(InputError) as refused:
        services.give_dose(by=clinic.staff["nurse"], record=record, **kwargs)
    assert says in " ".join(refused.value.errors[field])
    assert _counts() == before


def test_the_dose_ceiling_cites_the_calculators_source(clinic, record):
    with pytest.raises(InputError) as refused:
        services.give_dose(
            by=clinic.staff["nurse"],
            record=record,
            dose_mg=Decimal("99999.99"),
            started_at=at(record.session, 15),
        )
    assert "The ceiling is §3 (unverified)." in refused.value.errors["dose_mg"][0]


def test_a_dose_far_from_the_plan_waits_for_the_prescribers_decision(clinic, record):
    nurse, prescriber = clinic.staff["nurse"], clinic.staff["prescriber"]
    start = at(record.session, 15)
    before = _counts()
    # A nurse's reason is not enough beyond 10% of the plan's 35 mg.
    with pytest.raises(InputError) as refused:
        services.give_dose(
            by=nurse, record=record, dose_mg=Decimal(50), change_reason="Asked", started_at=start
        )
    assert "a prescriber must first document the decision" in refused.value.errors["dose_mg"][0]
    # Only a prescriber decides; a change within 10% needs no decision; the ceiling still holds.
    with pytest.raises(InputError, match="Only a prescriber"):
        services.decide_dose_change(by=nurse, record=record, dose_mg=Decimal(50), rationale="Ok")
    with pytest.raises(InputError, match="within 10%"):
        services.decide_dose_change(
            by=prescriber, record=record, dose_mg=Decimal(37), rationale="Small"
        )
    with pytest.raises(InputError, match="not plausible"):
        services.decide_dose_change(
            by=prescriber, record=record, dose_mg=Decimal(150), rationale="Big"
        )
    with pytest.raises(InputError) as refused:
        services.decide_dose_change(
            by=prescriber, record=record, dose_mg=Decimal(50), rationale="y" * 2001
        )
    assert list(refused.value.errors) == ["rationale"]
    assert _counts() == before

    decision = services.decide_dose_change(
        by=prescriber,
        record=record,
        dose_mg=Decimal(50),
        rationale="Partial response at 0.5 mg/kg last course; 0.7 mg/kg today.",
    )
    decided = AuditEntry.objects.get(action="chairside.dose_change_decided")
    assert decided.actor == prescriber and decided.after["dose_mg"] == "50"
    # The decision covers exactly that dose.
    with pytest.raises(InputError, match="a prescriber must first document"):
        services.give_dose(
            by=nurse, record=record, dose_mg=Decimal(52), change_reason="x", started_at=start
        )
    dose = services.give_dose(
        by=nurse,
        record=record,
        dose_mg=Decimal(50),
        change_reason="Prescriber's decision",
        started_at=start,
    )
    given = AuditEntry.objects.get(action="chairside.dose_given")
    assert dose.dose_mg == Decimal(50) and given.after["dose_change_decision"] == decision.pk


# --- through the console, signed in as the nurse --------------------------------------------------


def _dose_url(record) -> str:  # type: ignore[no-untyped-def]
    kwargs = {"patient_id": record.session.patient_id, "session_id": record.session_id}
    return reverse("chairside:dose", kwargs=kwargs)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ({"d-dose_mg": "99999.99"}, "99999.99 mg is not plausible"),
        ({"d-dose_mg": "3²"}, "Enter the dose in mg, e.g. 34.5."),
        ({"d-dose_mg": "٣٥"}, "Enter the dose in mg, e.g. 34.5."),
        ({"d-dose_mg": HUGE}, "That is too long for the dose in mg."),
        ({"d-concentration_mg_per_ml": "0"}, "must be from 0.1 to 100 mg/mL"),
        ({"d-concentration_mg_per_ml": "-10"}, "cannot be negative"),
        ({"d-rate_ml_per_hour": "0"}, "must be above 0 to 7500 mL/h"),
        ({"d-rate_ml_per_hour": "¹²"}, "Enter the rate in mL/h, e.g. 60."),
        (
            {"d-dose_mg": "33", "d-change_reason": "x" * 1_000_000},
            "at most 2000 characters",
        ),
    ],
)
def test_the_dose_form_refuses_with_a_clear_message_and_stores_nothing(
    clinic, record, as_role, typed, says
):
    client = as_role("nurse")
    before = _counts()
    data = {"d-dose_mg": "35", "d-started_at": _local(at(record.session, 15))} | typed
    response = client.post(_dose_url(record), data)
    assert response.status_code == 200
    assert says in _page(response)
    assert _counts() == before


def test_the_dose_form_far_from_the_plan_points_to_the_prescriber(clinic, record, as_role):
    client = as_role("nurse")
    before = _counts()
    response = client.post(
        _dose_url(record),
        {
            "d-dose_mg": "50",
            "d-change_reason": "Asked for more",
            "d-started_at": _local(at(record.session, 15)),
        },
    )
    assert response.status_code == 200
    assert "a prescriber must first document the decision" in _page(response)
    assert _counts() == before


def test_the_prescriber_documents_the_dose_change_on_its_page(clinic, record, as_role):
    kwargs = {"patient_id": record.session.patient_id, "session_id": record.session_id}
    url = reverse("chairside:dose_change", kwargs=kwargs)
    assert as_role("nurse").get(url).status_code == 403
    client = as_role("prescriber")
    page = _page(client.get(url))
    assert "The signed plan's dose for this session: <strong>35 mg</strong>" in page
    before = _counts()
    response = client.post(url, {"dose_mg": "5²", "rationale": "Because"})
    assert response.status_code == 200 and "Enter the dose in mg, e.g. 34.5." in _page(response)
    assert _counts() == before
    response = client.post(url, {"dose_mg": "50", "rationale": "Partial response last course"})
    assert response.status_code == 302
    assert DoseChangeDecision.objects.get().prescriber == clinic.staff["prescriber"]


@pytest.mark.parametrize("typed", ["²", "1²0", HUGE])
def test_vitals_and_ratings_typed_oddly_are_refused_not_500(clinic, record, as_role, typed):
    client = as_role("nurse")
    kwargs = {"patient_id": record.session.patient_id, "session_id": record.session_id}
    when = _local(at(record.session, 20))
    before = _counts()
    response = client.post(
        reverse("chairside:vitals", kwargs=kwargs),
        {
            "v-taken_at": when,
            "v-systolic": typed,
            "v-diastolic": "80",
            "v-heart_rate": "70",
            "v-spo2": "98",
            "v-respiratory_rate": "14",
            "v-sedation": "alert",
        },
    )
    assert response.status_code == 200
    assert "Systolic" in _page(response) or "systolic" in _page(response)
    response = client.post(
        reverse("chairside:dissociation", kwargs=kwargs),
        {"c-scale": "cadss_6", "c-score": typed, "c-taken_at": when},
    )
    assert response.status_code == 200
    response = client.post(
        reverse("chairside:stop_dose", kwargs=kwargs),
        {"s-dose": typed, "s-stopped_at": when},
    )
    assert response.status_code == 200
    assert _counts() == before


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("chairside:checklist", {"identity_confirmed": "on"}, "note"),
        ("chairside:strike", {"reading": "baseline"}, "reason"),
        ("chairside:discharge", {}, "override_reason"),
    ],
)
def test_free_texts_are_capped_on_every_chairside_form(clinic, record, as_role, url, data, field):
    client = as_role("nurse")
    kwargs = {"patient_id": record.session.patient_id, "session_id": record.session_id}
    if url == "chairside:discharge":  # the discharge form shows once a dose is charted
        services.give_dose(
            by=clinic.staff["nurse"],
            record=record,
            dose_mg=Decimal(35),
            started_at=at(record.session, 15),
            stopped_at=at(record.session, 55),
        )
    if data.get("reading") == "baseline":
        data = {"reading": str(VitalReading.objects.get(record=record).pk)}
    before = _counts()
    response = client.post(reverse(url, kwargs=kwargs), data | {field: "x" * 1_000_000})
    assert response.status_code == 200
    assert "at most 2000 characters" in _page(response)
    assert _counts() == before


def test_the_services_cap_free_texts_too(clinic, record):
    nurse = clinic.staff["nurse"]
    long = "x" * 1_000_000
    before = _counts()
    for call in (
        lambda: services.answer_checklist(
            by=nurse,
            record=record,
            identity_confirmed=True,
            fasting_confirmed=True,
            escort_confirmed=True,
            note=long,
        ),
        lambda: services.strike_vital(by=nurse, reading=VitalReading.objects.first(), reason=long),
        lambda: services.record_adverse_event(
            by=nurse,
            record=record,
            kind="other",
            severity="mild",
            action=long,
            onset_at=at(record.session, 20),
            sedation="",
            description="y" * 301,
        ),
        lambda: services.discharge(
            by=nurse,
            record=record,
            checklist=DischargeChecklist(True, True, True, True, True),
            override_reason=long,
        ),
    ):
        with pytest.raises(InputError) as refused:
            call()
        assert any(
            "1,000,000 characters" in m or "300 characters" in m
            for messages in refused.value.errors.values()
            for m in messages
        ), refused.value.errors
    assert _counts() == before
