"""``{% fhir_export_link patient response %}``: the "Export FHIR" link, for those who may export.

A tag rather than a context variable so pages owned by other apps need no view change to show it.
"""

from __future__ import annotations

from typing import Any

from django import template

from kapstone.assessments.models import QuestionnaireResponse
from kapstone.clinical.access import Permission, may
from kapstone.patients.models import Patient

register = template.Library()


@register.inclusion_tag("outcomes/_export_link.html", takes_context=True)
def fhir_export_link(
    context: dict[str, Any], patient: Patient, response: QuestionnaireResponse
) -> dict[str, Any]:
    user = context["request"].user
    allowed = (
        user.is_authenticated
        and response.is_submitted
        and may(
            user.staff_role,
            Permission.EXPORT_RECORDS,
            on_care_team=user.pk in patient.care_team_ids(),
        )
    )
    return {"patient": patient, "response": response, "show": allowed}
