"""Billing's reads: the biller's queue, a patient's lines and account, claims, and what the
superbill, the CMS-1500 and the 837P are made from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.billing import ledger
from kapstone.billing.models import (
    AccountEntry,
    BillingProvider,
    ChargeDecision,
    ChargeLine,
    ChargeStatus,
    Claim,
    ClaimStatus,
    ClaimStatusEvent,
    ClinicianNumber,
    EntryKind,
    FeePrice,
    FeeSchedule,
    FeeScheduleVersion,
    PatientDiagnoses,
    Payer,
)
from kapstone.clinical.access import Role
from kapstone.patients.models import Patient


def _with_status(lines: QuerySet[ChargeLine]) -> list[ChargeLine]:
    rows = list(lines.select_related("patient", "site", "rendering", "decision", "reverses"))
    reversed_ids = set(
        ChargeLine.objects.filter(reverses__in=rows).values_list("reverses_id", flat=True)
    )
    for line in rows:
        decision = getattr(line, "decision", None)
        line.status = ChargeStatus(decision.status) if decision else ChargeStatus.PROPOSED  # type: ignore[attr-defined]
        line.was_reversed = line.pk in reversed_ids  # type: ignore[attr-defined]
    return rows


QUEUE_ORDER = ("service_date", "patient_id", "pk")


def _undecided() -> QuerySet[ChargeLine]:
    decided = ChargeDecision.objects.filter(line=OuterRef("pk"))
    return ChargeLine.objects.filter(~Exists(decided)).order_by(*QUEUE_ORDER)


def charge_queue() -> list[ChargeLine]:
    """Proposed lines waiting for the biller, oldest service first."""
    return _with_status(_undecided())


def charge_queue_page(number: str | None, *, per_page: int = 50) -> Page[ChargeLine]:
    """One page of the queue (a clinic's history can leave hundreds of lines to review): the page
    is counted and cut in the database, and only its lines are read with what they show."""
    page = Paginator(_undecided(), per_page).get_page(number)
    ids = [line.pk for line in page.object_list]
    page.object_list = _with_status(ChargeLine.objects.filter(pk__in=ids).order_by(*QUEUE_ORDER))
    return page


def line_of(line_id: int) -> ChargeLine | None:
    return ChargeLine.objects.select_related("patient", "site").filter(pk=line_id).first()


def lines_of(patient: Patient) -> list[ChargeLine]:
    return _with_status(ChargeLine.objects.filter(patient=patient).order_by("service_date", "pk"))


def billable_lines(patient: Patient) -> list[ChargeLine]:
    """Finalised lines that are not reversals and were not reversed: what a claim may carry."""
    return [
        line
        for line in lines_of(patient)
        if line.status == ChargeStatus.FINALISED  # type: ignore[attr-defined]
        and line.reverses_id is None
        and not line.was_reversed  # type: ignore[attr-defined]
    ]


@dataclass(frozen=True)
class Row:
    entry: AccountEntry
    signed_cents: int
    balance_cents: int


@dataclass(frozen=True)
class Account:
    patient: Patient
    rows: list[Row]
    charged_cents: int
    paid_cents: int
    adjusted_cents: int
    balance_cents: int
    lines: list[ChargeLine] = field(default_factory=list)


def account_of(patient: Patient) -> Account:
    """Every entry with its running balance; the totals and the balance from the core's rules."""
    entries = list(
        AccountEntry.objects.filter(patient=patient)
        .select_related("payer", "charge", "reverses", "posted_by")
        .order_by("effective_on", "pk")
    )
    moves = ledger.moves(entries)
    rows: list[Row] = []
    running = 0
    for entry, signed in zip(entries, moves, strict=True):
        running += signed
        rows.append(Row(entry, signed, running))
    totals = ledger.totals(entries)
    return Account(
        patient=patient,
        rows=rows,
        charged_cents=totals.charged,
        paid_cents=totals.paid,
        adjusted_cents=totals.adjusted,
        balance_cents=totals.balance,
        lines=lines_of(patient),
    )


def entry_of(patient: Patient, entry_id: int) -> AccountEntry | None:
    return AccountEntry.objects.filter(patient=patient, pk=entry_id).first()


def diagnoses_of(patient: Patient) -> list[str]:
    """The patient's latest diagnoses for claims (ICD-10-CM, in order); none recorded: []."""
    found = PatientDiagnoses.objects.filter(patient=patient).order_by("-recorded_at", "-pk").first()
    return list(found.codes) if found else []


def claim_defaults(patient: Patient) -> dict[str, str]:
    """A new claim's payer, member ID and group from the patient's coverage in force on the
    medical benefit (kapstone.coverage), if one is recorded."""
    from kapstone.clinical.billing.prior_auth import Benefit
    from kapstone.coverage.models import Coverage

    today = timezone.localdate()
    found = (
        Coverage.objects.filter(
            patient=patient, benefit=Benefit.MEDICAL.value, payer__is_active=True
        )
        .exclude(ended_on__lt=today)
        .order_by("-pk")
        .first()
    )
    if found is None:
        return {}
    return {
        "payer": str(found.payer_id),
        "member_id": found.member_id,
        "group_number": found.group_number,
    }


def payers() -> list[Payer]:
    return list(Payer.objects.filter(is_active=True))


def provider_for(patient: Patient) -> BillingProvider | None:
    return (
        BillingProvider.objects.filter(site_id=patient.home_site_id).select_related("site").first()
    )


def clinician_npis(staff_ids: Sequence[int | None]) -> dict[int, str]:
    return dict(
        ClinicianNumber.objects.filter(staff_id__in=[s for s in staff_ids if s]).values_list(
            "staff_id", "npi"
        )
    )


@dataclass(frozen=True)
class ClaimRow:
    claim: Claim
    status: ClaimStatus | None
    total_cents: int
    events: list[ClaimStatusEvent]


def _claim_rows(claims: Sequence[Claim]) -> list[ClaimRow]:
    rows = []
    for claim in claims:
        events = list(claim.events.select_related("recorded_by").order_by("recorded_at", "pk"))
        total = sum(cl.charge.fee_cents for cl in claim.lines.select_related("charge"))
        status = ClaimStatus(events[-1].status) if events else None
        rows.append(ClaimRow(claim, status, total, events))
    return rows


def claims(limit: int = 200) -> list[ClaimRow]:
    return _claim_rows(list(Claim.objects.select_related("patient", "payer")[:limit]))


def claims_of(patient: Patient) -> list[ClaimRow]:
    return _claim_rows(list(Claim.objects.filter(patient=patient).select_related("payer")))


def claim_of(patient: Patient, claim_id: int) -> ClaimRow | None:
    claim = (
        Claim.objects.filter(patient=patient, pk=claim_id)
        .select_related("payer", "provider", "provider__site", "created_by")
        .first()
    )
    return _claim_rows([claim])[0] if claim else None


def claim_lines(claim: Claim) -> list[ChargeLine]:
    return [
        cl.charge for cl in claim.lines.select_related("charge", "charge__rendering").order_by("pk")
    ]


def paid_on_claim(claim: Claim) -> int:
    entries = list(AccountEntry.objects.filter(claim=claim))
    return ledger.totals(entries).paid


def accounts_with_balance(limit: int = 100) -> list[tuple[Patient, int]]:
    """Patients whose account is not settled, largest balance first."""
    patient_ids = (
        AccountEntry.objects.filter(kind=EntryKind.CHARGE)
        .values_list("patient_id", flat=True)
        .distinct()
    )
    found = []
    for patient in Patient.objects.filter(pk__in=list(patient_ids)):
        balance = ledger.totals(list(AccountEntry.objects.filter(patient=patient))).balance
        if balance:
            found.append((patient, balance))
    return sorted(found, key=lambda pair: -pair[1])[:limit]


# Billing setup: payers, the practice's billing numbers per site, clinicians' NPIs, fee schedules.


def setup_payers() -> list[Payer]:
    """Every payer, active or not, by name."""
    return list(Payer.objects.order_by("name"))


def payer_of(payer_id: int) -> Payer | None:
    return Payer.objects.filter(pk=payer_id).first()


def setup_sites() -> list[Site]:
    return list(Site.objects.filter(is_active=True).order_by("name"))


def site_of(site_id: int) -> Site | None:
    return Site.objects.filter(pk=site_id, is_active=True).first()


def site_providers() -> list[tuple[Site, BillingProvider | None]]:
    """Each active site with the practice's billing details there (None: not set yet)."""
    found = {p.site_id: p for p in BillingProvider.objects.all()}
    return [(site, found.get(site.pk)) for site in setup_sites()]


def provider_of(site: Site) -> BillingProvider | None:
    return BillingProvider.objects.filter(site=site).first()


# The roles whose services are billed under their own NPI (the rendering clinician on a line).
RENDERING_ROLES = tuple(
    r.value for r in (Role.MEDICAL_DIRECTOR, Role.PRESCRIBER, Role.NURSE, Role.THERAPIST)
)


def rendering_clinicians() -> list[tuple[StaffUser, str]]:
    """Active clinicians who may render a billed service, each with their NPI ("" if none yet)."""
    staff = list(
        StaffUser.objects.filter(is_active=True, role__in=RENDERING_ROLES).order_by(
            "last_name", "first_name", "pk"
        )
    )
    npis = clinician_npis([s.pk for s in staff])
    return [(person, npis.get(person.pk, "")) for person in staff]


@dataclass(frozen=True)
class VersionRow:
    version: FeeScheduleVersion
    prices: list[FeePrice]


@dataclass(frozen=True)
class ScheduleRow:
    schedule: FeeSchedule
    versions: list[VersionRow]  # newest first


def fee_schedules() -> list[ScheduleRow]:
    """Every site's fee schedules (self-pay first, then by payer), each with its dated versions."""
    schedules = list(
        FeeSchedule.objects.select_related("site", "payer").order_by(
            "site__name", F("payer__name").asc(nulls_first=True)
        )
    )
    prices: dict[int, list[FeePrice]] = {}
    for price in FeePrice.objects.filter(version__schedule__in=schedules).order_by("code"):
        prices.setdefault(price.version_id, []).append(price)
    versions: dict[int, list[VersionRow]] = {}
    for version in (
        FeeScheduleVersion.objects.filter(schedule__in=schedules)
        .select_related("created_by")
        .order_by("-effective_from", "-pk")
    ):
        versions.setdefault(version.schedule_id, []).append(
            VersionRow(version, prices.get(version.pk, []))
        )
    return [ScheduleRow(s, versions.get(s.pk, [])) for s in schedules]


def latest_prices(site: Site, payer: Payer | None) -> dict[str, int]:
    """The prices of the newest version of the site's schedule for the payer ({} if none)."""
    version = (
        FeeScheduleVersion.objects.filter(schedule__site=site, schedule__payer=payer)
        .order_by("-effective_from", "-pk")
        .first()
    )
    if version is None:
        return {}
    return dict(version.prices.values_list("code", "cents"))
