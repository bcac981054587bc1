"""The intake: sections saved one at a time into append-only versions, each checked by the core's
facts parser; a partial intake keeps everything and says what is missing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.clinical.eligibility import facts_from_json
from kapstone.clinical.eligibility.facts import (
    InteractionClass,
    MedicalCondition,
    PresentingCondition,
    TrialOutcome,
)
from kapstone.clinical.modality_matching import AnxietyPresentation, PresentationProfile
from kapstone.errors import InputError
from kapstone.intake import labels, selectors
from kapstone.intake.models import AppendOnlyError, IntakeVersion
from kapstone.intake.sections import REQUIRED_SECTIONS
from kapstone.intake.services import save_intake_section
from tests.shell.intake_support import complete_intake, eligible_sections


def save(clinic, section, value, role="intake_coordinator"):
    return save_intake_section(
        by=clinic.staff[role], patient=clinic.on_team, section=section, value=value
    )


def test_a_partial_intake_keeps_every_saved_section_and_names_what_is_missing(clinic):
    sections = eligible_sections()
    save(clinic, "conditions", sections["conditions"])
    version = save(
        clinic,
        "medications",
        {
            "medications": [
                {"name": "sertraline", "interaction_classes": ["ssri"], "daily_dose_mg": 100}
            ]
        },
    )

    assert not version.complete
    assert version.facts["presenting_conditions"] == ["major_depression"]
    assert version.facts["medications"][0]["name"] == "sertraline"
    assert version.facts["age_years"] == clinic.on_team.age_on(timezone.localdate())
    assert version.sections_done == ["conditions", "medications"]
    missing = [s.key for s in selectors.missing_sections(version)]
    assert missing == [s for s in REQUIRED_SECTIONS if s not in {"conditions", "medications"}]
    # What still stops screening is the core's own report, e.g. the missing reproductive facts.
    assert {
        "path": "reproductive",
        "message": "missing",
        "accepted": "an object",
    } in version.problems
    # Each save is a new version; the earlier one stays as it was.
    assert IntakeVersion.objects.filter(patient=clinic.on_team).count() == 2
    assert version.supersedes.facts.get("medications") is None


def test_a_complete_intake_parses_as_screening_facts(clinic):
    version = complete_intake(clinic.on_team, clinic.staff["prescriber"])
    assert version.complete and version.problems == []
    facts = facts_from_json(version.facts)
    assert facts.presenting_conditions == frozenset({PresentingCondition.MAJOR_DEPRESSION})
    assert facts.current_episode.antidepressant_trials[0].outcome is TrialOutcome.NO_RESPONSE
    assert selectors.current_intake(clinic.on_team) == version


def test_an_invalid_value_is_refused_with_the_cores_message_and_nothing_is_written(clinic):
    complete_intake(clinic.on_team, clinic.staff["prescriber"])
    before = IntakeVersion.objects.count()
    with pytest.raises(InputError) as caught:
        save(
            clinic,
            "medications",
            {
                "medications": [
                    {
                        "name": "lorazepam",
                        "interaction_classes": ["benzodiazepine"],
                        "daily_dose_mg": 2,
                    }
                ]
            },
        )
    assert caught.value.errors == {
        "medications[0].diazepam_equivalent_mg_per_day": [
            "Please enter the daily diazepam-equivalent dose in mg (required for a benzodiazepine)."
        ]
    }
    vitals = eligible_sections()["vitals"]
    vitals["baseline_vitals"] |= {"systolic_mmhg": 30}
    with pytest.raises(InputError) as caught:
        save(clinic, "vitals", vitals)
    assert caught.value.errors == {
        "baseline_vitals.systolic_mmhg": ["Enter a whole number from 50 to 300 (this was 30)."]
    }
    assert IntakeVersion.objects.count() == before
    assert selectors.current_intake(clinic.on_team).complete


def test_a_dated_fact_in_the_future_is_refused_at_once(clinic):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(InputError) as caught:
        save(
            clinic,
            "history",
            {
                "medical_history": [
                    {"condition": "myocardial_infarction", "status": "past", "since": tomorrow}
                ]
            },
        )
    assert list(caught.value.errors) == ["medical_history[0].since"]
    assert "is in the future" in caught.value.errors["medical_history[0].since"][0]


def test_a_nurse_cannot_edit_the_intake(clinic):
    with pytest.raises(InputError):
        save(clinic, "conditions", eligible_sections()["conditions"], role="nurse")
    assert not IntakeVersion.objects.exists()


def test_each_save_is_audited_with_the_section_before_and_after(clinic):
    save(clinic, "conditions", {"presenting_conditions": ["ptsd"]})
    save(clinic, "conditions", {"presenting_conditions": ["ptsd", "major_depression"]})
    entry = AuditEntry.objects.filter(action="intake.section_saved").latest("seq")
    assert entry.before["value"] == {"presenting_conditions": ["ptsd"]}
    assert entry.after["value"] == {"presenting_conditions": ["ptsd", "major_depression"]}
    assert "(intake incomplete)" in entry.summary


def test_intake_versions_are_append_only_in_the_database(clinic):
    version = save(clinic, "conditions", {"presenting_conditions": ["ptsd"]})
    with pytest.raises(AppendOnlyError):
        version.save()
    for sql in (
        "UPDATE intake_intakeversion SET complete = 1 WHERE id = %s",
        "DELETE FROM intake_intakeversion WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [version.pk])


def test_presentation_profile_is_the_cores_input_once_the_section_is_saved(clinic):
    assert selectors.presentation_profile(clinic.on_team) is None
    save(clinic, "conditions", {"presenting_conditions": ["generalised_anxiety"]})
    assert selectors.presentation_profile(clinic.on_team) is None
    save(
        clinic,
        "presentation",
        {"anxiety_mainly": "somatic", "intrusive_imagery": True, "rumination": False},
    )
    assert selectors.presentation_profile(clinic.on_team) == PresentationProfile(
        anxiety_mainly=AnxietyPresentation.SOMATIC, intrusive_imagery=True
    )
    with pytest.raises(InputError) as caught:
        save(clinic, "presentation", {"anxiety_mainly": "spiritual"})
    assert list(caught.value.errors) == ["presentation.anxiety_mainly"]


def test_every_code_has_a_label_in_the_clinics_words():
    for enum, table in (
        (MedicalCondition, labels.CONDITIONS),
        (InteractionClass, labels.INTERACTION_CLASSES),
        (PresentingCondition, labels.PRESENTING),
        (TrialOutcome, labels.TRIAL_OUTCOMES),
    ):
        assert set(table) == set(enum)


# ---------------------------------------------------------------------------------------------
# The section pages


def section_url(clinic, key):
    return reverse(
        "intake:section", kwargs={"patient_id": clinic.on_team.pk, "intake_section": key}
    )


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_the_medications_page_saves_rows_and_shows_the_cores_message_on_the_field(clinic, as_role):
    client = as_role("intake_coordinator")
    page = client.get(section_url(clinic, "medications"))
    assert page.status_code == 200
    assert page.content.decode().count("<h1") == 1
    form = management("medications", 3) | {
        "medications-0-name": "lorazepam",
        "medications-0-interaction_classes": ["benzodiazepine"],
        "medications-0-daily_dose_mg": "2",
        "medications-1-name": "lamotrigine",
        "medications-1-interaction_classes": ["lamotrigine"],
    }
    refused = client.post(section_url(clinic, "medications"), form)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "the daily diazepam-equivalent dose in mg (required for a benzodiazepine)" in html
    assert 'name="medications-1-name" value="lamotrigine"' in html  # what was typed stays
    assert not IntakeVersion.objects.exists()

    form["medications-0-diazepam_equivalent_mg_per_day"] = "20"
    saved = client.post(section_url(clinic, "medications"), form)
    assert saved.status_code == 302
    version = selectors.current_intake(clinic.on_team)
    assert [m["name"] for m in version.facts["medications"]] == ["lorazepam", "lamotrigine"]
    assert version.facts["medications"][0]["diazepam_equivalent_mg_per_day"] == 20.0
    tab = client.get(saved["Location"]).content.decode()
    assert "Intake incomplete" in tab and "lorazepam 2 mg/day" in tab


def test_the_history_page_records_only_conditions_present(clinic, as_role):
    client = as_role("prescriber")
    rows = list(MedicalCondition)
    form = management("history", len(rows), len(rows))
    for i, condition in enumerate(rows):
        form[f"history-{i}-condition"] = condition.value
    hypertension = rows.index(MedicalCondition.HYPERTENSION)
    form[f"history-{hypertension}-status"] = "controlled"
    form[f"history-{hypertension}-since"] = "2019-05-01"
    response = client.post(section_url(clinic, "history"), form)
    assert response.status_code == 302
    history = selectors.current_intake(clinic.on_team).facts["medical_history"]
    assert history == [
        {
            "condition": "hypertension",
            "status": "controlled",
            "since": "2019-05-01",
            "child_pugh": None,
            "note": "",
        }
    ]
    # A date with no status is not silently dropped.
    stroke = rows.index(MedicalCondition.STROKE)
    form[f"history-{stroke}-since"] = "2020-01-01"
    refused = client.post(section_url(clinic, "history"), form)
    assert refused.status_code == 400
    assert "Choose a status, or clear the date and note" in refused.content.decode()


def test_the_vitals_page_left_empty_records_not_measured(clinic, as_role):
    client = as_role("intake_coordinator")
    response = client.post(section_url(clinic, "vitals"), {})
    assert response.status_code == 302
    version = selectors.current_intake(clinic.on_team)
    assert version.facts["baseline_vitals"] is None and "vitals" in version.sections_done


def test_an_unknown_section_is_not_found(clinic, as_role):
    client = as_role("intake_coordinator")
    assert client.get(section_url(clinic, "horoscope")).status_code == 404


def test_viewing_the_intake_tab_is_audited(clinic, as_role):
    client = as_role("therapist")
    page = client.get(reverse("intake:chart_tab", kwargs={"patient_id": clinic.on_team.pk}))
    assert page.status_code == 200
    assert AuditEntry.objects.filter(action="intake.viewed", patient=clinic.on_team).exists()
    assert "Fill in" not in page.content.decode()  # a therapist reads the intake, never edits it
