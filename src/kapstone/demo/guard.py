from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError


def refuse_production(command: str) -> None:
    """Synthetic patients and their known passwords never go into a clinic's real database."""
    if settings.PRODUCTION:
        raise CommandError(
            f"{command} writes synthetic patients and staff with a published password: it is "
            "refused under KAPSTONE_PROFILE=production. Nothing was written. Use kapstone "
            "bootstrap for a clinic's first accounts."
        )
