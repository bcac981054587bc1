"""The demo's integration step runs on its own after the history (the notes it writes are checked in
test_demo_picture.py)."""

from __future__ import annotations

from django.utils import timezone

from kapstone.demo.generator import build_demo_clinic
from kapstone.demo.integration import build_integration


def test_the_integration_step_runs_alone_after_the_history(db):
    # Speed is for benchmarks, not tests (no timing assertions): this checks the step on its own.
    now = timezone.now().replace(microsecond=0)
    build_demo_clinic(patients=10, seed=2026, today=timezone.localdate(now))
    # The history without the integration step, then the step alone, timed.
    import random

    from kapstone.demo.history import build_history
    from kapstone.patients.models import Patient

    build_history(patients=list(Patient.objects.order_by("mrn")), rng=random.Random(2027), now=now)
    count = build_integration(now=now)
    assert count > 10
