"""The patient reading their own plan is in the audit trail as theirs (a read event)."""

from __future__ import annotations

from kapstone.audit.trail import record
from kapstone.companion.models import PatientAccount
from kapstone.plans.models import TreatmentPlan


def record_relapse_plan_read(*, account: PatientAccount, plan: TreatmentPlan | None) -> None:
    record(
        actor=None,
        actor_label=account.audit_label,
        action="companion.relapse_plan_viewed",
        patient=account.patient,
        obj=plan,
        summary=(
            f"Read their relapse-prevention plan (plan version {plan.revision})"
            if plan is not None
            else "Opened their relapse-prevention plan (no signed plan yet)"
        ),
    )
