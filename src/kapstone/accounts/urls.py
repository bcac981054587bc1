from django.urls import path

from kapstone.accounts import views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("sign-out/", views.sign_out, name="logout"),
    path("mfa/", views.mfa, name="mfa"),
    path("mfa/set-up/", views.mfa_setup, name="mfa_setup"),
    path("password/", views.password_change, name="password_change"),
    path("mfa/backup-codes/", views.new_backup_codes, name="backup_codes"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("sites/", views.sites, name="sites"),
]
