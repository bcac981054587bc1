"""Rows written once: signed records, alerts and their acknowledgements, the ledger, policy versions.

Changing or removing such a row would rewrite what the chart, the ledger or the alert board said
at the time, so a correction is always a new row (an addendum, a reversal, a newer version). Two
guards refuse it. The database's triggers, installed by each app's migration (the live copy of
their SQL is :mod:`kapstone.audit.triggers`), refuse UPDATE and DELETE whatever writes. This model
refuses earlier and clearer: ``save()`` of a row already stored and ``delete()`` raise
:class:`AppendOnlyError` before any SQL is sent. Bulk ``QuerySet.update()`` and ``delete()`` are
left to the triggers, which name the table.

The audit trail's own tables (``audit_auditentry``, ``audit_audithead``) are not among these: the
head advances in place, and both have triggers of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from django.apps import apps
from django.db import models
from django.db.models.base import ModelBase


class AppendOnlyError(RuntimeError):
    """A stored row of an append-only table was about to be changed or deleted."""


class AppendOnly(models.Model):
    """Rows are written once: changing or removing one would rewrite the chart's history.

    Every concrete subclass's table is append-only: :func:`append_only_tables` lists them, and a
    migration must guard each (``tests/backups/test_migrations_self_contained.py`` checks both ways).
    """

    class Meta:
        abstract = True

    def save(
        self,
        *,
        force_insert: bool | tuple[ModelBase, ...] = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only: add a new row")
        super().save(
            force_insert=force_insert,
            force_update=force_update,
            using=using,
            update_fields=update_fields,
        )

    def delete(self, using: Any = None, keep_parents: bool = False) -> NoReturn:
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only: they are never deleted")


def append_only_tables() -> tuple[str, ...]:
    """Every append-only table, sorted: the tables of the installed models that are AppendOnly.

    Read from the app registry rather than kept by hand, so a new append-only model cannot be
    forgotten here; the registry must be ready (after ``django.setup()``).
    """
    return tuple(
        sorted(
            {model._meta.db_table for model in apps.get_models() if issubclass(model, AppendOnly)}
        )
    )
