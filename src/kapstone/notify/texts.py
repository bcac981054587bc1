"""What a notification says, in the patient's language: the clinic's name and a link, nothing more.

No name, diagnosis, medicine, dose, time or score ever goes into a notification: an e-mail or a
text can be read on a locked screen or by someone else (tests/notify/test_no_health_details.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kapstone.notify.models import IMMEDIATE_KINDS, Channel, Kind


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


def _subject(kind: Kind, clinic: str) -> str:
    match kind:
        case Kind.INVITATION:
            return _("Your invitation to %(clinic)s") % {"clinic": clinic}
        case Kind.SIGN_IN_LINK:
            return _("Your sign-in link for %(clinic)s") % {"clinic": clinic}
        case Kind.SESSION_DAY_BEFORE | Kind.SESSION_MORNING:
            return _("A reminder from %(clinic)s") % {"clinic": clinic}
        case Kind.QUESTIONNAIRE_DUE:
            return _("%(clinic)s: something to do") % {"clinic": clinic}
        case Kind.NEW_MESSAGE:
            return _("%(clinic)s: you have a new message") % {"clinic": clinic}
    raise ValueError(kind)  # pragma: no cover - every kind is matched above


def _sentence(kind: Kind, clinic: str, url: str) -> str:
    values = {"clinic": clinic, "url": url}
    match kind:
        case Kind.INVITATION:
            return (
                _("%(clinic)s invites you to its patient app. Open this link to start: %(url)s")
                % values
            )
        case Kind.SIGN_IN_LINK:
            return (
                _(
                    "Open this link to sign in to the %(clinic)s app. It works once. "
                    "If you did not ask for it, ignore this message: %(url)s"
                )
                % values
            )
        case Kind.SESSION_DAY_BEFORE:
            return (
                _(
                    "You have an appointment tomorrow with %(clinic)s. "
                    "Open the app to see how to prepare: %(url)s"
                )
                % values
            )
        case Kind.SESSION_MORNING:
            return (
                _(
                    "You have an appointment today with %(clinic)s. "
                    "Open the app to see how to prepare: %(url)s"
                )
                % values
            )
        case Kind.QUESTIONNAIRE_DUE:
            return (
                _("%(clinic)s has questionnaires for you. Open the app to answer them: %(url)s")
                % values
            )
        case Kind.NEW_MESSAGE:
            return (
                _(
                    "You have a new message from your care team at %(clinic)s. "
                    "Open the app to read it: %(url)s"
                )
                % values
            )
    raise ValueError(kind)  # pragma: no cover - every kind is matched above


def render(*, kind: Kind, channel: Channel, url: str, language: str) -> Text:
    """The subject and body of ``kind`` for ``channel``, in ``language`` (texts have no subject)."""
    clinic = settings.SITE_NAME
    with translation.override(language):
        sentence = _sentence(kind, clinic, url)
        if channel == Channel.SMS:
            return Text(subject="", body=sentence)
        lines = [sentence, "", clinic]
        if kind not in IMMEDIATE_KINDS:
            choose = f"{settings.KAPSTONE_BASE_URL}{reverse('notify:preferences')}"
            lines += ["", _("Choose how we contact you: %(url)s") % {"url": choose}]
        return Text(subject=_subject(kind, clinic), body="\n".join(lines) + "\n")
