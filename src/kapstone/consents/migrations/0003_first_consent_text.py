"""Stores the first version of the consent text (the same words as kapstone.consents.texts, copied:
a migration never imports application code)."""

import hashlib

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.utils import timezone

KEY = "treatment-plan"
VERSION = "2026-12"
TITLE = "Consent to ketamine-assisted therapy"
SOURCES = ["SPRAVATO-US", "SANACORA2017"]
TEXT = """\
This page explains the treatment your clinic has planned with you. Please read it slowly. Ask your \
clinic about anything that is not clear before you sign.

What ketamine is and why it is offered. Ketamine is a medicine used in anaesthesia. In lower \
doses it can help some people with depression or anxiety. When racemic ketamine is used for \
depression or anxiety, this is "off-label": it is not what the medicine was first licensed for.

What a session feels like. During a session you may feel detached from your body or surroundings \
(this is called dissociation). Sounds, colours and time may seem different. You may feel sleepy, \
sick or dizzy. These effects usually fade within a few hours.

Your health is checked. Ketamine raises your blood pressure and heart rate for a while. Staff \
check these signs during and after every session.

Other risks. Less often, ketamine can irritate the bladder (cystitis) or affect the liver. It can \
be misused, and some people come to depend on it. Tell us about any pain when passing urine, and \
never take ketamine outside the clinic's plan.

What it may and may not do. Ketamine may help, but not everyone responds, and the benefit may wear \
off. There are other treatments, and you may choose not to have ketamine at all.

Getting home. Do not drive, cycle or use machinery until the next day. Someone must take you home \
after each session.

Talking therapy is part of it. Integration sessions with your therapist are part of the program.

You can stop at any time. You may stop treatment at any time. You will not lose any other care.

If you are given esketamine (a nasal spray). You will be enrolled in a safety program (REMS), and \
you will stay at the clinic for at least 2 hours after each dose so we can watch over you.

By signing, you say that you have read this, that you could ask questions, and that you agree to \
the treatment in your plan.
"""


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    document = apps.get_model("consents", "ConsentDocument")
    if document.objects.filter(key=KEY, version=VERSION, language="en-gb").exists():
        return
    document.objects.create(
        key=KEY,
        version=VERSION,
        language="en-gb",
        title=TITLE,
        text=TEXT,
        content_hash=hashlib.sha256(TEXT.encode("utf-8")).hexdigest(),
        sources=SOURCES,
        verification="unverified",
        clinic_editable=True,
        created_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("consents", "0002_append_only")]
    # Rows are written once: going back leaves the text (the table is dropped with 0001 anyway).
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
