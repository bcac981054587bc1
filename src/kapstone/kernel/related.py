"""Foreign keys loaded after the rows that hold them, one query per target model.

``select_related`` joins each foreign key into the row's own query. On PostgreSQL a join costs
the planner far more than the read: a treatment plan read with its seven relations joined (program,
weight, signature and its signer, four staff members) took about 28 ms to plan and under 1 ms to
run, on every plan page. Several keys to one table (the staff member who created, confirmed,
witnessed) are better read afterwards in one ``IN`` query: :func:`load_related` does that and caches
each object on its row exactly as ``select_related`` would, so templates and code read them with no
further query. Django's ``prefetch_related`` would read each key in a query of its own (five for a
plan's staff members); this reads all the keys that name one table together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import models


def load_related(pairs: Iterable[tuple[models.Model, str]]) -> None:
    """Caches, for each ``(row, foreign key name)``, the object the key points at (None where it is
    empty), reading each target model once: ``WHERE pk IN (...)`` over every key that names it.
    """
    # A target is a model and the field the key names in it (its primary key, or a to_field). Read
    # through the base manager, as select_related reads: a default manager's filter (active staff
    # only, say) must not lose the staff member who signed a plan years ago.
    wanted: dict[tuple[type[models.Model], str], set[object]] = defaultdict(set)
    slots: list[tuple[models.Model, models.ForeignKey[models.Model, models.Model], object]] = []
    for row, name in pairs:
        field = row._meta.get_field(name)
        if not isinstance(field, models.ForeignKey):
            raise TypeError(f"{type(row).__name__}.{name} is not a foreign key")
        value = getattr(row, field.attname)
        slots.append((row, field, value))
        if value is not None:
            wanted[_target(field)].add(value)
    found = {
        (model, key): model._base_manager.in_bulk(list(values), field_name=key)
        for (model, key), values in wanted.items()
    }
    for row, field, value in slots:
        field.set_cached_value(row, None if value is None else found[_target(field)][value])


def _target(field: models.ForeignKey[models.Model, models.Model]) -> tuple[type[models.Model], str]:
    model = field.related_model
    assert isinstance(model, type) and issubclass(model, models.Model)  # resolved once apps load
    return model, field.target_field.name
