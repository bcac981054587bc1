"""/healthz/live and /healthz/ready: public, no patient data, and readiness that can say no."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.db import connection
from django.utils import timezone

from kapstone.ops import heartbeat
from kapstone.ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def _ready(client):
    response = client.get("/healthz/ready")
    return response.status_code, json.loads(response.content)


def test_liveness_answers_without_sign_in(client):
    response = client.get("/healthz/live")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "live"}
    assert "no-store" in response["Cache-Control"]


def test_the_health_check_answers_from_the_database_without_sign_in(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}


def test_readiness_needs_a_recent_worker_heartbeat(client, settings):
    settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS = 60
    status, body = _ready(client)
    assert status == 503
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert not body["checks"]["worker"]["ok"]
    assert "no heartbeat" in body["checks"]["worker"]["detail"]

    heartbeat.beat(worker_id="w1", started_at=timezone.now())
    status, body = _ready(client)
    assert status == 200 and body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "worker"}

    WorkerHeartbeat.objects.update(beat_at=timezone.now() - dt.timedelta(seconds=61))
    status, body = _ready(client)
    assert status == 503 and "limit 60 s" in body["checks"]["worker"]["detail"]


def test_a_worker_that_stops_cleanly_is_not_ready_at_once(client):
    heartbeat.beat(worker_id="w1", started_at=timezone.now())
    assert _ready(client)[0] == 200
    heartbeat.stop(worker_id="w1")
    assert _ready(client)[0] == 503


def test_rows_of_long_gone_workers_are_forgotten():
    WorkerHeartbeat.objects.create(
        worker_id="old",
        hostname="h",
        pid=1,
        started_at=timezone.now() - dt.timedelta(days=3),
        beat_at=timezone.now() - dt.timedelta(days=2),
    )
    heartbeat.beat(worker_id="new", started_at=timezone.now())
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["new"]


def test_readiness_reports_unapplied_migrations(client, transactional_db):
    from django.core.management import call_command

    heartbeat.beat(worker_id="w1", started_at=timezone.now())
    call_command("migrate", "ops", "zero", verbosity=0)
    try:
        status, body = _ready(client)
        assert status == 503
        assert not body["checks"]["migrations"]["ok"]
        assert "not applied" in body["checks"]["migrations"]["detail"]
    finally:
        call_command("migrate", "ops", verbosity=0)


def test_the_heartbeat_thread_beats_and_stops(transactional_db, settings):
    settings.WORKER_HEARTBEAT_SECONDS = 0.2
    pulse = heartbeat.Heartbeat("thread-worker")
    pulse.start()  # the first beat is written before start() returns
    first = WorkerHeartbeat.objects.get(worker_id="thread-worker").beat_at
    # Read only once the thread is stopped: the test database is SQLite in memory, whose shared
    # cache refuses a read during another connection's write instead of waiting.
    time.sleep(1.0)
    pulse.halt()
    pulse.join(timeout=5)
    assert not pulse.is_alive()
    assert WorkerHeartbeat.objects.get(worker_id="thread-worker").beat_at > first
    connection.close()


def test_the_worker_command_beats_while_it_runs_and_clears_its_row(transactional_db):
    from django.core.management import call_command

    from kapstone.measures.tasks import send_measure_reminders

    result = send_measure_reminders.enqueue()
    seen: list[bool] = []

    from django.tasks.signals import task_finished

    def finished(sender, task_result, **kwargs):
        seen.append(WorkerHeartbeat.objects.filter(worker_id="batch-worker").exists())

    task_finished.connect(finished)
    try:
        call_command(
            "db_worker", batch=True, reload=False, worker_id="batch-worker", verbosity=0,
            startup_delay=False,
        )  # fmt: skip
    finally:
        task_finished.disconnect(finished)
    result.refresh()
    assert result.status == "SUCCESSFUL"
    assert seen == [True]  # beating while the task ran
    assert not WorkerHeartbeat.objects.filter(worker_id="batch-worker").exists()
