"""What billing's services share: who may act, the fee a schedule gives a code on a day."""

from __future__ import annotations

import datetime as dt

from kapstone.accounts.models import Site, StaffUser
from kapstone.billing.models import FeePrice, Payer
from kapstone.clinical.access import Permission, role_may


def refused_role(by: StaffUser, permission: Permission, what: str) -> dict[str, list[str]]:
    """The error when ``by``'s role does not carry ``permission`` (empty when it does)."""
    if role_may(by.staff_role, permission):
        return {}
    return {"": [f"Your role ({by.staff_role.label}) does not {what}."]}


def unit_price(*, site: Site, payer: Payer | None, code: str, on: dt.date) -> int | None:
    """The price per unit in cents of ``code`` in the schedule version in force on ``on`` (the
    latest dated on or before it) of the site's schedule for the payer; None: no price."""
    price = (
        FeePrice.objects.filter(
            version__schedule__site=site,
            version__schedule__payer=payer,
            version__effective_from__lte=on,
        )
        .order_by("-version__effective_from")
        .values_list("version_id", flat=True)
        .first()
    )
    if price is None:
        return None
    found = FeePrice.objects.filter(version_id=price, code=code).values_list("cents", flat=True)
    return found.first()
