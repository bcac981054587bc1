"""The object a page's URL names, or the 404 page: a selector answers None for what does not exist
(or is not this patient's), and every view turns that None into "not found" the same way."""

from __future__ import annotations

from django.http import Http404


def or_404[T](found: T | None, missing: str) -> T:
    """``found``, unless it is None: then the 404 page, saying what was ``missing``."""
    if found is None:
        raise Http404(missing)
    return found
