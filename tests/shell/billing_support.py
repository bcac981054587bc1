"""Building blocks for the billing tests and the URL walker: a payer, the practice's billing
numbers, a fee schedule, clinicians' NPIs; a proposed line, a finalised one, a claim."""

from __future__ import annotations

import datetime as dt

from kapstone.accounts.models import StaffUser
from kapstone.billing import services
from kapstone.billing.models import BillingProvider, ChargeLine, Claim, Payer

# Valid NPIs (their Luhn check digits match): the practice's, and two clinicians'.
PRACTICE_NPI = "1234567893"
CLINICIAN_NPIS = ("1245319599", "1992735385", "1003000126", "1215930367")
PRICES = {
    "96365": 45000,
    "96366": 12000,
    "96372": 6000,
    "J3490": 5000,
    "G2082": 60000,
    "G2083": 90000,
    "90832": 9000,
    "90834": 13000,
    "90837": 18000,
    "90785": 2500,
    "99213": 11000,
    "99214": 16000,
    "90833": 8000,
    "90836": 10000,
    "90838": 14000,
}
SERVICE_DAY = dt.date(2026, 11, 20)


def biller() -> StaffUser:
    return StaffUser.objects.filter(role="biller", is_active=True).order_by("pk").first()


def billing_setup(site, *, clinicians=()) -> Payer:  # type: ignore[no-untyped-def]
    """The site's billing details and self-pay prices, a payer, and NPIs for the clinicians."""
    payer = Payer.objects.filter(name="Acme Health").first() or services.save_payer(
        by=None,
        name="Acme Health",
        payer_id="60054",
        address_line="PO Box 1",
        city="Hartford",
        state="CT",
        postal_code="06101",
    )
    if not BillingProvider.objects.filter(site=site).exists():
        services.save_billing_provider(
            by=None,
            site=site,
            name=f"{site.name} Ketamine Clinic",
            npi=PRACTICE_NPI,
            tax_id="12-3456789",
            address_line="1 River Road",
            city="Albany",
            state="NY",
            postal_code="12207",
            phone="(518) 555-0100",
        )
        services.save_fee_schedule_version(
            by=None, site=site, payer=None, effective_from=dt.date(2026, 1, 1), prices=PRICES
        )
    for staff, npi in zip(clinicians, CLINICIAN_NPIS, strict=False):
        services.save_clinician_number(by=None, staff=staff, npi=npi)
    return payer


def proposed_line(patient, *, code: str = "90837", units: int = 1, rendering=None) -> ChargeLine:  # type: ignore[no-untyped-def]
    """A line as a signed encounter's proposal writes it (written directly, as the proposal does)."""
    from django.utils import timezone

    return ChargeLine.objects.create(
        patient=patient,
        site=patient.home_site,
        code=code,
        units=units,
        diagnoses=["F33.2", "F41.1"],
        diagnosis_pointers=[1, 2],
        rendering=rendering or patient.therapist,
        service_date=SERVICE_DAY,
        fee_cents=PRICES[code] * units,
        rule="test support",
        proposed_at=timezone.now(),
    )


def finalised_line(patient, **kw) -> ChargeLine:  # type: ignore[no-untyped-def]
    line = proposed_line(patient, **kw)
    services.finalise_charge(by=biller(), line=line)
    return line


def sample_line(patient) -> ChargeLine:  # type: ignore[no-untyped-def]
    """For the URL walker: a proposed line of the walked patient (any, for a clinic-wide page)."""
    if patient is None:
        from kapstone.patients.models import Patient

        patient = Patient.objects.order_by("pk").first()
    found = ChargeLine.objects.filter(patient=patient, decision__isnull=True).first()
    return found or proposed_line(patient)


def sample_claim(patient) -> Claim:  # type: ignore[no-untyped-def]
    """For the URL walker: a claim for a finalised line of the walked patient."""
    found = Claim.objects.filter(patient=patient).first()
    if found is not None:
        return found
    payer = billing_setup(patient.home_site, clinicians=[patient.therapist, patient.prescriber])
    line = finalised_line(patient)
    return services.create_claim(
        by=biller(),
        patient=patient,
        payer=payer,
        lines=[line],
        member_id="W123456789",
        group_number="GRP1",
        address_line="12 Elm Street",
        city="Albany",
        state="NY",
        postal_code="12208",
    )


def sample_payer() -> Payer:
    """For the URL walker: a payer (billing setup is clinic-wide)."""
    from kapstone.accounts.models import Site

    return billing_setup(Site.objects.order_by("pk").first())


def sample_entry(patient):  # type: ignore[no-untyped-def]
    """For the URL walker: a payment on the walked patient's account."""
    from kapstone.billing.models import AccountEntry

    found = AccountEntry.objects.filter(patient=patient, kind="payment").first()
    return found or services.post_entry(
        by=biller(),
        patient=patient,
        kind="payment",
        cents=5000,
        effective_on=SERVICE_DAY,
        method="card",
    )


def signed_retreat_day(clinic, *, infusion_minutes: int = 40, therapy_minutes: int = 60):  # type: ignore[no-untyped-def]
    """An IV dosing session charted and signed at the chair, then its integration note signed,
    both through the services (the chair-side record's session began 90 minutes ago)."""
    from decimal import Decimal

    from django.utils import timezone

    from kapstone.chairside import services as chairside
    from kapstone.clinical.discharge import DischargeChecklist
    from kapstone.integration import services as integration
    from tests.shell.chairside_support import at, ready_to_dose, reconcile
    from tests.shell.integration_support import EMDR

    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    chairside.give_dose(
        by=nurse,
        record=record,
        dose_mg=Decimal(35),
        started_at=at(session, 10),
        stopped_at=at(session, 10 + infusion_minutes),
    )
    chairside.discharge(
        by=nurse,
        record=record,
        checklist=DischargeChecklist(True, True, True, True, True),
        override_reason="Observation ends in minutes; partner present",
    )
    reconcile(record)
    chairside.sign_record(by=nurse, record=record)
    therapist = clinic.staff["therapist"]
    now = timezone.now()
    meeting = integration.book_integration_session(
        by=None,
        patient=session.patient,
        starts_at=now - dt.timedelta(minutes=therapy_minutes + 1),
        duration=dt.timedelta(minutes=max(therapy_minutes, 30)),
        therapist=therapist,
        modality="emdr",
        dosing_session=session,
        now=now,
    )
    note = integration.save_note(
        by=therapist,
        session=meeting,
        held_at=meeting.starts_at,
        minutes=therapy_minutes,
        structured={"emdr": EMDR, "homework": "Safe place"},
        narrative="Integration after the infusion.",
        now=now,
    )
    integration.sign_note(by=therapist, note=note, now=now, override_reason="test")
    return record, note


def prepared_clinic(clinic):  # type: ignore[no-untyped-def]
    """Billing set up for the clinic's first site, NPIs for the patient's clinicians, and the
    patient's diagnoses for claims recorded by the biller."""
    patient = clinic.on_team
    payer = billing_setup(
        patient.home_site, clinicians=[clinic.staff["prescriber"], clinic.staff["therapist"]]
    )
    services.record_diagnoses(by=clinic.staff["biller"], patient=patient, codes=["F33.2", "F41.1"])
    return payer
