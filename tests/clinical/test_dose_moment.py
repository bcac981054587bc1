"""The one rule for a reading close to the dose: at or before its start is pre-dose."""

from __future__ import annotations

import datetime as dt

from kapstone.clinical.dose_moment import is_post_dose, is_pre_dose

DOSE = dt.datetime(2026, 12, 5, 17, 28, 35, tzinfo=dt.UTC)


def test_a_reading_typed_for_the_doses_minute_is_pre_dose():
    typed = DOSE.replace(second=0)
    assert is_pre_dose(typed, DOSE) and not is_post_dose(typed, DOSE)


def test_a_reading_at_the_dose_second_is_pre_dose():
    assert is_pre_dose(DOSE, DOSE) and not is_post_dose(DOSE, DOSE)


def test_a_reading_later_in_the_doses_minute_is_post_dose():
    later = DOSE + dt.timedelta(seconds=15)
    assert is_post_dose(later, DOSE) and not is_pre_dose(later, DOSE)


def test_without_a_dose_every_reading_is_pre_dose():
    assert is_pre_dose(DOSE, None) and not is_post_dose(DOSE, None)
