"""File names for documents staff download about a patient.

A file name travels further than the file: into download folders, recent-file lists, e-mail
attachments and backup indexes, none of which the clinic controls. So it names what the document is
and when, plus an id that tells two patients' files apart but means nothing outside Kapstone (a keyed
hash of the record, not its MRN or database id).
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.crypto import salted_hmac


def opaque_id(record: models.Model) -> str:
    digest = salted_hmac(
        "kapstone.web.downloads", f"{record._meta.label_lower}:{record.pk}", algorithm="sha256"
    )
    return digest.hexdigest()[:10]


def document_filename(kind: str, on: dt.date, record: models.Model, extension: str = "pdf") -> str:
    """``kind-YYYY-MM-DD-<opaque id>.ext``: no name, MRN or other identifier of the patient."""
    return f"{kind}-{on:%Y-%m-%d}-{opaque_id(record)}.{extension}"
