from __future__ import annotations

from django import template

from kapstone.ledger.models import Product
from kapstone.ledger.units import show

register = template.Library()


@register.filter
def stock(quantity: int, product: Product) -> str:
    """``{{ entry.quantity|stock:entry.lot.product }}`` reads "35 mg" or "2 devices (56 mg)"."""
    return show(quantity, product)
