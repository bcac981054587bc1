"""Walks every URL with every role and asserts who gets in (and that no view forgot its guard)."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kapstone.clinical.access import Permission, Role, may
from tests.conftest import build_clinic, kept_for_the_module, refreshed, verified_client
from tests.fhirapi.support import sample_api_client
from tests.monitors.support import sample_device
from tests.shell.billing_support import sample_claim, sample_entry, sample_line, sample_payer
from tests.shell.intake_support import sample_review
from tests.shell.integration_support import sample_integration_session, sample_process_note
from tests.shell.ledger_support import sample_ledger
from tests.shell.messaging_support import sample_thread
from tests.shell.plans_support import program, sample_plan
from tests.shell.rems_support import sample_form
from tests.shell.research_support import sample_export
from tests.shell.timetable_support import sample_run


def walk(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    """Every (qualified name, pattern) in the URLconf."""
    found: list[tuple[str, URLPattern]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.extend(walk(entry, inner))
        else:
            found.append((f"{namespace}{entry.name}", entry))
    return found


def unguarded(resolver: URLResolver) -> list[str]:
    """Views wrapped by none of the decorators in kapstone.web.authz."""
    return [
        name
        for name, pattern in walk(resolver)
        if not hasattr(pattern.callback, "kapstone_permission")
        and getattr(pattern.callback, "kapstone_access", None)
        not in {"public", "signed_in", "patient"}
    ]


def guarded_urls() -> list[tuple[str, Permission, bool]]:
    return [
        (name, pattern.callback.kapstone_permission, bool(pattern.callback.kapstone_patient_kwarg))
        for name, pattern in walk(get_resolver())
        if hasattr(pattern.callback, "kapstone_permission")
    ]


def test_every_view_is_guarded():
    assert unguarded(get_resolver()) == []


# Views open without the role rules, each on purpose: signing in, the patient's own questionnaire
# link and tablet pages (their token is the key), calendar feeds (a secret address), and the health
# endpoints for load balancers and the service manager (no patient data).
DELIBERATELY_PUBLIC = {
    "accounts:login": "public",
    "accounts:logout": "public",
    "accounts:mfa": "signed_in",
    "accounts:mfa_setup": "signed_in",
    "accounts:password_change": "signed_in",
    "assessments:kiosk": "public",
    "assessments:kiosk_question": "public",
    "assessments:kiosk_resume": "public",
    "assessments:kiosk_review": "public",
    "assessments:kiosk_thank_you": "public",
    "assessments:link": "public",
    "assessments:question": "public",
    "assessments:resume": "public",
    "assessments:review": "public",
    "assessments:thank_you": "public",
    "health": "public",
    "ops:live": "public",
    "ops:ready": "public",
    "timetable:feed": "public",
    # SMART Backend Services and Bulk export: systems prove themselves with a signed assertion and
    # then a bearer token (kapstone.fhirapi.access), never a staff session.
    "fhir_auth:smart_configuration": "public",
    "fhir_auth:token": "public",
    "fhir_auth:export_system": "public",
    "fhir_auth:export_patient": "public",
    "fhir_auth:export_group": "public",
    "fhir_auth:bulk_status": "public",
    "fhir_auth:bulk_file": "public",
    # FHIR read and search: the bearer token is the key (each answers 401 without one:
    # tests/fhirapi/test_read_http.py); metadata is open, as FHIR clients read it first.
    "fhir:metadata": "public",
    "fhir:read": "public",
    "fhir:search": "public",
    "fhir:search_slash": "public",
    "fhir:unknown": "public",
    # The patient companion's sign-in steps (its pages are the patient's own: "patient", walked in
    # tests/companion/).
    "companion:sign_in": "public",
    "companion:link": "public",
    "companion:second_factor": "public",
    "companion:passkey_sign_in_options": "public",
    "companion:passkey_sign_in": "public",
    "companion:language": "public",
    "companion:sign_out": "public",
}


def test_only_the_deliberately_public_views_skip_the_role_rules():
    opened = {
        name: pattern.callback.kapstone_access
        for name, pattern in walk(get_resolver())
        if getattr(pattern.callback, "kapstone_access", None) not in {None, "patient"}
    }
    assert opened == DELIBERATELY_PUBLIC


def test_the_walker_catches_a_view_without_a_guard():
    from django.http import HttpResponse
    from django.urls import path

    def forgetful(request):
        return HttpResponse("patient list")

    module = type("urlconf", (), {"urlpatterns": [path("leak/", forgetful, name="leak")]})
    assert unguarded(URLResolver(r"^/", module)) == ["leak"]


def test_guarded_urls_cover_every_permission_in_use():
    used = {permission for _, permission, _ in guarded_urls()}
    assert used == set(Permission), f"permissions with no page: {set(Permission) - used}"


def _sample_response_id(patient) -> int:
    from kapstone.assessments.models import QuestionnaireResponse
    from kapstone.assessments.services import send_questionnaires

    found = QuestionnaireResponse.objects.filter(questionnaire_set__patient=patient).first()
    if found is None:
        send_questionnaires(by=patient.registered_by, patient=patient, instruments=["gad7"])
        found = QuestionnaireResponse.objects.filter(questionnaire_set__patient=patient).get()
    return found.pk


def _sample_alert_id(patient) -> int:
    from kapstone.safety.models import SafetyAlert
    from kapstone.safety.services import raise_alert

    found = SafetyAlert.objects.filter(patient=patient).first()
    return (found or raise_alert(patient=patient, reason="walker sample", hold_dosing=True)).pk


def _sample_hold_id(patient) -> int:
    _sample_alert_id(patient)
    return patient.dosing_holds.get().pk


def _sample_session_id(patient) -> int:
    import datetime as dt

    from django.utils import timezone

    from kapstone.dosing.models import DosingSession

    found = DosingSession.objects.filter(patient=patient).first()
    if found is None:
        found = DosingSession.objects.create(
            patient=patient,
            site=patient.home_site,
            starts_at=timezone.now() + dt.timedelta(days=1),
            ends_at=timezone.now() + dt.timedelta(days=1, hours=2),
            booked_at=timezone.now(),
        )
    return found.pk


# URL kwargs other than patient_id: how to get a sample value belonging to the walked patient.
SAMPLE_KWARGS = {
    "response_id": _sample_response_id,
    "alert_id": _sample_alert_id,
    "hold_id": _sample_hold_id,
    "session_id": _sample_session_id,
    "instrument": lambda patient: "madrs",  # a clinician-rated instrument, for the rating page
    # The ledger is clinic-wide (patient is None here): one sample draw, count and discrepancy.
    "draw_id": lambda patient: sample_ledger().draw.seq,
    "ledger_entry_id": lambda patient: sample_ledger().draw.seq,
    "count_id": lambda patient: sample_ledger().count_id,
    "discrepancy_id": lambda patient: sample_ledger().discrepancy_id,
    # The intake: a section page, and a screened review of the walked patient's own intake.
    "intake_section": lambda patient: "medications",
    "review_id": lambda patient: sample_review(patient).pk,
    # Treatment plans: a version of the walked patient's plan; program templates are clinic-wide.
    "plan_id": lambda patient: sample_plan(patient).pk,
    "template_id": lambda patient: program("intensive_retreat").pk,
    # Integration: a session of the walked patient, and a process note its therapist wrote.
    "integration_session_id": lambda patient: sample_integration_session(patient).pk,
    "process_note_id": lambda patient: sample_process_note(patient).pk,
    # REMS monitoring forms: a prepared form of the walked patient's signed esketamine session.
    "form_id": lambda patient: sample_form(patient).pk,
    # Scheduling runs are clinic-wide: one finished sample run.
    "run_id": lambda patient: sample_run().pk,
    # Research exports are clinic-wide: one queued export requested by the medical director.
    "export_id": lambda patient: sample_export().pk,
    # The cohort dashboard's CSV tables are clinic-wide aggregates: one of them.
    "table": lambda patient: "time_points",
    # Bedside monitors are clinic-wide: one registered device with a local code map.
    "device_id": lambda patient: sample_device().pk,
    # FHIR API clients are clinic-wide: one registered system client.
    "api_client_id": lambda patient: sample_api_client(),
    # Billing: a proposed line (the queue is clinic-wide), a claim and a payment of the patient's.
    "line_id": lambda patient: sample_line(patient).pk,
    "claim_id": lambda patient: sample_claim(patient).pk,
    "entry_id": lambda patient: sample_entry(patient).pk,
    # Billing setup is clinic-wide: one payer.
    "payer_id": lambda patient: sample_payer().pk,
    # Secure messages: a thread the walked patient started in the companion.
    "message_thread_id": lambda patient: sample_thread(patient).pk,
}


def _url(name: str, patient_scoped: bool, patient) -> str:
    kwargs = {"patient_id": patient.pk} if patient_scoped else {}
    wanted = dict(walk(get_resolver()))[name].pattern.regex.groupindex
    kwargs |= {kwarg: sample(patient) for kwarg, sample in SAMPLE_KWARGS.items() if kwarg in wanted}
    return reverse(name, kwargs=kwargs)


def _got_in(response) -> bool:
    if response.status_code == 403:
        return False
    if response.status_code == 302:
        target = response["Location"]
        assert "/accounts/sign-in/" not in target and "/accounts/mfa/" not in target, target
    return True


@pytest.fixture(scope="module")
def _kept(django_db_setup, django_db_blocker):
    """The clinic and a sample of everything the URLs name, built once for the module (each test's
    walk then finds its samples instead of building them); each test's writes are rolled back at
    its end (kept_for_the_module)."""
    with kept_for_the_module(django_db_blocker):
        clinic = build_clinic()
        for name, _, patient_scoped in guarded_urls():
            for patient in (clinic.on_team, clinic.elsewhere) if patient_scoped else (None,):
                _url(name, patient_scoped, patient)
        yield clinic


@pytest.fixture
def clinic(_kept, db):
    return refreshed(_kept)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_gets_exactly_what_the_policy_grants(role, clinic, client):
    verified_client(client, clinic.staff[role.value])
    me = clinic.staff[role.value]
    for name, permission, patient_scoped in guarded_urls():
        cases = [(None, None)]
        if patient_scoped:
            cases = [
                (clinic.on_team, me.pk in clinic.on_team.care_team_ids()),
                (clinic.elsewhere, False),
            ]
        for patient, on_team in cases:
            url = _url(name, patient_scoped, patient)
            response = client.get(url)
            expected = (
                may(role, permission, on_care_team=on_team)
                if patient_scoped
                else may(role, permission)
            )
            assert _got_in(response) is expected, f"{role.value} GET {url}: {response.status_code}"
            assert "Content-Security-Policy" in response.headers


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(clinic, client):
    for name, _, patient_scoped in guarded_urls():
        url = _url(name, patient_scoped, clinic.on_team)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/sign-in/"), url


def test_staff_without_mfa_are_sent_to_verify(clinic, client):
    client.force_login(clinic.staff["medical_director"])
    for name, _, patient_scoped in guarded_urls():
        url = _url(name, patient_scoped, clinic.on_team)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/mfa/"), url


def test_refused_chart_access_is_audited(clinic, as_role):
    from kapstone.audit.models import AuditEntry

    client = as_role("nurse")
    response = client.get(reverse("patients:chart", kwargs={"patient_id": clinic.elsewhere.pk}))
    assert response.status_code == 403
    entry = AuditEntry.objects.filter(action="access.denied").latest("seq")
    assert entry.patient_id == clinic.elsewhere.pk
    assert entry.actor == clinic.staff["nurse"]
