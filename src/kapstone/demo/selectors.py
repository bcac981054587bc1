"""What the demo commands print about the clinic they loaded."""

from __future__ import annotations

from kapstone.companion.models import PatientAccount


def demo_accounts() -> list[PatientAccount]:
    """The demo's companion accounts (their addresses are on the demo's own invalid domain)."""
    return list(
        PatientAccount.objects.filter(email__endswith="@demo.kapstone.invalid")
        .select_related("patient")
        .order_by("email")
    )
