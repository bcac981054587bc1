"""Sign-in, second factor, and the patient's account settings (no app_name: under ``companion:``)."""

from django.urls import path

from kapstone.companion import placeholders, views

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/second-factor/", views.second_factor, name="second_factor"),
    path("sign-out/", views.sign_out_view, name="sign_out"),
    path("settings/", placeholders.placeholder("Settings", "settings"), name="settings"),
]
