"""A deterministic synthetic clinic: the same seed and day always give the same clinic.

Used by ``make run``, by the tests (as shared personas) and by benchmarks (``patients`` scales it).
Everything goes through the services, so the demo clinic's audit trail is real too.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from kapstone.accounts.models import Site, StaffUser
from kapstone.accounts.services import create_staff
from kapstone.clinical.access import Modality, Role
from kapstone.clinical.plausibility import WEIGHT_RANGE_KG
from kapstone.demo.billing import build_billing
from kapstone.demo.chairside import build_chairside
from kapstone.demo.companion import DemoAccount, build_companion
from kapstone.demo.history import build_history
from kapstone.demo.integration import build_integration
from kapstone.demo.ledger import build_ledger
from kapstone.demo.monitors import build_monitor
from kapstone.demo.rems import build_rems_forms
from kapstone.demo.timetable import build_timetable
from kapstone.demo.today import build_day
from kapstone.patients.models import Patient, ReferralSource, SexAtBirth
from kapstone.patients.services import record_body_measurement, register_patient
from kapstone.plans.services import ensure_default_templates

DEMO_PASSWORD = "kapstone-demo-clinic"  # noqa: S105 - synthetic demo accounts only

SITES = (
    ("Riverside Clinic", "120 River Road, Portland, ME 04101", "(207) 555-0140"),
    ("Harbour View", "8 Wharf Street, Portland, ME 04101", "(207) 555-0175"),
    ("Westbrook Annex", "55 Main Street, Westbrook, ME 04092", "(207) 555-0190"),
)


@dataclass(frozen=True)
class DemoStaff:
    username: str
    first_name: str
    last_name: str
    role: Role
    credentials: str
    modalities: frozenset[Modality] = frozenset()


STAFF = (
    DemoStaff("director", "Miriam", "Okafor", Role.MEDICAL_DIRECTOR, "MD"),
    DemoStaff("prescriber", "Daniel", "Reyes", Role.PRESCRIBER, "MD"),
    DemoStaff("prescriber2", "Priya", "Nair", Role.PRESCRIBER, "PMHNP"),
    DemoStaff("nurse", "Grace", "Lindqvist", Role.NURSE, "RN"),
    DemoStaff("nurse2", "Tomás", "Alvarez", Role.NURSE, "RN"),
    DemoStaff("nurse3", "Hannah", "Brooks", Role.NURSE, "RN"),
    DemoStaff(
        "therapist",
        "Elena",
        "Markovic",
        Role.THERAPIST,
        "LCSW",
        frozenset({Modality.EMDR, Modality.IFS, Modality.SOMATIC}),
    ),
    DemoStaff(
        "therapist2",
        "Samuel",
        "Osei",
        Role.THERAPIST,
        "PsyD",
        frozenset({Modality.ART, Modality.CBT, Modality.EXPOSURE}),
    ),
    DemoStaff(
        "therapist3",
        "Aiko",
        "Tanaka",
        Role.THERAPIST,
        "LMFT",
        frozenset({Modality.IFS, Modality.BEHAVIOURAL_ACTIVATION, Modality.CBT}),
    ),
    DemoStaff(
        "therapist4",
        "Rafael",
        "Costa",
        Role.THERAPIST,
        "LPC",
        frozenset({Modality.EMDR, Modality.EXPOSURE, Modality.SOMATIC}),
    ),
    DemoStaff("intake", "Jordan", "Whitfield", Role.INTAKE_COORDINATOR, ""),
    DemoStaff("researcher", "Lena", "Fischer", Role.RESEARCHER, "PhD"),
    DemoStaff("admin", "Chris", "Duval", Role.ADMINISTRATOR, ""),
    DemoStaff("billing", "Kim", "Park", Role.BILLER, ""),
)

GIVEN_FEMALE = (
    "Olivia",
    "Amara",
    "Sofia",
    "Maya",
    "Chloe",
    "Isabel",
    "Nadia",
    "Leah",
    "Zoe",
    "Ruth",
    "Ines",
    "Keiko",
    "Fatima",
    "Claire",
    "Joanna",
    "Beatriz",
    "Tessa",
    "Mei",
    "Abigail",
    "Noor",
)
GIVEN_MALE = (
    "Liam",
    "Marcus",
    "Omar",
    "Ethan",
    "Jonah",
    "Mateo",
    "Kwame",
    "Felix",
    "Arjun",
    "Theo",
    "Isaac",
    "Caleb",
    "Diego",
    "Henrik",
    "Samir",
    "Owen",
    "Luca",
    "Malik",
    "Victor",
    "Wesley",
)
FAMILY = (
    "Anderson",
    "Bennett",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fontaine",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Thompson",
    "Usman",
    "Vasquez",
    "Williams",
    "Xu",
    "Young",
    "Zimmerman",
    "Adeyemi",
    "Byrne",
    "Chen",
    "Delgado",
    "Ellison",
    "Farah",
    "Gallagher",
    "Hughes",
    "Iqbal",
    "Kim",
)
STREETS = (
    "Maple Ave",
    "Congress St",
    "Forest Ave",
    "Brackett St",
    "Danforth St",
    "Pine St",
    "Oak Hill Rd",
)
RELATIONSHIPS = (
    "spouse",
    "partner",
    "mother",
    "father",
    "sister",
    "brother",
    "friend",
    "adult child",
)
REFERRERS = {
    ReferralSource.PSYCHIATRIST: ("Dr. Alan Morse", "Dr. Ruth Sato", "Casco Bay Psychiatry"),
    ReferralSource.PRIMARY_CARE: ("Dr. Nina Holt", "Back Cove Family Medicine", "Dr. Omar Aziz"),
    ReferralSource.THERAPIST: ("Sarah Lind, LCSW", "Mark Ellis, PhD", "Harbor Counselling"),
    ReferralSource.OTHER_CLINIC: ("Northeast Ketamine Center",),
    ReferralSource.SELF: ("",),
    ReferralSource.OTHER: ("Veterans' peer group",),
}


@dataclass(frozen=True)
class DemoClinic:
    sites: list[Site]
    staff: dict[str, StaffUser]
    patients: list[Patient]
    companion: list[DemoAccount] = field(default_factory=list)


def _phone(rng: random.Random) -> str:
    return f"(207) 555-{rng.randint(200, 9999):04d}"


def build_demo_clinic(
    *,
    patients: int = 36,
    seed: int = 2026,
    today: dt.date,
    history_until: dt.datetime | None = None,
) -> DemoClinic:
    """Creates sites, one account per demo persona and ``patients`` synthetic patients; with
    ``history_until`` (the present), also their programs, sessions, scores and alerts."""
    rng = random.Random(seed)
    # The demo's plans are built on the clinic's default programs: a database flushed since its
    # migrations seeded them (as the test suite's are) would otherwise have none.
    ensure_default_templates()
    with transaction.atomic():
        site_count = 3 if patients > 200 else 2
        sites = [
            Site.objects.create(name=name, address=address, phone=phone)
            for name, address, phone in SITES[:site_count]
        ]
        staff: dict[str, StaffUser] = {}
        for persona in STAFF:
            staff[persona.username] = create_staff(
                by=None,
                username=persona.username,
                first_name=persona.first_name,
                last_name=persona.last_name,
                email=f"{persona.username}@demo.kapstone.invalid",
                role=persona.role,
                password=DEMO_PASSWORD,
                credentials=persona.credentials,
                sites=sites,
                modalities=persona.modalities,
            )
    prescribers = [s for s in staff.values() if s.staff_role is Role.PRESCRIBER]
    therapists = [s for s in staff.values() if s.staff_role is Role.THERAPIST]
    nurses = [s for s in staff.values() if s.staff_role is Role.NURSE]
    coordinator = staff["intake"]
    created: list[Patient] = []
    for n in range(patients):
        sex = rng.choice(
            (
                SexAtBirth.FEMALE,
                SexAtBirth.FEMALE,
                SexAtBirth.MALE,
                SexAtBirth.MALE,
                SexAtBirth.INTERSEX if n % 40 == 39 else SexAtBirth.FEMALE,
            )
        )
        given = rng.choice(GIVEN_FEMALE if sex == SexAtBirth.FEMALE else GIVEN_MALE)
        family = rng.choice(FAMILY)
        age_days = rng.randint(19 * 365, 74 * 365)
        born = today - dt.timedelta(days=age_days)
        referral = rng.choice(list(REFERRERS))
        base_weight = (
            Decimal(rng.randint(520, 1050) if sex == SexAtBirth.MALE else rng.randint(450, 950))
            / 10
        )
        height = (
            Decimal(rng.randint(1650, 1950) if sex == SexAtBirth.MALE else rng.randint(1520, 1800))
            / 10
        )
        first_seen = today - dt.timedelta(days=rng.randint(7, 400))
        patient = register_patient(
            by=coordinator,
            details={
                "mrn": f"KAP-{100001 + n}",
                "given_name": given,
                "family_name": family,
                "preferred_name": "",
                "date_of_birth": born,
                "sex_at_birth": sex,
                "gender_identity": "non-binary" if n % 17 == 16 else "",
                "pronouns": "they/them"
                if n % 17 == 16
                else ("she/her" if sex == SexAtBirth.FEMALE else "he/him"),
                "phone": _phone(rng),
                "email": f"{given.lower()}.{family.lower().replace(chr(39), '')}{n}@example.invalid",
                "address": f"{rng.randint(2, 480)} {rng.choice(STREETS)}, Portland, ME",
                "emergency_contact_name": f"{rng.choice(GIVEN_FEMALE + GIVEN_MALE)} {family}",
                "emergency_contact_relationship": rng.choice(RELATIONSHIPS),
                "emergency_contact_phone": _phone(rng),
                "referral_source": referral,
                "referrer_name": rng.choice(REFERRERS[referral]),
                "home_site": sites[n % len(sites)],
            },
            care_team={
                "prescriber": prescribers[n % len(prescribers)],
                "therapist": therapists[n % len(therapists)],
                "nurse": nurses[n % len(nurses)],
            },
            weight_kg=base_weight,
            height_cm=height,
            measured_on=first_seen,
        )
        # A few follow-up weights: dose calculations use the latest.
        for k in range(rng.randint(0, 3)):
            day = first_seen + dt.timedelta(days=14 * (k + 1))
            if day > today:
                break
            drift = Decimal(rng.randint(-25, 25)) / 10
            record_body_measurement(
                by=nurses[n % len(nurses)],
                patient=patient,
                measured_on=day,
                weight_kg=max(WEIGHT_RANGE_KG.low, base_weight + drift),
            )
        created.append(patient)
    if history_until is not None:
        build_billing(sites=sites, staff=staff, patients=created)
        build_history(patients=created, rng=random.Random(seed + 1), now=history_until)
        build_ledger(sites=sites, staff=staff, now=history_until)
        build_chairside(now=history_until, seed=seed)
        build_integration(now=history_until, seed=seed)
        build_timetable(sites=sites, staff=staff, now=history_until)
        build_day(sites=sites, staff=staff, now=history_until)
        build_monitor(sites=sites, staff=staff, now=history_until)
        build_rems_forms(now=history_until)
        # Any patient of the clinic, the day board's among them: the first few mid-course.
        companion = build_companion(
            patients=list(Patient.objects.order_by("pk")),
            staff=staff,
            password=DEMO_PASSWORD,
            now=history_until,
        )
    else:
        companion = []
    return DemoClinic(sites=sites, staff=staff, patients=created, companion=companion)
