"""Stock quantities as the clinic reads and types them: mg for solutions, whole devices and doses."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from kapstone.clinical.ledger_entries import QuantityError, StockUnit, micrograms
from kapstone.clinical.numbers import MAX_NUMBER_CHARS, NumberError, NumberFormat, parse_number

if TYPE_CHECKING:
    from kapstone.ledger.models import Product


def milligrams_text(quantity: int) -> str:
    value = (Decimal(quantity) / 1000).normalize()
    return f"{value:f}"


def show(quantity: int, product: Product) -> str:
    """``35 mg``, ``3 devices (84 mg)``, ``1 lozenge (200 mg)``."""
    if product.unit == StockUnit.MICROGRAM:
        return f"{milligrams_text(quantity)} mg"
    word = product.container_word
    plural = "" if abs(quantity) == 1 else "s"
    return f"{quantity} {word}{plural} ({product.milligrams(quantity).normalize():f} mg)"


def unit_label(product: Product) -> str:
    """What the clinic types a quantity of this product in."""
    return "mg" if product.unit == StockUnit.MICROGRAM else f"{product.container_word}s"


def parse(text: str, product: Product, *, signed: bool = False) -> int:
    """A typed amount in :func:`unit_label` units to stock units; ValueError says what is accepted."""
    raw = (text or "").strip()
    unit = unit_label(product)
    # The strict reader: ASCII digits only (Decimal() alone would take "٣" or "３"), bounded length.
    fmt = NumberFormat(f"a number of {unit}", "10", places=9, signed=True)
    try:
        value = parse_number(raw, fmt)
    except NumberError:
        raise ValueError(f"{raw[:MAX_NUMBER_CHARS]!r} is not a number of {unit}") from None
    if value < 0 and not signed:
        raise ValueError(f"Give a number of {unit}, 0 or more")
    if product.unit == StockUnit.MICROGRAM:
        try:
            return micrograms(value)
        except QuantityError:
            raise ValueError("Give milligrams with at most 3 decimals") from None
    if value != value.to_integral_value():
        raise ValueError(f"Give a whole number of {unit_label(product)}")
    return int(value)


def volume_text(quantity: int, product: Product) -> str:
    """``0.1 mL (5 mg)`` for solution, as a nurse reads a syringe; :func:`show` otherwise."""
    if product.unit == StockUnit.MICROGRAM and product.concentration_mg_per_ml:
        ml = (
            (Decimal(quantity) / 1000 / product.concentration_mg_per_ml)
            .quantize(Decimal("0.01"))
            .normalize()
        )
        return f"{ml:f} mL ({milligrams_text(quantity)} mg)"
    return show(quantity, product)


def dose_in_stock_units(product: Product, dose_mg: Decimal, devices: int | None = None) -> int:
    """A charted dose in the product's stock unit: whole micrograms of solution, devices of
    esketamine, whole lozenges or tablets. ValueError says why a dose does not fit the product."""
    if product.unit == StockUnit.MICROGRAM:
        try:
            return micrograms(dose_mg)
        except QuantityError:
            raise ValueError(f"{dose_mg} mg is not a whole number of micrograms") from None
    assert product.strength_mg is not None
    units = Decimal(dose_mg) / product.strength_mg
    word = product.container_word
    if units != units.to_integral_value() or units <= 0:
        raise ValueError(
            f"{dose_mg} mg is not a whole number of {product.strength_mg.normalize():f} mg "
            f"{word}s ({product.name})"
        )
    if devices is not None and devices != int(units):
        raise ValueError(f"{devices} {word}(s) of {product.name} do not make {dose_mg} mg")
    return int(units)
