"""Before or after the dose: the one rule for a reading taken close to the dose's start.

A reading (vital signs, a dissociation rating, a questionnaire score) taken **at or before** the
dose's start, compared to the second, is pre-dose: it may be the baseline. One taken **after** the
start is post-dose. Times typed to the minute are that minute's first second, so a reading typed as
17:28 for a dose started at 17:28 (charted "now" at 17:28:35, or typed 17:28) is pre-dose, and a
reading charted "now" at 17:28:50 after a dose at 17:28:35 is post-dose. Nothing rounds to the
minute: a drug started at the same instant as the cuff was read cannot have changed that reading.

The console (baseline flag, grading against the baseline), the discharge check ("vital signs since
the dose"), the REMS form (pre- and post-dose readings) and outcomes (baseline score "at or before
the first dose") all ask these two functions.
"""

from __future__ import annotations

from datetime import datetime


def is_pre_dose(taken_at: datetime, dose_at: datetime | None) -> bool:
    """True when the reading was taken at or before the dose's start (or no dose is charted)."""
    return dose_at is None or taken_at <= dose_at


def is_post_dose(taken_at: datetime, dose_at: datetime | None) -> bool:
    """True when a dose is charted and the reading was taken after its start."""
    return dose_at is not None and taken_at > dose_at
