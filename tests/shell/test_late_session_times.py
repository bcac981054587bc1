"""A late esketamine session's signed REMS form (PDF) reads in the clinic's local time and day:
its first device at 21:50 in New York is 02:50 UTC the next day (issue 15, point 6)."""

from __future__ import annotations

import datetime as dt
import io
import re

from django.urls import reverse
from pypdf import PdfReader

from kapstone.rems import services
from tests.shell.rems_support import NEW_YORK, signed_esketamine_session

LATE = dt.datetime(2026, 11, 20, 21, 50, tzinfo=NEW_YORK)
ISO_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def test_the_signed_forms_pdf_shows_local_times_on_the_local_day(clinic, as_role, settings):
    settings.TIME_ZONE = "America/New_York"
    signed = signed_esketamine_session(
        clinic.on_team,
        nurse=clinic.staff["nurse"],
        prescriber=clinic.staff["prescriber"],
        start=LATE,
    )
    form = services.prepare_form(
        session=signed.session, by=clinic.staff["nurse"], now=LATE + dt.timedelta(days=1)
    )
    response = as_role("therapist").get(reverse("rems:pdf", args=[clinic.on_team.pk, form.pk]))
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert "Session date 11/20/2026" in text  # not 11/21, the UTC day
    assert "28 mg at 21:50, 28 mg at 21:55" in text
    assert "first device 21:50 to discharge sign-off 23:58" in text
    assert not ISO_STAMP.search(text)
