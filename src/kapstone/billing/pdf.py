"""The superbill and the CMS-1500 (02/12) as PDFs, with WeasyPrint as the project's other PDFs.

The CMS-1500 is the form's content laid out as its numbered boxes, not the red-ink form image (which
is printed on the payer's paper or replaced by the 837P): a copy for the record and for payers who
accept a printed claim's content.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.template.loader import render_to_string

from kapstone.web.pdf import html_to_pdf


def _pdf(template: str, context: Mapping[str, object]) -> bytes:
    return html_to_pdf(render_to_string(template, dict(context)))


def superbill_pdf(context: Mapping[str, object]) -> bytes:
    return _pdf("billing/superbill_pdf.html", context)


def cms1500_pdf(context: Mapping[str, object]) -> bytes:
    return _pdf("billing/cms1500_pdf.html", context)
