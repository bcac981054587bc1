"""Foreign keys read after their rows (kapstone.kernel.related), and the treatment plan read that
uses it: every name a plan page shows, in two queries, with no staff table joined."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapstone.kernel.related import load_related
from kapstone.plans import selectors, services
from tests.shell.intake_support import signed_eligibility_for
from tests.shell.plans_support import draft_plan, ready_to_sign


@pytest.fixture
def signed_plan(clinic):  # type: ignore[no-untyped-def]
    signed_eligibility_for(clinic.on_team, clinic.staff["prescriber"])
    plan = ready_to_sign(clinic.on_team, clinic.staff["prescriber"], clinic.staff["therapist"])
    services.sign_plan(by=clinic.staff["prescriber"], plan=plan)
    return plan


def test_keys_to_one_table_are_read_in_one_query_and_cached(clinic):
    first = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    plans = [type(first).objects.get(pk=first.pk), type(first).objects.get(pk=first.pk)]
    with CaptureQueriesContext(connection) as queries:
        load_related((plan, name) for plan in plans for name in ("created_by", "prep_held_by"))
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert plans[0].created_by == clinic.staff["prescriber"]
        assert plans[1].prep_held_by is None or plans[1].prep_held_by.pk == first.prep_held_by_id
    assert len(queries) == 0


def test_nothing_to_read_reads_nothing(clinic):
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    plan = type(plan).objects.get(pk=plan.pk)
    plan.consent_witness_id = None
    with CaptureQueriesContext(connection) as queries:
        load_related([(plan, "consent_witness")])
        assert plan.consent_witness is None
    assert len(queries) == 0


def test_only_a_foreign_key_can_be_loaded(clinic):
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    with pytest.raises(TypeError, match="revision is not a foreign key"):
        load_related([(plan, "revision")])


def test_a_signed_plan_reads_with_every_name_in_two_queries(clinic, signed_plan):
    with CaptureQueriesContext(connection) as queries:
        plan = selectors.plan_in_force(clinic.on_team)
        assert plan is not None and plan.pk == signed_plan.pk
        names = (
            plan.created_by.pk,
            plan.modalities_confirmed_by and plan.modalities_confirmed_by.pk,
            plan.signature.signed_by.pk,
            plan.program.key,
        )
    stored = type(plan).objects.get(pk=plan.pk)
    assert names[:2] == (stored.created_by_id, stored.modalities_confirmed_by_id)
    assert names[1] == clinic.staff["therapist"].pk
    assert names[2] == clinic.staff["prescriber"].pk
    assert len(queries) == 2, [q["sql"] for q in queries]
    # The plan's own query joins the program, the weight and the signature, never a staff member:
    # each staff join made PostgreSQL's planner slower (seven joins took ~28 ms to plan).
    assert "accounts_staffuser" not in queries[0]["sql"]
    assert queries[0]["sql"].count(" JOIN ") == 3


def test_every_plan_read_gives_the_same_plan_with_its_staff(clinic, signed_plan):
    patient = clinic.on_team
    reads = [
        selectors.latest_plan(patient),
        selectors.plan_in_force(patient),
        selectors.get_plan(patient, signed_plan.pk),
        selectors.plan_history(patient)[0],
    ]
    assert {plan.pk for plan in reads if plan} == {signed_plan.pk}
    for plan in reads:
        assert plan is not None
        assert "created_by" in plan._state.fields_cache
        assert plan.signature.signed_by == clinic.staff["prescriber"]
    assert selectors.get_plan(patient, signed_plan.pk + 10_000) is None
