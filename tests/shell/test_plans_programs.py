"""Program templates as versioned data: seeded from the core's defaults, edited by the medical
director into new versions (checked by the core's validate_template), and kept by the plans made
from them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from kapstone.audit.models import AuditEntry
from kapstone.audit.triggers import remove_guard
from kapstone.clinical.programs import DEFAULT_TEMPLATES
from kapstone.clinical.routes import Route
from kapstone.errors import InputError
from kapstone.plans import programs, selectors, services
from kapstone.plans.models import AppendOnlyError, ProgramTemplateVersion
from tests.shell.plans_support import draft_plan, program


def _changes(version: ProgramTemplateVersion, **different) -> programs.TemplateChanges:
    changes = programs.changes_from(version.as_template(), version.measurement_plan)
    return programs.TemplateChanges(**{**changes.__dict__, **different})


def test_the_defaults_are_seeded_once_each_and_match_the_core(db):
    services.ensure_default_templates()
    current = {t.key: t for t in selectors.current_templates()}
    assert set(current) == set(DEFAULT_TEMPLATES)
    for key, template in DEFAULT_TEMPLATES.items():
        assert current[key].as_template() == template  # a lossless round trip, sources included
    assert current["intensive_retreat"].measurement_plan == "intensive-retreat"
    assert current["standard_iv_induction"].measurement_plan == "standard-induction"
    assert current["maintenance_monthly"].measurement_plan == ""
    routes = {r for t in current.values() for r in t.route_values}
    assert routes == set(Route)  # IV, IM, SC, lozenge, oral and intranasal esketamine
    # Idempotent: nothing is added a second time.
    assert services.ensure_default_templates() == []
    assert ProgramTemplateVersion.objects.count() == len(DEFAULT_TEMPLATES)


def test_seeding_after_a_flush_restores_the_defaults_and_audits_it(db):
    remove_guard(connection, "plans_programtemplateversion")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM plans_programtemplateversion")
    created = services.ensure_default_templates()
    assert {row.key for row in created} == set(DEFAULT_TEMPLATES)
    assert AuditEntry.objects.filter(action="program_template.seeded").count() == len(created)


def test_editing_makes_a_new_version_and_keeps_the_old_one(clinic):
    director = clinic.staff["medical_director"]
    first = program("intensive_retreat")
    second = services.edit_program_template(
        by=director,
        previous=first,
        changes=_changes(first, integration_minutes_max=120),
        reason="Longer integration after the first sessions",
    )
    assert second.key == first.key and second.version != first.version
    assert second.supersedes == first
    assert selectors.current_templates().get(key="intensive_retreat") == second
    assert [v.pk for v in selectors.template_versions("intensive_retreat")] == [second.pk, first.pk]
    first.refresh_from_db()
    assert first.integration["minutes_max"] == 90  # the old version is kept as it was
    template = second.as_template()
    assert template.integration.minutes_max == 120
    # The changed part is the director's clinic policy; unchanged parts keep their sources.
    assert template.integration.source.is_clinic_policy
    assert "Longer integration" in template.integration.source.note
    assert template.session_lengths == first.as_template().session_lengths
    entry = AuditEntry.objects.get(action="program_template.edited")
    assert entry.actor == director
    assert entry.before["integration"]["minutes_max"] == 90
    assert entry.after["integration"]["minutes_max"] == 120


def test_a_plan_keeps_the_version_it_was_made_from(clinic):
    prescriber = clinic.staff["prescriber"]
    first = program("standard_iv_induction")
    plan = draft_plan(clinic.on_team, prescriber)
    second = services.edit_program_template(
        by=clinic.staff["medical_director"],
        previous=first,
        changes=_changes(first, description="Two infusions a week for three weeks."),
        reason="Clearer wording",
    )
    plan.refresh_from_db()
    assert plan.program == first
    assert selectors.plan_view(plan).template.version == first.version
    # A new draft may keep the plan's version ...
    kept = draft_plan(clinic.on_team, prescriber, program=first)
    assert kept.program == first
    # ... but a superseded version is refused for a patient whose plan never used it.
    with pytest.raises(InputError) as refused:
        draft_plan(clinic.elsewhere, clinic.others["prescriber"], program=first)
    assert "replaced by a newer version" in refused.value.errors["program"][0]
    assert (
        draft_plan(clinic.elsewhere, clinic.others["prescriber"], program=second).program == second
    )


def test_the_core_checks_every_edit_and_its_words_reach_the_form_fields(clinic):
    version = program("intensive_retreat")
    with pytest.raises(InputError) as refused:
        services.edit_program_template(
            by=clinic.staff["medical_director"],
            previous=version,
            changes=_changes(version, dosing_sessions=7, min_gap_days=0, routes=()),
            reason="Trying",
        )
    errors = refused.value.errors
    assert "0 is not a positive whole number" in errors["min_gap_days"][0]
    assert "no route allowed" in errors["routes"][0]
    assert ProgramTemplateVersion.objects.filter(key="intensive_retreat").count() == 1

    with pytest.raises(InputError) as refused:
        services.edit_program_template(
            by=clinic.staff["medical_director"],
            previous=version,
            changes=_changes(version, dosing_sessions=7),
            reason="Trying",
        )
    assert (
        "7 sessions do not match 3 every 7 days for 2 weeks (6 sessions)"
        in (refused.value.errors["dosing_sessions"][0])
    )


def test_esketamine_observation_below_two_hours_is_refused_with_the_label_cited(clinic):
    version = program("esketamine_induction")
    with pytest.raises(InputError) as refused:
        services.edit_program_template(
            by=clinic.staff["medical_director"],
            previous=version,
            changes=_changes(version, session_minutes={Route.INTRANASAL_ESKETAMINE: (15, 15, 60)}),
            reason="Shorter chair time",
        )
    message = refused.value.errors["intranasal_esketamine_observation_minutes"][0]
    assert "at least 120 minutes" in message and "SPRAVATO-US" in message


def test_an_edit_needs_a_reason_a_change_and_the_version_in_force(clinic):
    director = clinic.staff["medical_director"]
    version = program("maintenance_monthly")
    with pytest.raises(InputError, match="Nothing changed"):
        services.edit_program_template(
            by=director, previous=version, changes=_changes(version), reason="No change"
        )
    with pytest.raises(InputError) as refused:
        services.edit_program_template(
            by=director, previous=version, changes=_changes(version, name="Maintenance"), reason=" "
        )
    assert "Say why the program changes" in refused.value.errors["reason"][0]
    services.edit_program_template(
        by=director, previous=version, changes=_changes(version, name="Maintenance"), reason="Name"
    )
    with pytest.raises(InputError, match="was replaced meanwhile"):
        services.edit_program_template(
            by=director, previous=version, changes=_changes(version, name="Other"), reason="Late"
        )


def test_adding_a_program(clinic):
    director = clinic.staff["medical_director"]
    base = program("extended_outpatient_weekly")
    changes = _changes(
        base,
        name="SC anxiety course",
        description="Ascending subcutaneous doses weekly for six weeks.",
        routes=(Route.SC,),
        dosing_sessions=6,
        course_weeks=6,
        standard_route=Route.SC,
        standard_mg_per_kg=Decimal("0.5"),
        standard_minutes=None,
    )
    with pytest.raises(InputError) as refused:
        services.add_program_template(
            by=director, key="Weekly SC", changes=changes, reason="Anxiety programme"
        )
    assert "is not a key" in refused.value.errors["key"][0]
    with pytest.raises(InputError, match="exists already"):
        services.add_program_template(
            by=director, key="intensive_retreat", changes=changes, reason="Duplicate"
        )
    added = services.add_program_template(
        by=director, key="weekly_sc_anxiety", changes=changes, reason="Anxiety programme"
    )
    assert added.supersedes is None and added.created_by == director
    assert added.as_template().routes == (Route.SC,)
    assert added.as_template().standard_dose.source.is_clinic_policy
    assert AuditEntry.objects.filter(action="program_template.added", object_id=str(added.pk))


def test_template_rows_are_append_only_in_the_database(db):
    version = program("intensive_retreat")
    with pytest.raises(AppendOnlyError):
        version.save()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE plans_programtemplateversion SET name = 'x' WHERE id = %s", [version.pk]
        )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM plans_programtemplateversion WHERE id = %s", [version.pk])


def test_the_director_edits_a_program_through_the_pages(clinic, as_role):
    client = as_role("medical_director")
    version = program("standard_iv_induction")
    page = client.get(reverse("plans:programs")).content.decode()
    assert "Standard IV induction" in page and "Intensive retreat" in page
    page = client.get(reverse("plans:program", args=[version.pk])).content.decode()
    assert "ANDRADE2017-DOSE" in page and "Edit (makes a new version)" in page

    url = reverse("plans:program_edit", args=[version.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(period_days=7, sessions_per_period=2, course_weeks=2, reason="Two weeks only")
    response = client.post(url, data)
    # Six sessions cannot fit two a week for two weeks: the core's words, on the field.
    assert response.status_code == 200
    assert "6 sessions do not match 2 every 7 days for 2 weeks" in response.content.decode()

    data.update(dosing_sessions=4)
    response = client.post(url, data)
    new = selectors.current_templates().get(key="standard_iv_induction")
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:program", args=[new.pk])
    assert (new.dosing_sessions, new.course_weeks, new.change_reason) == (4, 2, "Two weeks only")
    # The old version's page says it was replaced and offers no edit.
    page = client.get(reverse("plans:program", args=[version.pk])).content.decode()
    assert "This version was replaced" in page and "Edit (makes a new version)" not in page


def test_a_prescriber_cannot_edit_programs(clinic, as_role):
    client = as_role("prescriber")
    version = program("standard_iv_induction")
    assert client.get(reverse("plans:program_edit", args=[version.pk])).status_code == 403
    assert client.post(reverse("plans:program_new"), {}).status_code == 403
