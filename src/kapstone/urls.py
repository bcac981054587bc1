from django.conf import settings
from django.urls import include, path

from kapstone.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("healthz/", include("kapstone.ops.urls")),
    path("accounts/", include("kapstone.accounts.urls")),
    path("patients/", include("kapstone.patients.urls")),
    path("patients/", include("kapstone.messaging.staff_urls")),
    path("audit/", include("kapstone.audit.urls")),
    path("", include("kapstone.assessments.urls")),
    path("", include("kapstone.safety.urls")),
    path("", include("kapstone.dosing.urls")),
    path("", include("kapstone.chairside.urls")),
    path("ledger/", include("kapstone.ledger.urls")),
    path("", include("kapstone.outcomes.urls")),
    path("", include("kapstone.measures.urls")),
    path("", include("kapstone.intake.urls")),
    path("", include("kapstone.plans.urls")),
    path("", include("kapstone.integration.urls")),
    path("", include("kapstone.cohorts.urls")),
    path("", include("kapstone.policies.urls")),
    path("", include("kapstone.research.urls")),
    path("", include("kapstone.timetable.urls")),
    path("", include("kapstone.rems.urls")),
    path("", include("kapstone.today.urls")),
    path("monitors/", include("kapstone.monitors.urls")),
    path("", include("kapstone.fhirapi.auth_urls")),
    path("fhir/", include("kapstone.fhirapi.urls")),
    path("billing/", include("kapstone.billing.urls")),
    path("coverage/", include("kapstone.coverage.urls")),
    # The patient companion: the patient's own pages, never a staff session.
    path("me/", include("kapstone.companion.urls")),
    path("", include("kapstone.companion.staff_urls")),
    path("me/prepare/", include("kapstone.preparation.urls")),
    path("me/journal/", include("kapstone.journal.urls")),
    path("me/messages/", include("kapstone.messaging.urls")),
    path("me/notifications/", include("kapstone.notify.urls")),
]

handler403 = "kapstone.web.errors.forbidden"
handler404 = "kapstone.web.errors.not_found"

# The floor of bench/web_load.py: a bare view behind the full middleware stack, only when asked for.
if settings.BENCH_FLOOR:
    urlpatterns.append(path("bench/floor/", views.bench_floor, name="bench_floor"))
