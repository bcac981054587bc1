"""A site's rooms: written by the accounts app's services (the timetable's calendar page manages
them through the same functions), refused whole on bad input, every change audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kapstone.accounts.models import Room
from kapstone.accounts.services import add_room, set_room_active
from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.timetable import services as timetable


def test_a_room_is_refused_whole_then_added_and_taken_out_of_use_with_audit_rows(clinic):
    director = clinic.staff["medical_director"]
    site = clinic.on_team.home_site
    with pytest.raises(InputError) as refused:
        add_room(by=director, site=site, name=" ", routes=["teleport"], turnover_minutes=121)
    assert set(refused.value.errors) == {"name", "routes", "turnover_minutes"}
    assert not Room.objects.exists() and not AuditEntry.objects.filter(action__contains="room")

    room = add_room(
        by=director, site=site, name=" IV chair 1 ", routes=["iv", "im", "iv"], turnover_minutes=15
    )
    assert (room.name, room.routes, room.is_active) == ("IV chair 1", ["im", "iv"], True)
    with pytest.raises(InputError, match="already has a room called IV chair 1"):
        add_room(by=director, site=site, name="IV chair 1", routes=["iv"], turnover_minutes=0)
    added = AuditEntry.objects.get(action="timetable.room_added")
    assert added.actor == director and added.object_id == str(room.pk)
    assert added.after == {"routes": ["im", "iv"], "turnover_minutes": 15}

    set_room_active(by=director, room=room, active=False)
    room.refresh_from_db()
    assert not room.is_active
    changed = AuditEntry.objects.get(action="timetable.room_changed")
    assert (changed.before, changed.after) == ({"is_active": True}, {"is_active": False})


def test_the_calendar_page_adds_and_retires_rooms_through_the_accounts_services(clinic, as_role):
    # The timetable's pages call these names: they are the accounts app's own functions.
    assert (timetable.add_room, timetable.set_room_active) == (add_room, set_room_active)
    client = as_role("medical_director")
    site = clinic.on_team.home_site
    page = reverse("timetable:calendar")
    response = client.post(
        page,
        {
            "form": "room",
            "site": site.pk,
            "name": "Observation room",
            "routes": ["sc", "im"],
            "turnover_minutes": "10",
        },
    )
    assert response.status_code == 302
    room = Room.objects.get(site=site, name="Observation room")
    assert room.routes == ["im", "sc"] and room.turnover_minutes == 10
    response = client.post(page, {"form": "room_active", "room": room.pk, "active": "0"})
    assert response.status_code == 302
    room.refresh_from_db()
    assert not room.is_active
    assert list(
        AuditEntry.objects.filter(action__startswith="timetable.room_")
        .order_by("seq")
        .values_list("action", "actor")
    ) == [
        ("timetable.room_added", clinic.staff["medical_director"].pk),
        ("timetable.room_changed", clinic.staff["medical_director"].pk),
    ]
