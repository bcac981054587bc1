from django.urls import path

from kapstone.timetable import views

app_name = "timetable"
urlpatterns = [
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/runs/<int:run_id>/", views.run_detail, name="run"),
    path("schedule/runs/<int:run_id>/progress/", views.run_progress, name="run_progress"),
    path("schedule/runs/<int:run_id>/accept/", views.run_accept, name="run_accept"),
    path("schedule/changes/", views.changes, name="changes"),
    path("schedule/calendar/", views.calendar, name="calendar"),
    path("schedule/my-calendar/", views.my_calendar, name="my_calendar"),
    path("patients/<int:patient_id>/calendar/", views.patient_calendar, name="patient_calendar"),
    path("patients/<int:patient_id>/calendar/feed/", views.patient_feed, name="patient_feed"),
    path("calendar/<str:token>.ics", views.feed, name="feed"),
]
