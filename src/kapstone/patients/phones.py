"""Phone numbers: read with Google's libphonenumber metadata (``phonenumbers``), stored in one form.

A mistyped number is found out when the clinic needs to reach the patient or their emergency
contact, the worst time. A number is parsed in the clinic's region (``KAPSTONE_PHONE_REGION``)
unless it starts with ``+`` and a country code, refused when the numbering plan has no such number,
and stored in international format (``+1 207-555-0143``), readable and dialable anywhere.
"""

from __future__ import annotations

import phonenumbers

PHONE_FIELDS = ("phone", "emergency_contact_phone")


def normalise_phone(raw: str, *, region: str) -> tuple[str, str | None]:
    """The number in international format and None, or the text as typed and why it is refused.
    An empty number stays empty (a phone number is not required)."""
    text = raw.strip()
    if not text:
        return "", None
    abroad = (
        f"A number from outside {region} starts with + and its country code (+44 20 7946 0958)."
    )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text, f"“{text}” is not a phone number. {abroad}"
    if not phonenumbers.is_valid_number(number):
        return text, f"“{text}” is not a valid phone number: check the digits. {abroad}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL), None
