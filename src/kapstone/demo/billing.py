"""The demo clinic's billing: a payer, each site's billing details, the clinic's self-pay prices,
the clinicians' NPIs and each patient's diagnoses for claims, set up before the demo's sessions are
signed so each signature proposes its charge lines for the demo biller (``billing``) to review.

The numbers are synthetic: NPIs are made to pass the check digit, the tax ID and payer ID are
invented, and the prices are an example, not a recommendation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from kapstone.accounts.models import Site, StaffUser
from kapstone.billing import services
from kapstone.clinical.access import Role
from kapstone.clinical.billing.claim import npi_is_valid
from kapstone.patients.models import Patient

PRICES = {
    "96365": 45000,
    "96366": 12000,
    "96374": 20000,
    "96372": 6000,
    "J3490": 5000,
    "G2082": 60000,
    "G2083": 90000,
    "J0013": 1200,
    "90832": 9000,
    "90834": 13000,
    "90837": 18000,
    "90833": 8000,
    "90836": 10000,
    "90838": 14000,
    "90785": 2500,
    "99212": 8000,
    "99213": 11000,
    "99214": 16000,
    "99215": 21000,
}


def demo_npi(n: int) -> str:
    """The n-th synthetic NPI: a fixed prefix, ``n``, and the digit that makes the check pass."""
    base = f"19{n:07d}"
    return next(base + str(d) for d in range(10) if npi_is_valid(base + str(d)))


def build_billing(
    *, sites: Sequence[Site], staff: dict[str, StaffUser], patients: Sequence[Patient]
) -> None:
    biller = next(s for s in staff.values() if s.staff_role is Role.BILLER)
    services.save_payer(
        by=biller,
        name="Northern Lights Health Plan",
        payer_id="NLHP1",
        address_line="PO Box 4100",
        city="Augusta",
        state="ME",
        postal_code="04330",
    )
    for n, site in enumerate(sites):
        services.save_billing_provider(
            by=biller,
            site=site,
            name=f"Kapstone Demo Clinic, {site.name}",
            npi=demo_npi(n),
            tax_id=f"9900000{n:02d}",
            address_line=f"{100 + n} Harbour Street",
            city="Portland",
            state="ME",
            postal_code="04101",
            phone="(207) 555-0100",
        )
        services.save_fee_schedule_version(
            by=biller, site=site, payer=None, effective_from=dt.date(2025, 1, 1), prices=PRICES
        )
    clinicians = [s for s in staff.values() if s.staff_role in {Role.PRESCRIBER, Role.THERAPIST}]
    for n, clinician in enumerate(clinicians, start=10):
        services.save_clinician_number(by=biller, staff=clinician, npi=demo_npi(n))
    for n, patient in enumerate(patients):
        codes = ["F33.2", "F41.1"] if n % 3 == 0 else ["F33.1"]
        services.record_diagnoses(by=biller, patient=patient, codes=codes)
