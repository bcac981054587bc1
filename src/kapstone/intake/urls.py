from django.urls import path

from kapstone.intake import views

app_name = "intake"
urlpatterns = [
    path("patients/<int:patient_id>/intake/", views.chart_tab, name="chart_tab"),
    path("patients/<int:patient_id>/intake/<slug:intake_section>/", views.section, name="section"),
    path("patients/<int:patient_id>/eligibility/screen/", views.screen, name="screen"),
    path("patients/<int:patient_id>/eligibility/<int:review_id>/", views.review, name="review"),
    path("patients/<int:patient_id>/eligibility/<int:review_id>/sign/", views.sign, name="sign"),
    path(
        "patients/<int:patient_id>/eligibility/<int:review_id>/cosign/",
        views.cosign,
        name="cosign",
    ),
]
