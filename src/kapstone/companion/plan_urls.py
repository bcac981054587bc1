"""Consent and the relapse-prevention plan (under ``companion:``)."""

from django.urls import path

from kapstone.companion import plan_views

urlpatterns = [
    path("consent/", plan_views.consent, name="consent"),
    path("consent/withdraw/", plan_views.consent_withdraw, name="consent_withdraw"),
    path("plan/", plan_views.relapse_plan, name="relapse_plan"),
]
