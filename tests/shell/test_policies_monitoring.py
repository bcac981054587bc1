"""The medical director tunes the monitoring policy: versioned, audited, append-only, in force."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from kapstone.audit.models import AuditEntry
from kapstone.clinical.alerts import AlertGrade, evaluate
from kapstone.clinical.monitoring_policy import DEFAULT_MONITORING_POLICY
from kapstone.clinical.routes import Route
from kapstone.errors import InputError
from kapstone.policies.models import MonitoringPolicyVersion, PolicyRowError
from kapstone.policies.selectors import current_monitoring_policy
from kapstone.policies.services import set_monitoring_policy


def _form(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The page's own form as a browser would post it, unchanged."""
    response = client.get(reverse("policies:monitoring"))
    form = response.context["form"]
    return {name: str(form[name].value()) for name in form.fields if form[name].value() is not None}


def test_the_defaults_are_in_force_until_the_director_sets_a_version(clinic):
    assert current_monitoring_policy() is DEFAULT_MONITORING_POLICY


def test_a_version_set_on_the_page_is_in_force_and_audited(clinic, as_role):
    client = as_role("medical_director")
    data = _form(client) | {
        "t:sbp.high.recheck": "150",
        "g:symptom.agitation": "pause_or_slow_infusion",
        "pre_dose:systolic_above": "150",
        "reason": "Adopting the anaesthesia group's protocol of 2026-11",
    }
    response = client.post(reverse("policies:monitoring"), data)
    assert response.status_code == 302
    row = MonitoringPolicyVersion.objects.get()
    # Only what differs from the defaults is stored, so untouched values follow future defaults.
    assert row.overrides == {
        "rules": {
            "sbp.high.recheck": {"threshold": 150},
            "symptom.agitation": {"grade": "pause_or_slow_infusion"},
        },
        "pre_dose": {"systolic_above": 150},
    }
    policy = current_monitoring_policy()
    assert policy.version == row.version == "clinic-v1"
    assert policy.pre_dose.systolic_above.value == 150
    from tests.clinical.test_monitoring_overrides import reading

    graded = evaluate(
        reading(systolic_mmhg=152), None, policy=policy, route=Route.IV, infusion_running=True
    )
    assert graded.grade is AlertGrade.RECHECK_IN_5_MINUTES and graded.policy_version == "clinic-v1"
    audit = AuditEntry.objects.get(action="policy.monitoring_set")
    assert audit.actor == clinic.staff["medical_director"]
    assert ["pre_dose.systolic_above", "140", "150"] in audit.after["changes"]
    page = client.get(reverse("policies:monitoring")).content.decode()
    assert "In force: <strong>clinic-v1</strong>" in page
    assert "sbp.high.recheck: 160 → recheck_in_5_minutes → 150 → recheck_in_5_minutes" in page


def test_a_bad_value_is_refused_with_its_reason_and_nothing_is_saved(clinic, as_role):
    client = as_role("medical_director")
    data = _form(client) | {"t:sbp.high.recheck": "400", "reason": ""}
    response = client.post(reverse("policies:monitoring"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["t:sbp.high.recheck"] == ["Ensure this value is less than or equal to 300."]
    assert "reason" in form.errors
    assert not MonitoringPolicyVersion.objects.exists()
    with pytest.raises(InputError) as refused:
        set_monitoring_policy(
            by=clinic.staff["medical_director"],
            overrides={"rules": {"no.such.rule": {"threshold": 3}}},
            reason="typo",
        )
    assert refused.value.errors == {
        "rules.no.such.rule": ["Give a rule id of the policy (not 'no.such.rule')."]
    }
    assert not MonitoringPolicyVersion.objects.exists()


def test_versions_are_append_only(clinic):
    row = set_monitoring_policy(
        by=clinic.staff["medical_director"],
        overrides={"discharge": {"spo2_at_least": 95}},
        reason="Stricter discharge saturation",
    )
    row.reason = "rewritten"
    with pytest.raises(PolicyRowError):
        row.save()
    with pytest.raises(PolicyRowError):
        row.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        MonitoringPolicyVersion.objects.filter(pk=row.pk).update(reason="rewritten")
    second = set_monitoring_policy(
        by=clinic.staff["medical_director"], overrides={}, reason="Back to the defaults"
    )
    assert second.version == "clinic-v2"
    assert current_monitoring_policy().discharge.spo2_at_least.value == 94


def test_only_the_medical_director_sets_monitoring_policy(clinic, as_role):
    for role in ("prescriber", "nurse", "administrator"):
        assert as_role(role).get(reverse("policies:monitoring")).status_code == 403


def test_a_version_number_taken_meanwhile_is_refused_and_writes_nothing(clinic):
    first = set_monitoring_policy(
        by=clinic.staff["medical_director"], overrides={}, reason="Defaults confirmed"
    )
    # As if a second director had saved between our count and our insert.
    audit_rows = AuditEntry.objects.count()
    with pytest.raises(InputError, match="set by someone else"):
        from unittest.mock import patch  # the count is Django's, not ours: nothing of ours is faked

        with patch.object(MonitoringPolicyVersion.objects, "count", return_value=0):
            set_monitoring_policy(
                by=clinic.staff["medical_director"], overrides={}, reason="Second save"
            )
    assert list(MonitoringPolicyVersion.objects.all()) == [first]
    assert AuditEntry.objects.count() == audit_rows
