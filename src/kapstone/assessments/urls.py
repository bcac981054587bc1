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
    # The clinic's tablet: the same pages, the token in the session. No instrument is "thank-you".
    path("kiosk/", views.kiosk_home, name="kiosk"),
    path("kiosk/thank-you/", views.kiosk_thank_you, name="kiosk_thank_you"),
    path("kiosk/<slug:instrument>/", views.kiosk_resume, name="kiosk_resume"),
    path("kiosk/<slug:instrument>/review/", views.kiosk_review, name="kiosk_review"),
    path("kiosk/<slug:instrument>/<str:item>/", views.kiosk_question, name="kiosk_question"),
    # Staff, on the patient's chart.
    path("patients/<int:patient_id>/questionnaires/", views.chart_tab, name="chart_tab"),
    path("patients/<int:patient_id>/questionnaires/send/", views.send, name="send"),
    path(
        "patients/<int:patient_id>/questionnaires/rate/<slug:instrument>/",
        views.rate,
        name="rate",
    ),
    path(
        "patients/<int:patient_id>/questionnaires/<int:response_id>/",
        views.response_detail,
        name="response",
    ),
]
