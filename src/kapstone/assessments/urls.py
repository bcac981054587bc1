from django.urls import path

from kapstone.assessments import views

app_name = "assessments"
urlpatterns = [
    # The patient's link. "thank-you" comes first: no token is ever that short.
    path("q/thank-you/", views.thank_you, name="thank_you"),
    path("q/<str:token>/", views.link_home, name="link"),
    path("q/<str:token>/<slug:instrument>/", views.resume, name="resume"),
    path("q/<str:token>/<slug:instrument>/review/", views.review, name="review"),
    path("q/<str:token>/<slug:instrument>/<str:item>/", views.question, name="question"),
    # Staff, on the patient's chart.
    path("patients/<int:patient_id>/questionnaires/", views.chart_tab, name="chart_tab"),
    path("patients/<int:patient_id>/questionnaires/send/", views.send, name="send"),
    path(
        "patients/<int:patient_id>/questionnaires/<int:response_id>/",
        views.response_detail,
        name="response",
    ),
]
