from django.urls import path

from kapstone.chairside import views

app_name = "chairside"
P = "patients/<int:patient_id>/dosing/<int:session_id>/console/"
urlpatterns = [
    path(P, views.console, name="console"),
    path(f"{P}open/", views.open_record, name="open"),
    path(f"{P}alerts/", views.alerts_fragment, name="alerts"),
    path(f"{P}schedule/", views.schedule_fragment, name="schedule"),
    path(f"{P}checklist/", views.checklist, name="checklist"),
    path(f"{P}proceed/", views.proceed, name="proceed"),
    path(f"{P}vitals/", views.vitals, name="vitals"),
    path(f"{P}dose/", views.dose, name="dose"),
    path(f"{P}dose/stop/", views.stop_dose, name="stop_dose"),
    path(f"{P}dose/change/", views.dose_change, name="dose_change"),
    path(f"{P}dissociation/", views.dissociation, name="dissociation"),
    path(f"{P}adverse-event/", views.adverse_event, name="adverse_event"),
    path(f"{P}alerts/acknowledge/", views.acknowledge, name="acknowledge"),
    path(f"{P}strike/", views.strike, name="strike"),
    path(f"{P}vitals/readings/", views.readings_fragment, name="readings"),
    path(f"{P}vitals/verify/", views.verify, name="verify"),
    path(f"{P}discharge/", views.discharge, name="discharge"),
    path(f"{P}sign/", views.sign, name="sign"),
    path(f"{P}addendum/", views.addendum, name="addendum"),
    path(f"{P}unlock/", views.unlock, name="unlock"),
    path(f"{P}still-here/", views.still_here, name="still_here"),
]
