"""Reference data a biller keeps: payers, the practice's and clinicians' billing numbers, and the
fee schedules (a new dated version of prices each time they change; old versions stay)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.audit.trail import record
from kapstone.billing.models import (
    BillingProvider,
    ClinicianNumber,
    FeePrice,
    FeeSchedule,
    FeeScheduleVersion,
    Payer,
)
from kapstone.clinical.billing.claim import npi_is_valid
from kapstone.errors import InputError

_EIN = re.compile(r"^\d{9}$")
_CODE = re.compile(r"^[A-Z0-9]{5}$")
_STATE = re.compile(r"^[A-Z]{2}$")
_ZIP = re.compile(r"^\d{5}(\d{4})?$")
MAX_CENTS = 10_000_000  # $100,000: a typo guard, not a policy


def _address_errors(state: str, postal_code: str, errors: dict[str, list[str]]) -> None:
    if not _STATE.match(state):
        errors["state"] = ["Give the state's two-letter code, e.g. NY."]
    if not _ZIP.match(postal_code.replace("-", "")):
        errors["postal_code"] = ["Give the ZIP code: 5 digits, or ZIP+4."]


def save_payer(
    *,
    by: StaffUser | None,
    name: str,
    payer_id: str,
    address_line: str = "",
    city: str = "",
    state: str = "",
    postal_code: str = "",
    payer: Payer | None = None,
) -> Payer:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Give the payer's name."]
    if not re.match(r"^[A-Za-z0-9]{2,80}$", payer_id):
        errors["payer_id"] = ["Give the payer ID the payer publishes for electronic claims."]
    if state or postal_code:
        _address_errors(state, postal_code, errors)
    clash = Payer.objects.filter(name=name.strip())
    if payer is not None:
        clash = clash.exclude(pk=payer.pk)
    if name.strip() and clash.exists():
        errors["name"] = ["A payer of this name exists."]
    if errors:
        raise InputError(errors)
    fields = {
        "name": name.strip(),
        "payer_id": payer_id,
        "address_line": address_line.strip(),
        "city": city.strip(),
        "state": state,
        "postal_code": postal_code.replace("-", ""),
    }
    with transaction.atomic():
        before = {k: getattr(payer, k) for k in fields} if payer else None
        if payer is None:
            payer = Payer.objects.create(**fields)
        else:
            for key, value in fields.items():
                setattr(payer, key, value)
            payer.save()
        record(
            actor=by,
            action="billing.payer_saved",
            obj=payer,
            summary=f"Payer {payer.name} ({payer.payer_id}) saved",
            before=before,
            after=fields,
        )
    return payer


def save_billing_provider(
    *,
    by: StaffUser | None,
    site: Site,
    name: str,
    npi: str,
    tax_id: str,
    address_line: str,
    city: str,
    state: str,
    postal_code: str,
    phone: str = "",
    taxonomy_code: str = "",
) -> BillingProvider:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Give the practice's legal name."]
    if not npi_is_valid(npi):
        errors["npi"] = ["Give the practice's 10-digit NPI (its check digit does not match)."]
    if not _EIN.match(tax_id.replace("-", "")):
        errors["tax_id"] = ["Give the 9-digit employer identification number."]
    if not address_line.strip() or not city.strip():
        errors["address_line"] = ["Give the street address and city."]
    _address_errors(state, postal_code, errors)
    if errors:
        raise InputError(errors)
    fields = {
        "name": name.strip(),
        "npi": npi,
        "tax_id": tax_id.replace("-", ""),
        "address_line": address_line.strip(),
        "city": city.strip(),
        "state": state,
        "postal_code": postal_code.replace("-", ""),
        "phone": phone.strip(),
        "taxonomy_code": taxonomy_code.strip(),
    }
    with transaction.atomic():
        provider, created = BillingProvider.objects.update_or_create(site=site, defaults=fields)
        record(
            actor=by,
            action="billing.provider_saved",
            obj=provider,
            summary=f"Billing details of {site.name} saved",
            after=fields | {"created": created},
        )
    return provider


def save_clinician_number(*, by: StaffUser | None, staff: StaffUser, npi: str) -> ClinicianNumber:
    if not npi_is_valid(npi):
        raise InputError.single("npi", "Give the clinician's 10-digit NPI (check digit wrong).")
    with transaction.atomic():
        number, _ = ClinicianNumber.objects.update_or_create(staff=staff, defaults={"npi": npi})
        record(
            actor=by,
            action="billing.clinician_npi_saved",
            obj=number,
            summary=f"NPI of {staff.display_name} saved",
            after={"npi": npi},
        )
    return number


def save_fee_schedule_version(
    *,
    by: StaffUser | None,
    site: Site,
    payer: Payer | None,
    effective_from: dt.date,
    prices: Mapping[str, int],
    name: str = "",
    now: dt.datetime | None = None,
) -> FeeScheduleVersion:
    """A new version of the site's prices for the payer (None: the clinic's self-pay prices), in
    integer cents per unit, in force from ``effective_from``."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not prices:
        errors["prices"] = ["Give at least one code and its price."]
    for code, cents in prices.items():
        if not _CODE.match(code):
            errors.setdefault("prices", []).append(f"{code!r} is not a CPT or HCPCS code.")
        if not isinstance(cents, int) or not 0 <= cents <= MAX_CENTS:
            errors.setdefault("prices", []).append(f"The price of {code} is out of range.")
    schedule = FeeSchedule.objects.filter(site=site, payer=payer).first()
    if schedule and schedule.versions.filter(effective_from=effective_from).exists():
        errors["effective_from"] = ["A version from this day exists: date the new one later."]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        if schedule is None:
            default = f"{site.name}: {payer.name if payer else 'self-pay'}"
            schedule = FeeSchedule.objects.create(site=site, payer=payer, name=name or default)
        version = FeeScheduleVersion.objects.create(
            schedule=schedule, effective_from=effective_from, created_by=by, created_at=now
        )
        FeePrice.objects.bulk_create(
            FeePrice(version=version, code=code, cents=cents)
            for code, cents in sorted(prices.items())
        )
        record(
            actor=by,
            action="billing.fee_schedule_saved",
            obj=version,
            summary=f"{schedule.name}: prices from {effective_from} ({len(prices)} codes)",
            after={"effective_from": effective_from.isoformat(), "prices": dict(prices)},
        )
    return version
