"""The de-identified research export end to end on a real database: a clinic whose patients carry
distinctive identifiers is exported, the zip is opened, and every CSV, every Parquet file
(pyarrow) and every NDJSON line is read back and searched for each Safe Harbor identifier class.
Ages over 89 are grouped, one patient's day offsets are checked by hand, the k report against a
hand count, every FHIR resource against HL7's official R4 JSON Schema; the page, the task's
progress, the single audited download and expiry are exercised through the views."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow.parquet as pq
import pytest
from django.apps import apps
from django.db import models, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from kapstone.assessments.models import QuestionnaireSet
from kapstone.assessments.services import send_questionnaires
from kapstone.audit.models import AuditEntry
from kapstone.chairside.models import (
    AdverseEvent,
    ChairsideRecord,
    DissociationRating,
    DoseAdministration,
    VitalReading,
    VitalStrike,
)
from kapstone.coverage.services import add_coverage
from kapstone.dosing.services import book_dosing_session, cancel_dosing_session
from kapstone.integration import services as integration_services
from kapstone.integration.models import IntegrationSession
from kapstone.interop.deidentify import (
    PATIENT_FIELDS,
    SAFE_HARBOR,
    Handling,
    IdentifierClass,
)
from kapstone.patients.models import Patient
from kapstone.plans import services as plan_services
from kapstone.research.models import ExportStatus, ResearchExport
from kapstone.research.services import request_export, run_export
from kapstone.research.tasks import run_research_export
from tests.conftest import build_clinic, kept_for_the_module, make_patient, refreshed
from tests.interop.test_fhir_questionnaire import schema  # noqa: F401 - the schema fixture
from tests.shell.billing_support import sample_payer
from tests.shell.intake_support import signed_eligibility_for
from tests.shell.plans_support import ready_to_sign
from tests.shell.test_outcomes_selectors import submitted

ZONE = timezone.get_current_timezone()
# Day 0 for everyone registered by the fixture: 10:00 local, a year and a half before today.
FIRST = dt.datetime(2025, 6, 2, 10, 0, tzinfo=ZONE)
PERIOD = {"period_start": dt.date(2025, 1, 1), "period_end": dt.date(2025, 12, 31)}
RESOURCE_TYPES = ("Patient", "Observation", "Procedure", "MedicationAdministration")


def at(days: float, hours: float = 0) -> dt.datetime:
    return FIRST + dt.timedelta(days=days, hours=hours)


# The distinctive patient: every identifier is a string no export could hold by chance.
ZEB = {
    "mrn": "MRN-ZQ-77341",
    "given_name": "Zebulon",
    "family_name": "Quixotewright",
    "preferred_name": "Zebbo",
    "date_of_birth": dt.date(1931, 2, 14),  # 94 at day 0
    "sex_at_birth": "male",
    "gender_identity": "Quillgender",
    "pronouns": "zy/zyr",
    "phone": "+1 617-555-0199",
    "email": "zebulon.quixotewright@example.invalid",
    "address": "42 Wallaby Way, Marblehead, MA 01945",
    "emergency_contact_name": "Philippa Quixotewright",
    "emergency_contact_relationship": "Stepcousin",
    "emergency_contact_phone": "+1 978-555-0142",
    "referral_source": "psychiatrist",
    "referrer_name": "Dr Bartholomew Fennimore-Ashcroft",
}
FREE_TEXT = {
    "cancel": "Hovercraft full of eels at Quixotewright Manor",
    "adverse_description": "Zebulon-specific hiccup cascade",
    "adverse_action": "Sipped water under Fennimore protocol",
    "strike": "Cuff slipped on the Quixotewright arm",
    "homework": "Feed the Quixotewright llamas daily",
    "narrative": "Zebulon recalled the Marblehead lighthouse fire",
    "override": "Held late: Zebulon's ferry from Nantucket",
    "memory": "The Nantucket lighthouse fire of Zebulon's youth",
    "negative": "I am the Quixotewright disappointment",
    "positive": "I am a worthy Quixotewright",
}
EMDR_NOTE = {
    "target_memory": FREE_TEXT["memory"],
    "negative_cognition": FREE_TEXT["negative"],
    "positive_cognition": FREE_TEXT["positive"],
    "sud_before": "8",
    "sud_after": "3",
    "voc_before": "2",
    "voc_after": "5",
    "bls_sets": "24",
}


@dataclass
class ExportClinic:
    zeb: Patient
    sessions: list
    token: str
    others: list = field(default_factory=list)


ZEB_MEMBER_ID = "ZQW771204HP"
ZEB_GROUP_NUMBER = "GRP55193"


@pytest.fixture(scope="module")
def _kept(django_db_setup, django_db_blocker, tmp_path_factory):
    """The clinic, its export patients and one export of them (read back), built once for the
    module; each test's own writes are rolled back at its end (kept_for_the_module). The export's
    own rows are rolled back at once, its files read into memory first: a test that counts
    exports or their audit rows sees only its own."""
    folder = tmp_path_factory.mktemp("exports")
    with override_settings(RESEARCH_EXPORT_DIR=folder), kept_for_the_module(django_db_blocker):
        clinic = build_clinic()
        built = _export_clinic(clinic)
        with transaction.atomic():
            done = export(clinic)
            files = read_back(Path(done.file_path))
            transaction.set_rollback(True)
        yield clinic, built, (done, files), folder


@pytest.fixture
def clinic(_kept, db):
    built = _kept[1]
    return refreshed(_kept[0], built.zeb, *built.others, *built.sessions)


@pytest.fixture
def export_clinic(_kept, clinic, settings) -> ExportClinic:
    settings.RESEARCH_EXPORT_DIR = _kept[3]
    return _kept[1]


def _export_clinic(clinic) -> ExportClinic:  # type: ignore[no-untyped-def]
    coordinator = clinic.staff["intake_coordinator"]
    prescriber, nurse = clinic.staff["prescriber"], clinic.staff["nurse"]
    zeb = make_patient(
        by=coordinator,
        site=clinic.sites[0],
        prescriber=prescriber,
        therapist=clinic.staff["therapist"],
        nurse=nurse,
        **ZEB,
    )
    # His insurance, held for billing: the export must not carry its numbers.
    add_coverage(
        by=clinic.staff["biller"],
        patient=zeb,
        payer=sample_payer(),
        member_id=ZEB_MEMBER_ID,
        group_number=ZEB_GROUP_NUMBER,
        benefit="medical",
    )
    # Five more women in their thirties at Riverside with no plan: Ada's class has 6.
    others = [
        make_patient(
            by=coordinator,
            mrn=f"MRN-20{n}",
            site=clinic.sites[0],
            given_name=f"Cohort{n}",
            date_of_birth=dt.date(1990, 1, 1 + n),
        )
        for n in range(5)
    ]
    # Outside the period: registered in 2024, never exported.
    late = make_patient(by=coordinator, mrn="MRN-OUT-1", site=clinic.sites[1], given_name="Out")
    Patient.objects.exclude(pk=late.pk).update(registered_at=FIRST)
    Patient.objects.filter(pk=late.pk).update(registered_at=dt.datetime(2024, 3, 1, tzinfo=ZONE))
    zeb.refresh_from_db()

    # A signed plan (standard IV induction), so his program and route are in the data.
    signed_eligibility_for(zeb, prescriber)
    plan = ready_to_sign(zeb, prescriber, clinic.staff["therapist"])
    plan_services.sign_plan(by=prescriber, plan=plan)

    # Dosing: day 10 and day 13 at 10:00, and a cancelled one on day 12.
    sessions = [
        book_dosing_session(by=prescriber, patient=zeb, starts_at=at(d), route="iv", now=at(d - 1))
        for d in (10, 12, 13)
    ]
    cancel_dosing_session(
        by=prescriber, session=sessions[1], reason=FREE_TEXT["cancel"], now=at(11)
    )
    record = ChairsideRecord.objects.create(
        session=sessions[0],
        opened_at=at(10),
        opened_by=nurse,
        route="iv",
        protocol_id="iv-racemic",
        policy_version="monitoring-test",
        checklist_policy_version="checklist-test",
        discharged_at=at(10, 2.5),
    )
    common = {"record": record, "recorded_by": nurse}
    VitalReading.objects.create(
        taken_at=at(10, -0.1),
        systolic=128,
        diastolic=82,
        heart_rate=72,
        spo2=98,
        respiratory_rate=14,
        sedation="alert",
        is_baseline=True,
        recorded_at=at(10),
        **common,
    )
    VitalReading.objects.create(
        taken_at=at(10, 0.5),
        systolic=152,
        diastolic=91,
        heart_rate=88,
        spo2=96,
        respiratory_rate=12,
        sedation="drowsy",
        recorded_at=at(10, 0.5),
        **common,
    )
    wrong = VitalReading.objects.create(
        taken_at=at(10, 0.6),
        systolic=230,
        diastolic=140,
        heart_rate=40,
        spo2=70,
        respiratory_rate=4,
        sedation="unresponsive",
        recorded_at=at(10, 0.6),
        **common,
    )
    VitalStrike.objects.create(reading=wrong, reason=FREE_TEXT["strike"], by=nurse, at=at(10, 0.7))
    DoseAdministration.objects.create(
        dose_mg="35.00",
        planned_dose_mg="35.00",
        route="iv",
        started_at=at(10, 0.1),
        stopped_at=at(10, 0.1 + 40 / 60),
        given_by=nurse,
        witnessed_by=prescriber,
        recorded_by=nurse,
        recorded_at=at(10, 0.1),
        record=record,
    )
    DissociationRating.objects.create(
        record=record,
        scale="cadss_6",
        score=7,
        taken_at=at(10, 0.75),
        rated_by=nurse,
        recorded_at=at(10, 0.75),
    )
    AdverseEvent.objects.create(
        kind="other",
        description=FREE_TEXT["adverse_description"],
        severity="mild",
        action=FREE_TEXT["adverse_action"],
        onset_at=at(10, 1),
        recorded_at=at(10, 1),
        **common,
    )
    integration = IntegrationSession.objects.create(
        patient=zeb,
        dosing_session=sessions[0],
        therapist=clinic.staff["therapist"],
        modality="emdr",
        site=clinic.sites[0],
        starts_at=at(11),
        ends_at=at(11, 1),
        booked_at=at(9),
    )
    # A signed EMDR note: its numbers leave, its words (memory, cognitions, narrative) do not.
    note = integration_services.save_note(
        by=clinic.staff["therapist"],
        session=integration,
        held_at=at(11),
        minutes=75,
        structured={"emdr": EMDR_NOTE, "homework": FREE_TEXT["homework"]},
        narrative=FREE_TEXT["narrative"],
        now=at(11, 2),
    )
    integration_services.sign_note(
        by=clinic.staff["therapist"],
        note=note,
        override_reason=FREE_TEXT["override"],
        now=at(11, 2),
    )
    # PHQ-9: 20 at day 9 (baseline), 8 at day 11 10:00 (24 h after the first dose), 4 at day 20.
    for total, when in ((20, at(9)), (8, at(11)), (4, at(20))):
        submitted(zeb, prescriber, "phq9", total, when)
    # An open link: its token is a URL-class identifier that must never leave.
    _, token = send_questionnaires(by=prescriber, patient=zeb, instruments=["gad7"])
    return ExportClinic(zeb=zeb, sessions=sessions, token=token, others=others)


def export(clinic, *, suppress: bool = False, seed: int = 20251) -> ResearchExport:
    requested = request_export(
        by=clinic.staff["researcher"],
        site_ids=[],
        programs=[],
        suppress=suppress,
        now=timezone.now(),
        **PERIOD,
    )
    done = run_export(export_id=requested.pk, now=timezone.now(), rng=random.Random(seed))
    assert done.status == ExportStatus.READY, done.error
    return done


@dataclass
class Files:
    names: list[str]
    text: dict[str, str]  # every file as text (Parquet: its rows rendered)
    csv: dict[str, list[dict[str, str]]]
    parquet: dict[str, list[dict[str, Any]]]
    fhir: dict[str, list[dict[str, Any]]]

    def everything(self) -> str:
        return "\n".join(self.text.values())


def read_back(path: Path) -> Files:
    files = Files([], {}, {}, {}, {})
    with zipfile.ZipFile(path) as archive:
        files.names = sorted(archive.namelist())
        for name in files.names:
            raw = archive.read(name)
            if name.endswith(".parquet"):
                rows = pq.read_table(io.BytesIO(raw)).to_pylist()
                files.parquet[Path(name).stem] = rows
                files.text[name] = json.dumps(rows, default=str)
                continue
            text = raw.decode("utf-8")
            files.text[name] = text
            if name.startswith("csv/"):
                files.csv[Path(name).stem] = list(csv.DictReader(io.StringIO(text)))
            elif name.endswith(".ndjson"):
                files.fhir[Path(name).stem] = [json.loads(line) for line in text.splitlines()]
    return files


@pytest.fixture
def exported(_kept, export_clinic) -> tuple[ResearchExport, Files]:
    return _kept[2]


# --- every Safe Harbor class -----------------------------------------------------------------


def _dates(day: dt.date) -> list[str]:
    return [
        day.isoformat(),
        day.strftime("%m/%d/%Y"),
        day.strftime("%d/%m/%Y"),
        day.strftime("%Y%m%d"),
    ]


def probes(clinic, ec: ExportClinic) -> dict[IdentifierClass, list[str]]:
    """For each class, the strings this clinic holds of it (what must not appear)."""
    zeb = ec.zeb
    # Staff by full name ("Therapist Tester"); their usernames here are role words the data uses.
    staff = [*clinic.staff.values(), *clinic.others.values()]
    event_days = {
        FIRST.date(),
        *(s.starts_at.astimezone(ZONE).date() for s in ec.sessions),
        at(9).date(),
        at(20).date(),
    }
    return {
        IdentifierClass.NAMES: [
            zeb.given_name,
            zeb.family_name,
            zeb.preferred_name,
            zeb.emergency_contact_name,
            zeb.referrer_name,
            "Philippa",
            "Fennimore",
            "Quixotewright",
            "Cohort0",
            "Lovelace",
            "Hopper",
            *(s.get_full_name() for s in staff),
        ],
        IdentifierClass.GEOGRAPHY: [
            zeb.address,
            "Wallaby",
            "Marblehead",
            "01945",
            *(s.name for s in clinic.sites),
        ],
        IdentifierClass.DATES: [
            *_dates(zeb.date_of_birth),
            "1931",
            *(d for day in event_days for d in _dates(day)),
        ],
        IdentifierClass.TELEPHONE: [zeb.phone, "617-555-0199", "6175550199", "978-555-0142"],
        IdentifierClass.EMAIL: [zeb.email, "example.invalid", "@"],
        IdentifierClass.MEDICAL_RECORD_NUMBER: [p.mrn for p in Patient.objects.all()],
        IdentifierClass.HEALTH_PLAN_NUMBER: [ZEB_MEMBER_ID, ZEB_GROUP_NUMBER],
        IdentifierClass.URL: [
            ec.token,
            QuestionnaireSet.objects.filter(patient=zeb).first().token_hash,
            "/q/",
        ],
        IdentifierClass.IP_ADDRESS: ["127.0.0.1"],
        IdentifierClass.OTHER_UNIQUE: [
            zeb.gender_identity,
            zeb.pronouns,
            zeb.emergency_contact_relationship,
            *FREE_TEXT.values(),
            "Hovercraft",
            "hiccup",
        ],
    }


# Field names that would hold a class Kapstone says it does not keep.
NOT_HELD_NAMES = {
    IdentifierClass.FAX: ("fax",),
    IdentifierClass.SOCIAL_SECURITY: ("ssn", "social_security"),
    IdentifierClass.HEALTH_PLAN_NUMBER: ("insurance", "health_plan", "beneficiary", "member_id"),
    IdentifierClass.ACCOUNT_NUMBER: ("account_number", "billing"),
    IdentifierClass.CERTIFICATE_LICENCE: ("licence", "license", "certificate"),
    IdentifierClass.VEHICLE: ("vehicle", "plate"),
    IdentifierClass.DEVICE: ("serial", "device_id", "udi"),
    IdentifierClass.BIOMETRIC: ("biometric", "fingerprint", "voiceprint"),
    IdentifierClass.PHOTOGRAPH: ("photo", "image", "picture"),
}


def patient_data_fields() -> list[str]:
    """Every field of Patient and of every model pointing at a patient."""
    found = []
    for model in apps.get_models():
        points_at_patient = model is Patient or any(
            isinstance(f, models.ForeignKey) and f.related_model is Patient
            for f in model._meta.get_fields()
        )
        if points_at_patient:
            found += [f"{model.__name__}.{f.name}" for f in model._meta.concrete_fields]
    return found


@pytest.mark.parametrize("identifier", list(IdentifierClass), ids=lambda c: f"{c.value}-{c.name}")
def test_every_safe_harbor_class_is_absent_from_every_file(
    identifier, clinic, export_clinic, exported
):
    (rule,) = [r for r in SAFE_HARBOR if r.identifier is identifier]
    _, files = exported
    if rule.handling is Handling.NOT_HELD:
        names = NOT_HELD_NAMES.get(identifier, ())
        held = [
            f for f in patient_data_fields() if any(n in f.split(".")[1].lower() for n in names)
        ]
        assert held == [], f"{identifier.label}: the rule says not held, yet {held}"
        if identifier is not IdentifierClass.IP_ADDRESS:
            return
    found = probes(clinic, export_clinic)[identifier]
    assert found, f"no probe for {identifier.label}"
    everything = files.everything()
    leaked = [p for p in found if p and p in everything]
    assert leaked == [], f"{identifier.label} found in the export: {leaked}"


def test_the_probes_would_find_a_leak(clinic, export_clinic, exported):
    """The search is real: the identified source holds what the export must not."""
    found = probes(clinic, export_clinic)
    source = json.dumps(list(Patient.objects.filter(pk=export_clinic.zeb.pk).values()), default=str)
    for identifier in (
        IdentifierClass.NAMES,
        IdentifierClass.TELEPHONE,
        IdentifierClass.EMAIL,
        IdentifierClass.MEDICAL_RECORD_NUMBER,
    ):
        assert any(p in source for p in found[identifier]), identifier


def test_every_patient_field_is_decided():
    """A field added to Patient must get a Safe Harbor decision before it can be exported."""
    renamed = {"id": "key", "home_site": "site_key"}
    staff_links = {"prescriber", "therapist", "nurse", "registered_by"}  # not exported at all
    model_fields = {f.name for f in Patient._meta.concrete_fields} - staff_links
    read = {renamed.get(name, name) for name in model_fields}
    assert read - set(PATIENT_FIELDS) == set()
    # What the core adds (first questionnaire, plan) is not a Patient column.
    assert set(PATIENT_FIELDS) - read == {"first_questionnaire_at", "program", "route"}


# --- what is kept, and how -------------------------------------------------------------------


def test_the_zip_holds_every_table_as_csv_and_parquet_with_the_same_rows(exported):
    done, files = exported
    tables = set(done.counts)
    assert {f"csv/{t}.csv" for t in tables} | {f"parquet/{t}.parquet" for t in tables} <= set(
        files.names
    )
    for name in (
        "data_dictionary.csv",
        "data_dictionary.md",
        "k_anonymity.csv",
        "k_anonymity.md",
        "safe_harbor.csv",
        "manifest.json",
    ):
        assert name in files.names
    for table in tables:
        assert len(files.csv[table]) == len(files.parquet[table]) == done.counts[table], table
    # Every column of every table is in the dictionary, with its type.
    dictionary = list(csv.DictReader(io.StringIO(files.text["data_dictionary.csv"])))
    described = {(d["table"], d["column"]) for d in dictionary}
    for table in tables:
        for column in files.csv[table][0] if files.csv[table] else []:
            assert (table, column) in described
    assert len(list(csv.DictReader(io.StringIO(files.text["safe_harbor.csv"])))) == 18


def test_ages_over_89_are_grouped_and_sex_kept(exported):
    _, files = exported
    bands = sorted(row["age_band"] for row in files.csv["patients"])
    assert bands == ["30-39"] * 6 + ["40-49", "90+"]
    assert "94" not in {row["age_band"] for row in files.parquet["patients"]}
    (zeb,) = [r for r in files.parquet["patients"] if r["age_band"] == "90+"]
    assert zeb["sex_at_birth"] == "male" and zeb["program"] == "standard_iv_induction"
    assert zeb["route"] == "iv" and zeb["first_contact"] == "registration"
    patient = next(r for r in files.fhir["Patient"] if r["id"] == zeb["patient_id"])
    assert patient["gender"] == "male"
    assert {"url": "urn:kapstone:research:age-band", "valueString": "90+"} in patient["extension"]
    assert set(patient) == {"resourceType", "id", "extension", "gender"}


def test_day_offsets_for_the_known_patient(exported):
    _, files = exported
    (zeb,) = [r for r in files.parquet["patients"] if r["age_band"] == "90+"]
    pid = zeb["patient_id"]
    scores = [r for r in files.parquet["questionnaire_scores"] if r["patient_id"] == pid]
    assert [(r["day"], r["total"], r["hours_after_last_dose"]) for r in scores] == [
        (9, 20, None),
        # The first dose was charted 6 minutes after the booked start: hours count from the dose.
        (11, 8, 23.9),
        (20, 4, 168.0),
    ]
    sessions = [r for r in files.parquet["dosing_sessions"] if r["patient_id"] == pid]
    assert [
        (r["day"], r["status"], r["session_number"], r["dose_time_source"]) for r in sessions
    ] == [
        (10, "booked", 1, "charted"),
        (12, "cancelled", None, "none"),
        (13, "booked", 2, "booked"),
    ]
    first = sessions[0]
    assert first["charted"] and first["doses"] == 1 and first["total_dose_mg"] == 35.0
    assert first["discharge_minutes"] == 150 and first["booked_minutes"] == 120
    (vitals,) = [r for r in files.parquet["vitals_summary"] if r["patient_id"] == pid]
    # The struck reading (230/140, SpO2 70) is left out.
    assert (vitals["readings"], vitals["max_systolic"], vitals["min_spo2"]) == (2, 152, 96)
    assert (vitals["baseline_systolic"], vitals["max_sedation"]) == (128, "drowsy")
    (dose,) = files.parquet["dose_administrations"]
    assert (dose["minutes_from_start"], dose["infusion_minutes"], dose["dose_mg"]) == (6, 40, 35.0)
    (rating,) = files.parquet["dissociation"]
    assert (rating["scale"], rating["score"], rating["minutes_from_start"]) == ("cadss_6", 7, 45)
    (event,) = files.parquet["adverse_events"]
    assert (event["kind"], event["severity"], event["minutes_from_start"]) == ("other", "mild", 60)
    (integration,) = files.parquet["integration_sessions"]
    assert (integration["day"], integration["modality"]) == (11, "emdr")
    assert integration["status"] == "completed"  # signing the note completed it
    assert integration["after_session_id"] == first["session_id"] == f"{pid}-s1"
    measured = {
        r["measure"]: r["value"]
        for r in files.parquet["integration_measures"]
        if r["integration_id"] == integration["integration_id"]
    }
    assert measured == {
        "minutes": 75.0,
        "sud_before": 8.0,
        "sud_after": 3.0,
        "voc_before": 2.0,
        "voc_after": 5.0,
        "bls_sets": 24.0,
    }
    (outcome,) = [r for r in files.parquet["outcomes"] if r["patient_id"] == pid]
    assert (outcome["baseline_day"], outcome["baseline_total"]) == (9, 20)
    assert (outcome["latest_day"], outcome["latest_total"], outcome["change"]) == (20, 4, -16)
    assert outcome["response"] is True and outcome["remission"] is True
    # FHIR: the same days on the fake anchor.
    observations = {o["id"]: o for o in files.fhir["Observation"]}
    assert observations[f"{pid}-r2"]["effectiveDateTime"] == "2000-01-12"
    assert observations[f"{pid}-r2"]["valueInteger"] == 8
    procedures = {p["id"]: p for p in files.fhir["Procedure"]}
    assert procedures[f"{pid}-s1"]["performedDateTime"] == "2000-01-11"
    assert f"{pid}-s2" not in procedures  # cancelled


def test_the_k_report_matches_a_hand_count(exported):
    done, files = exported
    # By hand: Ada and the five cohort women (30-39, female, site of Riverside, no plan) = 6;
    # Grace (40-49, female, Harbour, no plan) = 1; Zebulon (90+, male, Riverside, IV plan) = 1.
    assert done.k_summary["k"] == 1
    assert done.k_summary["patients"] == 8 and done.k_summary["classes"] == 3
    assert done.k_summary["classes_below_threshold"] == 2
    assert done.k_summary["patients_in_classes_below_threshold"] == 2
    report = list(csv.DictReader(io.StringIO(files.text["k_anonymity.csv"])))
    assert sorted(
        (r["age_band"], r["sex_at_birth"], r["program"], r["patients"]) for r in report
    ) == [
        ("30-39", "female", "none", "6"),
        ("40-49", "female", "none", "1"),
        ("90+", "male", "standard_iv_induction", "1"),
    ]
    assert "**k = 1**" in files.text["k_anonymity.md"]


def test_suppression_leaves_out_the_small_classes_everywhere(clinic, export_clinic):
    done = export(clinic, suppress=True)
    files = read_back(Path(done.file_path))
    assert done.k_summary["suppressed"] == 2 and done.k_summary["k_after_suppression"] == 6
    assert {r["age_band"] for r in files.csv["patients"]} == {"30-39"}
    assert files.csv["questionnaire_scores"] == [] and files.fhir["Procedure"] == []


def test_pseudonyms_differ_between_exports(clinic, export_clinic):
    first = read_back(Path(export(clinic, seed=1).file_path))
    second = read_back(Path(export(clinic, seed=2).file_path))
    ids = lambda files: {r["patient_id"] for r in files.csv["patients"]}  # noqa: E731
    assert len(ids(first)) == 8 and ids(first).isdisjoint(ids(second))


# --- FHIR ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bulk_validators(schema):  # noqa: F811
    return {
        name: jsonschema.Draft6Validator(
            {"$ref": f"#/definitions/{name}", "definitions": schema["definitions"]}
        )
        for name in RESOURCE_TYPES
    }


def test_every_ndjson_line_is_valid_r4(exported, bulk_validators):
    _, files = exported
    assert set(files.fhir) == set(RESOURCE_TYPES)
    counted = 0
    for resource_type, resources in files.fhir.items():
        assert resources, resource_type
        for resource in resources:
            assert resource["resourceType"] == resource_type
            problems = [e.message for e in bulk_validators[resource_type].iter_errors(resource)]
            assert problems == [], (resource_type, resource.get("id"), problems)
            counted += 1
    assert len(files.fhir["Patient"]) == 8
    assert counted > 8


def test_the_validator_refuses_a_patient_with_a_bad_gender(bulk_validators):
    broken = {"resourceType": "Patient", "id": "p-000000000000", "gender": "man"}
    assert list(bulk_validators["Patient"].iter_errors(broken))


# --- the page, the task, the download --------------------------------------------------------


def test_a_researcher_requests_watches_and_downloads_once(
    clinic, export_clinic, as_role, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    researcher = as_role("researcher")
    page = researcher.get(reverse("research:exports"))
    assert page.status_code == 200 and b"Request an export" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        posted = researcher.post(
            reverse("research:exports"),
            {"period_start": "2025-01-01", "period_end": "2025-12-31", "suppress": ""},
        )
    assert posted.status_code == 302
    requested = ResearchExport.objects.get()
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "kapstone.research.tasks.run_research_export"
    assert queued.args_kwargs["args"] == [requested.pk]
    # While queued, its row polls for progress.
    row = researcher.get(reverse("research:export_status", args=[requested.pk]))
    assert b'hx-trigger="every 2s"' in row.content and b"0 %" in row.content
    result = run_research_export.call(requested.pk)
    assert result["status"] == "ready" and result["counts"]["patients"] == 8
    row = researcher.get(reverse("research:export_status", args=[requested.pk]))
    assert b"hx-trigger" not in row.content and b"k = 1" in row.content

    # Only the requester downloads, once.
    director = as_role("medical_director")
    refused = director.post(reverse("research:download", args=[requested.pk]))
    assert refused.status_code == 302
    researcher = as_role("researcher")
    got = researcher.post(reverse("research:download", args=[requested.pk]))
    assert got.status_code == 200 and got["Content-Type"] == "application/zip"
    body = b"".join(got.streaming_content)
    requested.refresh_from_db()
    assert requested.status == ExportStatus.DOWNLOADED
    import hashlib

    assert hashlib.sha256(body).hexdigest() == requested.sha256
    assert not Path(requested.file_path).exists()
    again = researcher.post(reverse("research:download", args=[requested.pk]), follow=True)
    assert b"already downloaded" in again.content
    actions = list(
        AuditEntry.objects.filter(object_type="research.researchexport")
        .order_by("seq")
        .values_list("action", "actor_label")
    )
    assert actions == [
        ("research_export.requested", "researcher"),
        ("research_export.completed", "system"),
        ("research_export.downloaded", "researcher"),
    ]
    assert all(
        e.patient_id is None for e in AuditEntry.objects.filter(action__startswith="research")
    )


def test_an_expired_export_is_removed_and_refused(clinic, export_clinic, as_role):
    done = export(clinic)
    ResearchExport.objects.filter(pk=done.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    refused = as_role("researcher").post(reverse("research:download", args=[done.pk]), follow=True)
    assert b"expired" in refused.content
    done.refresh_from_db()
    assert done.status == ExportStatus.EXPIRED and not Path(done.file_path).exists()
    assert AuditEntry.objects.filter(action="research_export.expired").count() == 1


def test_a_bad_request_writes_nothing(clinic, as_role):
    response = as_role("researcher").post(
        reverse("research:exports"),
        {"period_start": "2025-12-31", "period_end": "2025-01-01", "programs": ["no_such"]},
    )
    assert response.status_code == 200
    assert ResearchExport.objects.count() == 0
    assert (
        b"Select a valid choice" in response.content or b"must end on or after" in response.content
    )


def test_only_researchers_and_the_director_reach_the_page(clinic, as_role):
    for role in ("researcher", "medical_director"):
        assert as_role(role).get(reverse("research:exports")).status_code == 200
    for role in ("prescriber", "nurse", "therapist", "intake_coordinator", "administrator"):
        assert as_role(role).get(reverse("research:exports")).status_code == 403


def test_the_preview_gives_k_and_what_would_be_left_out_before_anything_runs(
    clinic, export_clinic, as_role
):
    from django_tasks_db.models import DBTaskResult

    researcher = as_role("researcher")
    fields = {"period_start": "2025-01-01", "period_end": "2025-12-31", "action": "preview"}
    page = researcher.post(reverse("research:exports"), fields)
    assert page.status_code == 200
    text = page.content.decode()
    # The hand count above: 8 patients, k = 1 (Grace and Zebulon alone in their classes).
    assert "8 patients</strong> in the period" in text and "k = 1</strong>" in text
    assert "2 classes below 5, holding 2 patients" in text
    assert "the export would hold <strong>8 patients, k = 1</strong>" in text
    assert 'with "leave out" ticked, 6 patients, k = 6' in text
    ticked = researcher.post(reverse("research:exports"), fields | {"suppress": "on"})
    assert "the export would hold <strong>6 patients, k = 6</strong>" in ticked.content.decode()
    # Nothing was requested, queued or written; the preview is audited (without a patient).
    assert ResearchExport.objects.count() == 0 and DBTaskResult.objects.count() == 0
    previews = AuditEntry.objects.filter(action="research_export.previewed")
    assert previews.count() == 2 and all(e.patient_id is None for e in previews)

    empty = researcher.post(
        reverse("research:exports"),
        fields | {"period_start": "2020-01-01", "period_end": "2020-12-31"},
    )
    assert "No patient's first contact falls in this period" in empty.content.decode()


def test_a_suppressed_export_row_gives_the_k_of_what_was_exported(clinic, export_clinic, as_role):
    done = export(clinic, suppress=True)
    row = as_role("researcher").get(reverse("research:export_status", args=[done.pk]))
    text = row.content.decode()
    assert "6 patients · k = 6" in text and "2 of 8 left out" in text and "k = 1 before" in text
