"""The demo clinic's Spravato REMS monitoring forms, consistent with its signed esketamine sessions.

Every signed esketamine session gets its form, prepared through the service an hour after the
record was signed. Most were filed on the portal a few days later (a confirmation number each);
the latest form already past its deadline is left unfiled (the queue's overdue example), and so is
the most recent one not yet due (due, or due soon). The demo's patient mix decides how many there
are: with no esketamine sessions, there are none.
"""

from __future__ import annotations

import datetime as dt
import random

from kapstone.chairside.models import ChairsideRecord
from kapstone.rems import selectors
from kapstone.rems.models import RemsForm
from kapstone.rems.services import mark_filed, prepare_form


def build_rems_forms(*, now: dt.datetime, seed: int = 2026) -> list[RemsForm]:
    rng = random.Random(seed)
    forms: list[RemsForm] = []
    for session in selectors.sessions_without_form():
        record = ChairsideRecord.objects.select_related("signed_by").get(session=session)
        assert record.signed_at is not None
        prepared_at = min(record.signed_at + dt.timedelta(hours=1), now)
        forms.append(prepare_form(session=session, by=record.signed_by, now=prepared_at))
    past_due = [f for f in forms if f.due_on < selectors.local_today(f.site, now)]
    not_due = [f for f in forms if f not in past_due]
    left_open = {f.pk for f in (past_due[-1:] + not_due[-1:])}
    for form in forms:
        if form.pk in left_open:
            continue
        today = selectors.local_today(form.site, now)
        filed_on = min(form.session_date + dt.timedelta(days=rng.randint(1, 5)), today)
        if filed_on < form.session_date:
            continue
        zone = selectors.site_zone(form.site)
        filed_at = min(dt.datetime.combine(filed_on, dt.time(16, 30), tzinfo=zone), now)
        filer = form.session.nurse or form.created_by
        if filer is None:  # every form the demo prepares has its session's nurse or a preparer
            continue
        mark_filed(
            form=form,
            by=filer,
            filed_on=filed_on,
            confirmation_number=f"PMF-{rng.randint(100000, 999999)}",
            now=filed_at,
        )
    return forms
