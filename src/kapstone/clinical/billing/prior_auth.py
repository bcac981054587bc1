"""Esketamine prior authorisations: units used and warnings before expiry or exhaustion (§13.4).

An authorisation approves a number of units (sessions, as most payers count esketamine) between
two dates (inclusive) under the medical or the pharmacy benefit. Units are used as sessions are
signed. :func:`warnings` says, for a given day and the sessions planned, what the front desk
should know: it expires in N days (the threshold is clinic policy, 14 days by default), it has
expired, it is used up, or a planned session would fall after its end, before its start or past
its approved units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from kapstone.clinical.billing.policy import BillingValue
from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification


class Benefit(StrEnum):
    MEDICAL = "medical"
    PHARMACY = "pharmacy"


@dataclass(frozen=True, slots=True)
class PriorAuthPolicy:
    """How early the clinic wants to hear that an authorisation runs out (versioned)."""

    version: str = "prior-auth-2026-12"
    expiry_warning_days: BillingValue = field(
        default_factory=lambda: BillingValue(
            14,
            Source(
                "§13.4",
                Verification.UNVERIFIED,
                Evidence.CLINIC_POLICY,
                "time to ask the payer for a renewal; no source sets it",
            ),
        )
    )


DEFAULT_PRIOR_AUTH_POLICY = PriorAuthPolicy()


@dataclass(frozen=True, slots=True)
class Authorisation:
    """One payer's approval; ``units_used`` counts the signed sessions charged against it."""

    payer: str
    number: str
    approved_units: int
    start: date
    end: date
    benefit: Benefit
    units_used: int = 0

    @property
    def units_left(self) -> int:
        return self.approved_units - self.units_used

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


def authorisation_problems(auth: Authorisation) -> list[Problem]:
    problems: list[Problem] = []
    if not auth.number.strip():
        problems.append(Problem("number", "the authorisation number is required"))
    if not auth.payer.strip():
        problems.append(Problem("payer", "is required"))
    if auth.approved_units < 1:
        problems.append(Problem("approved_units", "at least one unit"))
    if auth.units_used < 0:
        problems.append(Problem("units_used", "cannot be negative"))
    if auth.end < auth.start:
        problems.append(Problem("end", "the authorisation ends before it starts"))
    return problems


def check_authorisation(auth: Authorisation) -> Authorisation:
    Refused.refuse_if_any(authorisation_problems(auth))
    return auth


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """A booked session the authorisation would pay for (``ref``: the caller's key for it)."""

    ref: str
    on: date
    units: int = 1


class WarningKind(StrEnum):
    EXPIRES_SOON = "expires_soon"
    EXPIRED = "expired"
    USED_UP = "used_up"
    AFTER_EXPIRY = "session_after_expiry"
    BEFORE_START = "session_before_start"
    EXCEEDS_UNITS = "session_exceeds_units"
    NOT_COVERED = "session_not_covered"


@dataclass(frozen=True, slots=True)
class AuthWarning:
    kind: WarningKind
    message: str
    session_ref: str | None = None
    days_left: int | None = None


def warnings(
    auth: Authorisation,
    *,
    today: date,
    planned_sessions: Sequence[PlannedSession] = (),
    policy: PriorAuthPolicy = DEFAULT_PRIOR_AUTH_POLICY,
) -> tuple[AuthWarning, ...]:
    """What to warn about on ``today`` for ``auth`` and the sessions planned under it.

    Planned sessions are taken in date order; each uses its units after those used already and
    those of the sessions before it, so the first session past the approved units is named.
    """
    check_authorisation(auth)
    found = list(_standing(auth, today, policy))
    running = auth.units_used
    for session in sorted(planned_sessions, key=lambda s: (s.on, s.ref)):
        if session.on > auth.end:
            found.append(
                AuthWarning(
                    WarningKind.AFTER_EXPIRY,
                    f"the session on {session.on.isoformat()} is after authorisation "
                    f"{auth.number} ends ({auth.end.isoformat()})",
                    session.ref,
                )
            )
            continue
        if session.on < auth.start:
            found.append(
                AuthWarning(
                    WarningKind.BEFORE_START,
                    f"the session on {session.on.isoformat()} is before authorisation "
                    f"{auth.number} starts ({auth.start.isoformat()})",
                    session.ref,
                )
            )
            continue
        running += session.units
        if running > auth.approved_units:
            found.append(
                AuthWarning(
                    WarningKind.EXCEEDS_UNITS,
                    f"the session on {session.on.isoformat()} would exceed the "
                    f"{auth.approved_units} approved units of authorisation {auth.number}",
                    session.ref,
                )
            )
    return tuple(found)


