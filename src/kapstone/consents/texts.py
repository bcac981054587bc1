"""The clinic's consent wording, as data: the first version, in plain words.

It follows what the prescriber explains before consent (``kapstone.plans.sections.CONSENT_TOPICS``,
one paragraph per topic, in the same order) and cites the clinical-reference keys the plan's consent
relies on. The wording is the clinic's own (clinic policy, UNVERIFIED): the clinic may publish a
newer version (:func:`kapstone.consents.services.publish_document`); a signature keeps the version
and hash it was given. Migration 0003 stored this same text; keep the two equal (a test checks).
"""

from __future__ import annotations

PLAN_CONSENT_KEY = "treatment-plan"
FIRST_VERSION = "2026-12"
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
