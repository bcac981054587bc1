from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kapstone.preparation.checklist import ITEMS
from kapstone.preparation.services import NOTE_LIMIT


class AnswerForm(forms.Form):
    """One item's answer; the session is looked up within the patient's own sessions."""

    session = forms.IntegerField(widget=forms.HiddenInput)
    item = forms.ChoiceField(choices=[(i.key, i.key) for i in ITEMS], widget=forms.HiddenInput)
    answer = forms.ChoiceField(
        choices=[("yes", _("Yes")), ("no", _("Not yet"))],
        error_messages={"required": _("Please choose Yes or Not yet.")},
    )
    note = forms.CharField(required=False, max_length=NOTE_LIMIT, label=_("Note"))
