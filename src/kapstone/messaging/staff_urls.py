"""The chart's Messages tab: a patient's threads for their care team, under /patients/<id>/messages/."""

from django.urls import path

from kapstone.messaging import staff_views

app_name = "chart_messages"
urlpatterns = [
    path("<int:patient_id>/messages/", staff_views.chart_tab, name="chart_tab"),
    path(
        "<int:patient_id>/messages/<int:message_thread_id>/",
        staff_views.thread,
        name="thread",
    ),
    path(
        "<int:patient_id>/messages/<int:message_thread_id>/reply/",
        staff_views.reply,
        name="reply",
    ),
]
