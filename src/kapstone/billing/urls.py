from django.urls import path

from kapstone.billing import views

app_name = "billing"

_PATIENT = "patients/<int:patient_id>/"
_CLAIM = f"{_PATIENT}claims/<int:claim_id>/"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("lines/<int:line_id>/finalise/", views.finalise, name="finalise"),
    path("lines/<int:line_id>/recode/", views.recode, name="recode"),
    path("claims/", views.claims, name="claims"),
    path(f"{_PATIENT}", views.account, name="account"),
    path(f"{_PATIENT}post/", views.post_entry, name="post_entry"),
    path(f"{_PATIENT}diagnoses/", views.diagnoses, name="diagnoses"),
    path(f"{_PATIENT}entries/<int:entry_id>/reverse/", views.reverse_entry, name="reverse_entry"),
    path(f"{_PATIENT}superbill.pdf", views.superbill, name="superbill"),
    path(f"{_PATIENT}claims/new/", views.new_claim, name="new_claim"),
    path(f"{_CLAIM}", views.claim, name="claim"),
    path(f"{_CLAIM}status/", views.claim_status, name="claim_status"),
    path(f"{_CLAIM}cms1500.pdf", views.cms1500, name="cms1500"),
    path(f"{_CLAIM}837p.x12", views.x12, name="x12"),
    path("setup/", views.setup, name="setup"),
    path("setup/payers/new/", views.payer_new, name="payer_new"),
    path("setup/payers/<int:payer_id>/", views.payer_edit, name="payer_edit"),
    path("setup/site-billing/", views.provider, name="provider"),
    path("setup/clinician-npi/", views.clinician_npi, name="clinician_npi"),
    path("setup/fees/new/", views.fee_version, name="fee_version"),
]
