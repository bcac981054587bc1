"""Consent and the relapse-prevention plan (under ``companion:``)."""

from django.urls import path

from kapstone.companion import placeholders

urlpatterns = [
    path("consent/", placeholders.placeholder("Consent", "consent"), name="consent"),
    path("plan/", placeholders.placeholder("My plan", "relapse_plan"), name="relapse_plan"),
]