def _standing(auth: Authorisation, today: date, policy: PriorAuthPolicy) -> list[AuthWarning]:
    found: list[AuthWarning] = []
    days_left = (auth.end - today).days
    if days_left < 0:
        found.append(
            AuthWarning(
                WarningKind.EXPIRED,
                f"authorisation {auth.number} expired on {auth.end.isoformat()}",
                days_left=days_left,
            )
        )
    elif days_left <= policy.expiry_warning_days.value:
        when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
        found.append(
            AuthWarning(
                WarningKind.EXPIRES_SOON,
                f"authorisation {auth.number} expires {when}",
                days_left=days_left,
            )
        )
    if auth.units_left <= 0:
        found.append(
            AuthWarning(
                WarningKind.USED_UP,
                f"all {auth.approved_units} approved units of authorisation {auth.number} are used",
            )
        )
    return found


def covering(
    auths: Sequence[Authorisation], day: date, *, benefit: Benefit | None = None
) -> Authorisation | None:
    """The authorisation in force on ``day`` with units left (the one ending first), if any."""
    candidates = [
        a
        for a in auths
        if a.covers(day) and a.units_left > 0 and (benefit is None or a.benefit is benefit)
    ]
    return min(candidates, key=lambda a: (a.end, a.number), default=None)


@dataclass(frozen=True, slots=True)
class SessionCover:
    """Which authorisation a session is charged against (``None``: none covers it)."""

    ref: str
    on: date
    number: str | None


def with_units_used(
    auths: Sequence[Authorisation], used_on: Sequence[date]
) -> tuple[Authorisation, ...]:
    """``auths`` with ``units_used`` counted from the signed sessions' dates (one unit each).

    A signed session uses the authorisation in force that day with units left that ends first; a
    session no authorisation covers uses none (it is billed some other way).
    """
    counted = {a.number: a for a in auths}
    for day in sorted(used_on):
        chosen = covering(list(counted.values()), day)
        if chosen is not None:
            counted[chosen.number] = replace(chosen, units_used=chosen.units_used + 1)
    return tuple(counted[a.number] for a in auths)


def patient_warnings(
    auths: Sequence[Authorisation],
    *,
    today: date,
    used_on: Sequence[date] = (),
    planned_sessions: Sequence[PlannedSession] = (),
    policy: PriorAuthPolicy = DEFAULT_PRIOR_AUTH_POLICY,
) -> tuple[tuple[AuthWarning, ...], tuple[SessionCover, ...]]:
    """A patient's authorisations taken together: warnings, and which one each planned session uses.

    Only a patient with at least one authorisation is warned about. Each authorisation not yet
    ended warns when it expires soon or is used up; each planned session (in date order) uses the
    authorisation in force that day with units left that ends first, and when none has units left
    it is named: past the approved units of the one in force, after the last one's end, or simply
    not covered.
    """
    if not auths:
        return (), ()
    for auth in auths:
        check_authorisation(auth)
    counted = list(with_units_used(auths, used_on))
    found: list[AuthWarning] = []
    for auth in counted:
        if auth.end >= today:
            found.extend(_standing(auth, today, policy))
    covers: list[SessionCover] = []
    for session in sorted(planned_sessions, key=lambda s: (s.on, s.ref)):
        chosen = covering(counted, session.on)
        if chosen is not None and chosen.units_left >= session.units:
            counted[counted.index(chosen)] = replace(
                chosen, units_used=chosen.units_used + session.units
            )
            covers.append(SessionCover(session.ref, session.on, chosen.number))
            continue
        covers.append(SessionCover(session.ref, session.on, None))
        found.append(_uncovered(counted, session))
    return tuple(found), tuple(covers)


def _uncovered(auths: Sequence[Authorisation], session: PlannedSession) -> AuthWarning:
    day = session.on.isoformat()
    in_force = [a for a in auths if a.covers(session.on)]
    if in_force:
        auth = min(in_force, key=lambda a: (a.end, a.number))
        return AuthWarning(
            WarningKind.EXCEEDS_UNITS,
            f"the session on {day} would exceed the {auth.approved_units} approved units of "
            f"authorisation {auth.number}",
            session.ref,
        )
    ended = [a for a in auths if a.end < session.on]
    if ended:
        auth = max(ended, key=lambda a: (a.end, a.number))
        return AuthWarning(
            WarningKind.AFTER_EXPIRY,
            f"the session on {day} is after authorisation {auth.number} ends "
            f"({auth.end.isoformat()})",
            session.ref,
        )
    return AuthWarning(
        WarningKind.NOT_COVERED, f"no authorisation covers the session on {day}", session.ref
    )
