"""Billing's writes, one module per workflow; each checks everything first (``InputError``), then
writes in one transaction with its audit row.

* :mod:`.proposals`: charge lines proposed as a chair-side record or an integration note is signed
  (called from inside the signature's transaction; never refuses a signature).
* :mod:`.charges`: the biller's review: finalise, void, recode a proposed line, reverse a finalised one.
* :mod:`.account`: payments, adjustments, refunds and reversals on the patient account.
* :mod:`.claims`: a claim for finalised lines, and its status recorded by hand.
* :mod:`.diagnoses`: the patient's ICD-10-CM diagnoses for claims.
* :mod:`.setup`: payers, the practice's billing numbers, fee schedules and their versions.
"""

from kapstone.billing.services.account import post_entry, reverse_entry
from kapstone.billing.services.charges import (
    finalise_charge,
    recode_charge,
    reverse_charge,
    void_charge,
)
from kapstone.billing.services.claims import create_claim, record_claim_read, record_claim_status
from kapstone.billing.services.diagnoses import record_diagnoses
from kapstone.billing.services.proposals import (
    propose_charges_for_chairside_record,
    propose_charges_for_integration_note,
)
from kapstone.billing.services.setup import (
    save_billing_provider,
    save_clinician_number,
    save_fee_schedule_version,
    save_payer,
)

__all__ = [
    "create_claim",
    "finalise_charge",
    "post_entry",
    "propose_charges_for_chairside_record",
    "propose_charges_for_integration_note",
    "recode_charge",
    "record_claim_read",
    "record_claim_status",
    "record_diagnoses",
    "reverse_charge",
    "reverse_entry",
    "save_billing_provider",
    "save_clinician_number",
    "save_fee_schedule_version",
    "save_payer",
    "void_charge",
]
