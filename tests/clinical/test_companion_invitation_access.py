"""Who may invite a patient to the companion: the front desk and the clinicians, on the patient's
care team (or any chart for the roles that see every chart); never billing, research or IT."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kapstone.clinical.access import (
    PATIENT_SCOPED,
    SEES_EVERY_CHART,
    Permission,
    Role,
    may,
    roles_granted,
)

INVITE = Permission.INVITE_TO_COMPANION


def test_the_roles_a_clinic_expects():
    assert roles_granted(INVITE) == {
        Role.INTAKE_COORDINATOR,
        Role.NURSE,
        Role.PRESCRIBER,
        Role.THERAPIST,
        Role.MEDICAL_DIRECTOR,
    }
    assert INVITE in PATIENT_SCOPED


def test_a_nurse_off_the_care_team_may_not_but_the_front_desk_may():
    assert not may(Role.NURSE, INVITE, on_care_team=False)
    assert may(Role.NURSE, INVITE, on_care_team=True)
    assert may(Role.INTAKE_COORDINATOR, INVITE, on_care_team=False)


@given(role=st.sampled_from(list(Role)), on_team=st.booleans())
def test_inviting_needs_the_grant_and_the_care_team(role, on_team):
    expected = role in roles_granted(INVITE) and (on_team or role in SEES_EVERY_CHART)
    assert may(role, INVITE, on_care_team=on_team) is expected
    assert not may(Role.BILLER, INVITE, on_care_team=on_team)
