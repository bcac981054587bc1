"""Sign-in, second factor, and the patient's account settings (no app_name: under ``companion:``)."""

from django.urls import path

from kapstone.companion import account_views, signin

urlpatterns = [
    path("sign-in/", signin.sign_in, name="sign_in"),
    path("sign-in/link/<str:token>/", signin.link, name="link"),
    path("sign-in/second-factor/", signin.second_factor, name="second_factor"),
    path(
        "sign-in/passkey/options/",
        signin.passkey_sign_in_options,
        name="passkey_sign_in_options",
    ),
    path("sign-in/passkey/", signin.passkey_sign_in, name="passkey_sign_in"),
    path("sign-in/language/", signin.language, name="language"),
    path("sign-out/", signin.sign_out, name="sign_out"),
    path("settings/", account_views.settings_page, name="settings"),
    path("settings/password/", account_views.password, name="password"),
    path("settings/authenticator/", account_views.totp_setup, name="totp_setup"),
    path("settings/authenticator/remove/", account_views.totp_remove, name="totp_remove"),
    path(
        "settings/passkeys/options/",
        account_views.passkey_register_options,
        name="passkey_register_options",
    ),
    path("settings/passkeys/", account_views.passkey_register, name="passkey_register"),
    path("settings/passkeys/remove/", account_views.passkey_remove, name="passkey_remove"),
]
