"""Reads of the staff and site registers, as the administrator's pages list them."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from kapstone.accounts.models import Site, StaffUser


def staff_register() -> QuerySet[StaffUser]:
    """Every account, grouped by role, with the sites and modality credentials the list shows."""
    return StaffUser.objects.prefetch_related("sites", "modality_credentials").order_by(
        "role", "last_name"
    )


def sites_with_staff_counts() -> QuerySet[Site]:
    """Every site by name; each carries ``staff_count``, how many accounts work there."""
    return Site.objects.annotate(staff_count=Count("staff")).order_by("name")
