"""Where a course's route, modalities, presenting conditions and treatment resistance come from,
on small hand-built cohorts, counted both ways (from the records and from the kept summaries).

Courses here have no signed plan and sessions booked without a route, as a patient treated before
plans were kept (or the demo's history patients): the route is then the one charted at the chair
side and the modalities those of the integration sessions held. Today's code said "Not recorded"
for all of them and the route filter found no course."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kapstone.clinical.cohort import Dimension
from kapstone.cohorts import summaries
from kapstone.cohorts.dashboard import cohort_dashboard
from kapstone.dosing.services import book_dosing_session
from kapstone.integration.services import book_integration_session
from tests.conftest import make_patient
from tests.shell import cohort_support
from tests.shell.intake_support import complete_intake, eligible_sections, signed_eligibility_for


def _chart_route(session, nurse, route: str) -> None:
    """The chair-side record of a session given by ``route`` (the chairside services are tested
    in their app; here only the route it records matters)."""
    from kapstone.chairside.models import ChairsideRecord, DoseAdministration

    record = ChairsideRecord.objects.create(
        session=session,
        opened_at=session.starts_at,
        opened_by=nurse,
        route=route,
        protocol_id="test",
        policy_version="test",
        checklist_policy_version="test",
    )
    DoseAdministration.objects.create(
        record=record,
        dose_mg=Decimal("35"),
        route=route,
        started_at=session.starts_at,
        given_by=nurse,
        recorded_by=nurse,
        recorded_at=session.starts_at,
    )


def _one_trial_episode() -> dict[str, object]:
    episode = eligible_sections()["episode"]
    episode["current_episode"]["antidepressant_trials"] = episode["current_episode"][  # type: ignore[index]
        "antidepressant_trials"
    ][:1]
    return episode


@pytest.fixture(params=["records", "summaries"])
def facts_cohort(request, clinic):
    """Q1: IM at the chair side, IFS integration, an intake for major depression screened as
    treatment-resistant. Q2: IV at the chair side, EMDR and IFS integration, generalised anxiety
    and major depression, one failed trial (not resistant). Q3: IV, no integration, no intake.
    Each has two doses, 2 days apart, 40 days ago; PHQ-9 20 before, 8 after (a responder)."""
    nurse, prescriber = clinic.staff["nurse"], clinic.staff["prescriber"]
    now = timezone.now()
    start = timezone.localdate(now) - dt.timedelta(days=40)
    plan = {
        "Q1": ("im", ("ifs",)),
        "Q2": ("iv", ("emdr", "ifs")),
        "Q3": ("iv", ()),
    }
    for number, (name, (route, modalities)) in enumerate(plan.items(), start=1):
        patient = make_patient(
            by=clinic.staff["intake_coordinator"],
            mrn=f"FCT-{number:03d}",
            site=clinic.sites[0],
            given_name=f"Facts{number}",
            prescriber=prescriber,
            therapist=clinic.staff["therapist"],
            nurse=nurse,
        )
        booked = cohort_support.at(start, -7, 10)
        for day in (0, 2):
            session = book_dosing_session(
                by=nurse,
                patient=patient,
                starts_at=cohort_support.at(start, day, 9),
                site=clinic.sites[0],
                now=booked,
            )
            assert session.route == ""  # booked without a route, no signed plan
            _chart_route(session, nurse, route)
        for i, modality in enumerate(modalities):
            book_integration_session(
                by=None,
                patient=patient,
                starts_at=cohort_support.at(start, 1 + i, 14),
                therapist=clinic.staff["therapist"],
                modality=modality,
                now=booked,
            )
        if name == "Q1":
            signed_eligibility_for(patient, prescriber)
        elif name == "Q2":
            complete_intake(
                patient,
                prescriber,
                conditions={"presenting_conditions": ["major_depression", "generalised_anxiety"]},
                episode=_one_trial_episode(),
            )
            from kapstone.intake.services import screen

            screen(by=prescriber, patient=patient)
        cohort_support.take_phq9(patient, 20, cohort_support.at(start, -2), nurse)
        cohort_support.take_phq9(patient, 8, cohort_support.at(start, 3), nurse)
    return {"path": request.param, "start": start, "now": timezone.now()}


def _dashboard(c, **filters):
    if c["path"] == "summaries":
        summaries.bring_up_to_date(instrument="phq9", now=c["now"])
        assert summaries.is_current(instrument="phq9", now=c["now"])
    return cohort_dashboard(
        start=c["start"] - dt.timedelta(days=1),
        end=c["start"] + dt.timedelta(days=1),
        now=c["now"],
        **filters,
    )


def _groups(d, dimension):
    return {r.group: r.patients for r in d.breakdown(dimension).rows}


def test_route_comes_from_the_chair_side_when_no_plan_names_it(facts_cohort):
    d = _dashboard(facts_cohort)
    assert d.started == 3
    assert _groups(d, Dimension.ROUTE) == {"im": 1, "iv": 2}
    assert _dashboard(facts_cohort, route="im").started == 1
    assert _dashboard(facts_cohort, route="iv").started == 2
    assert _dashboard(facts_cohort, route="intranasal_esketamine").started == 0


def test_modalities_come_from_the_integration_sessions_held(facts_cohort):
    d = _dashboard(facts_cohort)
    assert _groups(d, Dimension.MODALITY) == {"ifs": 2, "emdr": 1, "": 1}
    assert _dashboard(facts_cohort, modality="ifs").started == 2
    assert _dashboard(facts_cohort, modality="emdr").started == 1


def test_presenting_conditions_come_from_the_intake(facts_cohort):
    d = _dashboard(facts_cohort)
    assert _groups(d, Dimension.CONDITION) == {
        "major_depression": 2,
        "generalised_anxiety": 1,
        "": 1,
    }


def test_treatment_resistance_comes_from_the_eligibility_screen(facts_cohort):
    d = _dashboard(facts_cohort)
    assert _groups(d, Dimension.TREATMENT_RESISTANT) == {"yes": 1, "no": 1, "": 1}
