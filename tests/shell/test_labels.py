"""The clinic's words for stored codes, and moments in the clinic's local time."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Template

from kapstone.web.labels import clinic_time, label, shown_changes


def test_codes_read_as_the_clinics_words():
    assert label("phq9") == "PHQ-9"
    assert label("suicide_risk") == "suicide risk"
    assert label("intranasal_esketamine") == "Intranasal esketamine (Spravato)"
    assert label("sbp.rise.pause") == "systolic BP rise from baseline (pause)"
    assert label("symptom.chest_pain") == "chest pain"
    assert label("moderately_severe") == "moderately severe"
    assert label("PHQ-9") == "PHQ-9"  # words stay words


def test_a_late_utc_moment_reads_on_the_clinics_day(settings):
    settings.TIME_ZONE = "America/New_York"
    late = dt.datetime(2026, 12, 6, 3, 30, tzinfo=dt.UTC)  # 22:30 on 5 Dec in New York
    assert clinic_time(late) == "5 Dec 2026 22:30"
    assert clinic_time("2026-12-06T03:30:00+00:00") == "5 Dec 2026 22:30"


def test_audit_changes_read_as_fields_and_words_not_a_dict(settings):
    settings.TIME_ZONE = "America/New_York"
    rows = shown_changes(
        {
            "route": "intranasal_esketamine",
            "flags": ["suicide_risk"],
            "earliest_discharge_at": "2026-12-06T03:30:00+00:00",
            "ready": False,
        }
    )
    assert rows == [
        ("Route", "Intranasal esketamine (Spravato)"),
        ("Flags", "suicide risk"),
        ("Earliest discharge at", "5 Dec 2026 22:30"),
        ("Ready", "no"),
    ]


def test_the_template_filters():
    page = Template("{% load words %}{{ code|label }} · {{ codes|labels }}").render(
        Context({"code": "phq9", "codes": ["suicide_risk", "positive_screen"]})
    )
    assert page == "PHQ-9 · suicide risk, positive screen"
