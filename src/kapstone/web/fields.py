"""Form fields for clinical numbers and free text, built on the core's one definition of each.

Every form that takes a dose, concentration, rate, weight, count or reason uses these, so the
strict reader (:mod:`kapstone.clinical.numbers`) and the limits
(:mod:`kapstone.clinical.plausibility`) apply the same way everywhere. Services check again: they
are the gate; these fields give the nurse the message next to the box.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from kapstone.clinical.numbers import (
    MAX_NUMBER_CHARS,
    NumberError,
    NumberFormat,
    parse_number,
    parse_whole,
)
from kapstone.clinical.plausibility import MAX_TEXT_CHARS, WHOLE, Range


class StrictNumberField(forms.Field):
    """A number typed as ``fmt`` says (ASCII digits, bounded length), optionally within ``limit``.
    Cleans to a Decimal (``whole`` fields: an int), or None when empty and not required."""

    widget = forms.TextInput

    def __init__(
        self, *, fmt: NumberFormat, limit: Range | None = None, whole: bool = False, **kwargs: Any
    ) -> None:
        self.fmt, self.limit, self.whole = fmt, limit, whole
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update(
            {
                "inputmode": "numeric" if self.whole else "decimal",
                "maxlength": str(self.fmt.max_chars),
                "autocomplete": "off",
            }
        )
        return attrs

    def to_python(self, value: Any) -> Decimal | int | None:
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            number = Decimal(value)
        else:
            try:
                number = parse_number(value, self.fmt)
            except NumberError as exc:
                message = self.error_messages.get("invalid") or str(exc)
                raise forms.ValidationError(message, code="invalid") from None
        if self.limit is not None and (problem := self.limit.problem(number)) is not None:
            raise forms.ValidationError(problem, code="implausible")
        if self.whole:
            if number != number.to_integral_value():
                raise forms.ValidationError(self.fmt.hint(), code="invalid")
            return int(number)
        return number


class ClinicalTextField(forms.CharField):
    """A reason, note or description: capped at the core's text limit."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_TEXT_CHARS)
        super().__init__(**kwargs)


def strict_pk(raw: object) -> int | None:
    """A database id from a query string or hidden field: ASCII digits only, else None."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_NUMBER_CHARS:
        return None
    try:
        value = parse_whole(raw, WHOLE)
    except NumberError:
        return None
    return value if value > 0 else None


class StrictIntegerField(StrictNumberField):
    """Django's IntegerField signature, read by the strict reader (no "٣", "1_000" or 5,000
    digits). ``error_messages["invalid"]``, when given, replaces the reader's own hint."""

    def __init__(
        self,
        *,
        min_value: int | None = None,
        max_value: int | None = None,
        what: str = "a whole number",
        example: str = "12",
        **kwargs: Any,
    ) -> None:
        validators = list(kwargs.pop("validators", ()))
        if min_value is not None:
            validators.append(MinValueValidator(min_value))
        if max_value is not None:
            validators.append(MaxValueValidator(max_value))
        signed = min_value is None or min_value < 0
        super().__init__(
            fmt=NumberFormat(what, example, 0, signed),
            whole=True,
            validators=validators,
            **kwargs,
        )


class StrictDecimalField(StrictNumberField):
    """Django's DecimalField signature (``max_digits``, ``decimal_places``), read strictly."""

    def __init__(
        self,
        *,
        max_digits: int,
        decimal_places: int,
        what: str = "a number",
        example: str = "0.5",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            fmt=NumberFormat(what, example, decimal_places, False, max_digits + 2), **kwargs
        )
