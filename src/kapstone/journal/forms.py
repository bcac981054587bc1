"""The journal entry form: a reflection, an optional mood, each homework line, and the choice of
sharing (private unless the patient ticks it). Words go through translation."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kapstone.journal.services import HomeworkTick

MOODS = [("", _("Not saying"))] + [(str(n), str(n)) for n in range(1, 11)]
DONE = [
    ("", _("Not said")),
    ("done", _("Done")),
    ("not_yet", _("Not yet")),
]


class EntryForm(forms.Form):
    text = forms.CharField(
        label=_("What is on your mind?"),
        required=False,
        help_text=_("Write as much or as little as you like."),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    mood = forms.TypedChoiceField(
        label=_("How is your mood today? (1 very low, 10 very good)"),
        choices=MOODS,
        coerce=int,
        empty_value=None,
        required=False,
    )
    shared_with_therapist = forms.BooleanField(
        label=_("Let my therapist read this entry"),
        required=False,
        help_text=_("If you leave this unticked, the entry stays private: only you can read it."),
    )

    def __init__(self, *args, assignments: list[str], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.assignments = assignments
        for n, assignment in enumerate(assignments):
            self.fields[f"hw_{n}_done"] = forms.ChoiceField(
                label=assignment, choices=DONE, required=False, widget=forms.RadioSelect
            )
            self.fields[f"hw_{n}_note"] = forms.CharField(
                label=_("A note about it (optional)"),
                required=False,
                max_length=2000,
            )

    def homework_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"hw_{n}_done"], self[f"hw_{n}_note"]) for n in range(len(self.assignments))]

    def ticks(self) -> list[HomeworkTick]:
        data = self.cleaned_data
        answers = {"done": True, "not_yet": False, "": None}
        return [
            HomeworkTick(
                assignment=a,
                done=answers[data.get(f"hw_{n}_done") or ""],
                note=data.get(f"hw_{n}_note") or "",
            )
            for n, a in enumerate(self.assignments)
        ]


def initial_from(entry) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A form filled from an entry's latest version (the homework matched by its wording)."""
    initial: dict[str, object] = {
        "text": entry.text,
        "mood": entry.mood,
        "shared_with_therapist": entry.shared_with_therapist,
    }
    return initial


def homework_initial(entry, assignments: list[str]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    by_assignment = {item["assignment"]: item for item in (entry.homework if entry else [])}
    initial: dict[str, object] = {}
    for n, assignment in enumerate(assignments):
        item = by_assignment.get(assignment)
        if item is None:
            continue
        done = item.get("done")
        initial[f"hw_{n}_done"] = "done" if done is True else "not_yet" if done is False else ""
        initial[f"hw_{n}_note"] = item.get("note", "")
    return initial
