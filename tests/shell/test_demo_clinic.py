"""The demo clinic is deterministic and complete enough to walk every role's journey."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.db import transaction

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import verify_chain
from kapstone.clinical.access import Role
from kapstone.companion.models import PatientAccount
from kapstone.demo.generator import build_demo_clinic
from kapstone.demo.timetable import RETREATERS
from kapstone.demo.today import DAY
from kapstone.journal.models import JournalEntry
from kapstone.messaging.models import Thread
from kapstone.patients.models import Patient

TODAY = dt.date(2026, 11, 21)


def fingerprint() -> list[tuple]:
    return list(
        Patient.objects.order_by("mrn").values_list(
            "mrn",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex_at_birth",
            "referral_source",
            "home_site__name",
            "prescriber__username",
            "therapist__username",
            "nurse__username",
        )
    )


def test_demo_clinic_has_every_role_and_realistic_patients(db):
    clinic = build_demo_clinic(patients=12, seed=7, today=TODAY)
    assert {u.staff_role for u in StaffUser.objects.all()} == set(Role)
    assert len(clinic.patients) == 12
    for patient in clinic.patients:
        assert 18 <= patient.age_on(TODAY) <= 75
        assert patient.prescriber and patient.therapist and patient.nurse
        weight = patient.measurements.first().weight_kg
        assert 30 <= weight <= 300
        assert patient.emergency_contact_phone
    therapists = StaffUser.objects.filter(role=Role.THERAPIST.value)
    assert all(t.modalities() for t in therapists)
    assert verify_chain()[1] is None


def _clinic_for(seed: int) -> list[tuple]:
    """Builds a clinic inside a savepoint, notes who is in it, and rolls it back."""
    savepoint = transaction.savepoint_create()
    build_demo_clinic(patients=8, seed=seed, today=TODAY)
    people = fingerprint()
    transaction.savepoint_rollback(savepoint)
    return people


def test_same_seed_same_clinic_and_another_seed_another(db):
    first = _clinic_for(11)
    assert len(first) == 8
    assert _clinic_for(11) == first
    assert _clinic_for(12) != first


def test_the_command_loads_once_and_prints_logins(db, capsys):
    call_command("demo_clinic", "--patients", "3")
    call_command("demo_clinic", "--patients", "3")
    out = capsys.readouterr().out
    assert "Loaded the demo clinic" in out
    assert "already loaded" in out
    assert "director" in out and "kapstone-demo-clinic" in out
    # Mid-course patients with a companion account, one in Spanish, printed with the logins.
    accounts = PatientAccount.objects.filter(email__endswith="@demo.kapstone.invalid")
    assert accounts.count() == 3
    assert sorted(a.language for a in accounts) == ["en-gb", "en-gb", "es"]
    assert all(check_password("kapstone-demo-clinic", a.password) for a in accounts)
    assert "patient1@demo.kapstone.invalid" in out and "(Español)" in out
    assert JournalEntry.objects.filter(shared_with_therapist=True).count() == 3
    assert Thread.objects.count() == 4
    # The generated patients, the retreat patients waiting to be scheduled and today's patients.
    assert Patient.objects.count() == 3 + len(RETREATERS) + len(DAY)
