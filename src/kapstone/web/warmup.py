"""A web worker's start-up costs, paid before it takes requests instead of by its first requests.

Django imports the URLconf, and with it every app's views, on a worker's first request; WeasyPrint
(its CSS, font and PDF libraries, Pango through cffi) is imported by the first PDF, whose first
layout also loads the fonts. Together they made a worker's first plan PDF take 6.5 s and more
(measured in issue 17), later ones a fraction of that. deploy/gunicorn.conf.py calls
:func:`warm_up` in each worker before it takes requests (``post_worker_init``).
"""

from __future__ import annotations

import time


def warm_up() -> float:
    """Loads the URLconf (every view), imports WeasyPrint and renders a one-line page, and imports
    the 837P library; the seconds it took."""
    started = time.perf_counter()
    from django.urls import get_resolver

    from kapstone.web.pdf import html_to_pdf

    get_resolver().url_patterns  # noqa: B018 - the attribute's evaluation imports every view
    html_to_pdf("<p style='font-family: sans-serif'>Kapstone <b>PDF</b> <i>ready</i></p>")
    from kapstone.billing import x12

    x12.preload()
    return time.perf_counter() - started
