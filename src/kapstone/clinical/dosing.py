"""The dose calculator: mg/kg x current weight → mg, volume at stock concentration, infusion rate.

Ceilings and bounds are clinic policy (:class:`DosingPolicy`, versioned; §3 marks none of the
racemic ceilings as guideline values). Out-of-bounds input or results are refused with every problem
listed (:class:`DoseRefused`) — never clamped.

Rounding (documented because it changes what is given):

- Only a weight-based dose in mg is rounded: to the nearest multiple of the route's
  ``dose_step_mg`` (half up), except that when the nearest step would lie above a ceiling (the
  route's mg/kg ceiling x weight, or its absolute mg ceiling) it is rounded *down* instead. The
  unrounded dose has already been checked against both ceilings, so the rounded dose never exceeds
  one.
- A fixed dose in mg (esketamine, lozenge, oral) is never rounded: it must already be a whole
  number of steps (devices, tablets), or it is refused.
- Volume, infusion rates and the effective mg/kg are derived from the rounded dose and truncated
  (rounded toward zero) to their display precision, so what is drawn up never exceeds the dose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from itertools import pairwise
from types import MappingProxyType

from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import ROUTE_FACTS, Route

VOLUME_PRECISION = Decimal("0.01")  # mL
RATE_ML_PER_HOUR_PRECISION = Decimal("0.01")
RATE_MG_PER_MIN_PRECISION = Decimal("0.001")
MG_PER_KG_PRECISION = Decimal("0.001")

STANDARD_IV_MG_PER_KG = Decimal("0.5")
STANDARD_IV_MINUTES = Decimal(40)
STANDARD_IV_SOURCE = Source(
    "ANDRADE2017-DOSE", Verification.VERIFIED, Evidence.PUBLISHED_PRACTICE, "0.5 mg/kg over 40 min"
)

# §3: 28 mg per device; the label's doses are 1, 2 or 3 devices. The one definition of the device
# size (issue 16): the chair side, the ledger and the REMS form count devices by it.
ESKETAMINE_DEVICE_MG = Decimal(28)
ESKETAMINE_MOST_DEVICES = 3
ESKETAMINE_DOSES_MG = tuple(ESKETAMINE_DEVICE_MG * n for n in range(1, ESKETAMINE_MOST_DEVICES + 1))
ESKETAMINE_SOURCE = Source(
    "SPRAVATO-US", Verification.VERIFIED, Evidence.LABEL, "28 mg per device; 56 mg = 2, 84 mg = 3"
)

# GLUE2017: ascending 0.25 → 0.5 → 1 mg/kg at weekly intervals (SC, treatment-refractory anxiety).
GLUE2017_ASCENDING_MG_PER_KG = (Decimal("0.25"), Decimal("0.5"), Decimal("1.0"))
GLUE2017_SOURCE = Source(
    "GLUE2017", Verification.VERIFIED, Evidence.PUBLISHED_PRACTICE, "ascending dose, weekly, SC"
)


# --- problems and refusal -------------------------------------------------------------------------


class DoseRefused(Refused):
    """The calculator refuses to produce a dose; ``problems`` lists every reason found."""

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(p.field for p in self.problems)


# --- policy ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyValue:
    """A number the clinic sets, with its source (UNVERIFIED ones are the medical director's)."""

    value: Decimal
    source: Source


def _policy(value: str, key: str, verification: Verification, note: str) -> PolicyValue:
    return PolicyValue(Decimal(value), Source(key, verification, Evidence.CLINIC_POLICY, note))


_U, _V = Verification.UNVERIFIED, Verification.VERIFIED
_PLACEHOLDER = "no source found: placeholder for the medical director to set (§10 item 5)"


@dataclass(frozen=True, slots=True)
class RouteLimits:
    """One route's ceilings and practical bounds. ``None`` means the bound does not apply."""

    max_mg: PolicyValue
    dose_step_mg: PolicyValue
    min_mg_per_kg: PolicyValue | None = None
    max_mg_per_kg: PolicyValue | None = None
    min_volume_ml: PolicyValue | None = None
    max_volume_ml: PolicyValue | None = None


def _default_route_limits() -> Mapping[Route, RouteLimits]:
    min_draw = _policy("0.1", "§3", _U, "smallest volume drawn up accurately; " + _PLACEHOLDER)
    injectable_step = _policy("0.5", "§3", _U, "rounding step; " + _PLACEHOLDER)
    return MappingProxyType(
        {
            Route.IV: RouteLimits(
                min_mg_per_kg=_policy("0.1", "ANDRADE2017-DOSE", _V, "lowest dose some respond to"),
                max_mg_per_kg=_policy(
                    "1.0", "§3", _U, "suggested IV ceiling; 1-1.5 mg/kg is anaesthetic (YIP2022)"
                ),
                max_mg=_policy("100", "§3", _U, _PLACEHOLDER),
                dose_step_mg=injectable_step,
                min_volume_ml=min_draw,
                max_volume_ml=_policy("250", "§3", _U, "largest infusion bag; " + _PLACEHOLDER),
            ),
            Route.IM: RouteLimits(
                min_mg_per_kg=_policy("0.1", "§3", _U, _PLACEHOLDER),
                max_mg_per_kg=_policy("1.5", "§3", _U, "suggested IM ceiling for review"),
                max_mg=_policy("150", "§3", _U, _PLACEHOLDER),
                dose_step_mg=injectable_step,
                min_volume_ml=min_draw,
                max_volume_ml=_policy("5", "§3", _U, "one injection site; " + _PLACEHOLDER),
            ),
            Route.SC: RouteLimits(
                min_mg_per_kg=_policy("0.1", "§3", _U, _PLACEHOLDER),
                max_mg_per_kg=_policy("1.0", "GLUE2018", _V, "highest SC dose studied"),
                max_mg=_policy("100", "§3", _U, _PLACEHOLDER),
                dose_step_mg=injectable_step,
                min_volume_ml=min_draw,
                max_volume_ml=_policy("2", "§3", _U, "one SC site; " + _PLACEHOLDER),
            ),
            Route.SUBLINGUAL_LOZENGE: RouteLimits(
                min_mg_per_kg=_policy("0.25", "ANDRADE2019-ORAL", _U, "oral floor, borrowed"),
                max_mg_per_kg=_policy(
                    "7.0", "ANDRADE2019-ORAL", _U, "top of the oral range, borrowed for lozenges"
                ),
                max_mg=_policy("400", "CTP-LOZENGE", _U, "upper end of the 100-400 mg range"),
                dose_step_mg=_policy("50", "CTP-LOZENGE", _V, "50 mg and 100 mg tablets"),
            ),
            Route.ORAL: RouteLimits(
                min_mg_per_kg=_policy("0.25", "ANDRADE2019-ORAL", _V, "bottom of reported range"),
                max_mg_per_kg=_policy("7.0", "ANDRADE2019-ORAL", _V, "top of reported range"),
                max_mg=_policy("400", "§3", _U, "suggested SL/oral fixed ceiling"),
                dose_step_mg=_policy("5", "§3", _U, "rounding step; " + _PLACEHOLDER),
                min_volume_ml=_policy("0.5", "§3", _U, "oral solution; " + _PLACEHOLDER),
                max_volume_ml=_policy("30", "§3", _U, "oral solution; " + _PLACEHOLDER),
            ),
            Route.INTRANASAL_ESKETAMINE: RouteLimits(
                max_mg=PolicyValue(ESKETAMINE_DOSES_MG[-1], ESKETAMINE_SOURCE),
                dose_step_mg=PolicyValue(ESKETAMINE_DEVICE_MG, ESKETAMINE_SOURCE),
            ),
        }
    )


@dataclass(frozen=True, slots=True)
class DosingPolicy:
    """Clinic dosing policy: the medical director edits and versions it; results record it."""

    version: str = "default-2026-11"
    min_weight_kg: PolicyValue = field(
        default_factory=lambda: _policy("30", "§3", _U, "adult weight bound; " + _PLACEHOLDER)
    )
    max_weight_kg: PolicyValue = field(
        default_factory=lambda: _policy("300", "§3", _U, "adult weight bound; " + _PLACEHOLDER)
    )
    min_concentration_mg_per_ml: PolicyValue = field(
        default_factory=lambda: _policy("0.1", "§3", _U, "diluted infusion; " + _PLACEHOLDER)
    )
    max_concentration_mg_per_ml: PolicyValue = field(
        default_factory=lambda: _policy("100", "§3", _U, "strongest vial; " + _PLACEHOLDER)
    )
    min_infusion_minutes: PolicyValue = field(
        default_factory=lambda: _policy("2", "ANDRADE2017-DOSE", _V, "shortest duration studied")
    )
    max_infusion_minutes: PolicyValue = field(
        default_factory=lambda: _policy("100", "ANDRADE2017-DOSE", _V, "longest duration studied")
    )
    routes: Mapping[Route, RouteLimits] = field(default_factory=_default_route_limits)

    def limits(self, route: Route) -> RouteLimits:
        return self.routes[route]


DEFAULT_DOSING_POLICY = DosingPolicy()


# --- request and result ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoseRequest:
    """What the prescriber asks for. Weight-based: ``mg_per_kg``; fixed: ``mg``."""

    route: Route
    weight_kg: Decimal | None = None
    mg_per_kg: Decimal | None = None
    mg: Decimal | None = None
    concentration_mg_per_ml: Decimal | None = None
    minutes: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AppliedCeiling:
    name: str
    value: Decimal
    unit: str
    source: Source


@dataclass(frozen=True, slots=True)
class DoseUnits:
    """How the dose is given in whole units: esketamine devices or lozenge tablets."""

    unit: str
    strength_mg: Decimal
    count: int


@dataclass(frozen=True, slots=True)
class DoseCalculation:
    request: DoseRequest
    exact_dose_mg: Decimal
    dose_mg: Decimal
    effective_mg_per_kg: Decimal | None
    volume_ml: Decimal | None
    rate_ml_per_hour: Decimal | None
    rate_mg_per_min: Decimal | None
    units: tuple[DoseUnits, ...]
    ceilings: tuple[AppliedCeiling, ...]
    rounding: str
    policy_version: str

    @property
    def route(self) -> Route:
        return self.request.route

    @property
    def devices(self) -> int | None:
        """Esketamine devices (28 mg each); ``None`` for other routes."""
        if self.request.route is not Route.INTRANASAL_ESKETAMINE:
            return None
        return sum(u.count for u in self.units)

    def to_dict(self) -> dict[str, object]:
        r = self.request
        return {
            "route": r.route.value,
            "route_label": r.route.label,
            "inputs": {
                "weight_kg": _num(r.weight_kg),
                "mg_per_kg": _num(r.mg_per_kg),
                "mg": _num(r.mg),
                "concentration_mg_per_ml": _num(r.concentration_mg_per_ml),
                "minutes": _num(r.minutes),
            },
            "exact_dose_mg": _num(self.exact_dose_mg),
            "dose_mg": _num(self.dose_mg),
            "effective_mg_per_kg": _num(self.effective_mg_per_kg),
            "volume_ml": _num(self.volume_ml),
            "rate_ml_per_hour": _num(self.rate_ml_per_hour),
            "rate_mg_per_min": _num(self.rate_mg_per_min),
            "units": [
                {"unit": u.unit, "strength_mg": _num(u.strength_mg), "count": u.count}
                for u in self.units
            ],
            "ceilings": [
                {"name": c.name, "value": _num(c.value), "unit": c.unit, "source": c.source.cite()}
                for c in self.ceilings
            ],
            "rounding": self.rounding,
            "policy_version": self.policy_version,
        }


def _num(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


# --- the calculation ------------------------------------------------------------------------------


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _check_range(
    problems: list[Problem],
    name: str,
    value: Decimal,
    low: PolicyValue | None,
    high: PolicyValue | None,
    unit: str,
    why: str = "",
) -> bool:
    """Append a problem if ``value`` is outside [low, high]; True when it is inside."""
    too_low = low is not None and value < low.value
    too_high = high is not None and value > high.value
    if not (too_low or too_high):
        return True
    bounds = []
    if low is not None:
        bounds.append(f"at least {_fmt(low.value)} {unit} ({low.source.cite()})")
    if high is not None:
        bounds.append(f"at most {_fmt(high.value)} {unit} ({high.source.cite()})")
    side = "below the minimum" if too_low else "above the ceiling"
    problems.append(Problem(name, f"{_fmt(value)} {unit} is {side}{why}", " and ".join(bounds)))
    return False


def _positive_finite(problems: list[Problem], name: str, value: Decimal, unit: str) -> bool:
    if value.is_finite() and value > 0:
        return True
    problems.append(Problem(name, f"{value} is not a positive number", f"a number of {unit} > 0"))
    return False


def _not_applicable(problems: list[Problem], name: str, route: Route, why: str) -> None:
    problems.append(Problem(name, f"does not apply to {route.label}: {why}", "leave it out"))


def _truncate(value: Decimal, precision: Decimal) -> Decimal:
    return value.quantize(precision, rounding=ROUND_DOWN)


def calculate_dose(  # noqa: C901, PLR0915 (over the ceiling before it came in; to be split)
    request: DoseRequest, policy: DosingPolicy = DEFAULT_DOSING_POLICY
) -> DoseCalculation:
    """Compute the dose, or raise :class:`DoseRefused` listing every problem found."""
    route = request.route
    facts = ROUTE_FACTS[route]
    limits = policy.limits(route)
    problems: list[Problem] = []
    ceilings: list[AppliedCeiling] = []

    # Inputs, each on its own so that every problem is reported at once.
    weight_ok = False
    if request.weight_kg is None:
        if route is not Route.INTRANASAL_ESKETAMINE:
            problems.append(
                Problem(
                    "weight_kg",
                    "the current weight is needed for every racemic ketamine dose",
                    f"kg, between {_fmt(policy.min_weight_kg.value)} and "
                    f"{_fmt(policy.max_weight_kg.value)}",
                )
            )
    elif _positive_finite(problems, "weight_kg", request.weight_kg, "kg"):
        weight_ok = _check_range(
            problems,
            "weight_kg",
            request.weight_kg,
            policy.min_weight_kg,
            policy.max_weight_kg,
            "kg",
        )

    mg_per_kg_ok = False
    if route is Route.INTRANASAL_ESKETAMINE:
        if request.mg_per_kg is not None:
            problems.append(
                Problem(
                    "mg_per_kg",
                    "esketamine is dosed by device (28 mg each), not by weight",
                    "mg: 28, 56 or 84 (SPRAVATO-US)",
                )
            )
    elif request.mg_per_kg is not None:
        if request.mg is not None:
            problems.append(
                Problem("mg", "both mg and mg_per_kg were given", "one of mg or mg_per_kg")
            )
        if _positive_finite(problems, "mg_per_kg", request.mg_per_kg, "mg/kg"):
            mg_per_kg_ok = _check_range(
                problems,
                "mg_per_kg",
                request.mg_per_kg,
                limits.min_mg_per_kg,
                limits.max_mg_per_kg,
                "mg/kg",
                f" for {route.label}",
            )
    elif request.mg is None:
        accepts = "mg_per_kg" if not facts.fixed_dose else "mg_per_kg, or a fixed dose in mg"
        problems.append(Problem("mg_per_kg", "no dose was given", accepts))

    fixed_ok = False
    if request.mg is not None and request.mg_per_kg is None:
        fixed_ok = _check_fixed_mg(problems, request, limits, weight_ok)

    conc_ok = False
    if request.concentration_mg_per_ml is not None:
        if not facts.needs_concentration and route is not Route.ORAL:
            _not_applicable(problems, "concentration_mg_per_ml", route, "it is not a liquid")
        elif _positive_finite(
            problems, "concentration_mg_per_ml", request.concentration_mg_per_ml, "mg/mL"
        ):
            conc_ok = _check_range(
                problems,
                "concentration_mg_per_ml",
                request.concentration_mg_per_ml,
                policy.min_concentration_mg_per_ml,
                policy.max_concentration_mg_per_ml,
                "mg/mL",
            )
    elif facts.needs_concentration:
        problems.append(
            Problem(
                "concentration_mg_per_ml",
                f"the stock concentration is needed for {route.label}",
                "the concentration drawn up, in mg/mL",
            )
        )

    minutes_ok = False
    if request.minutes is not None:
        if not facts.needs_duration:
            _not_applicable(problems, "minutes", route, "only IV infusions have a duration")
        elif _positive_finite(problems, "minutes", request.minutes, "minutes"):
            minutes_ok = _check_range(
                problems,
                "minutes",
                request.minutes,
                policy.min_infusion_minutes,
                policy.max_infusion_minutes,
                "minutes",
            )
    elif facts.needs_duration:
        problems.append(
            Problem(
                "minutes",
                "an IV infusion needs its duration",
                f"minutes, e.g. {_fmt(STANDARD_IV_MINUTES)} ({STANDARD_IV_SOURCE.cite()})",
            )
        )

    # The dose itself, whenever its inputs are sound.
    exact: Decimal | None = None
    dose: Decimal | None = None
    rounding = "none: a fixed dose is given as asked"
    if weight_ok and mg_per_kg_ok:
        assert request.weight_kg is not None
        assert request.mg_per_kg is not None
        exact = request.mg_per_kg * request.weight_kg
        ceiling_mg = limits.max_mg.value
        if limits.max_mg_per_kg is not None:
            ceiling_mg = min(ceiling_mg, limits.max_mg_per_kg.value * request.weight_kg)
        if exact > limits.max_mg.value:
            problems.append(
                Problem(
                    "dose_mg",
                    f"{_fmt(exact)} mg ({_fmt(request.mg_per_kg)} mg/kg x "
                    f"{_fmt(request.weight_kg)} kg) is above the absolute ceiling for "
                    f"{route.label}",
                    f"at most {_fmt(limits.max_mg.value)} mg ({limits.max_mg.source.cite()}); "
                    "lower the mg/kg",
                )
            )
        else:
            dose, rounding = _round_to_step(exact, limits.dose_step_mg.value, ceiling_mg)
            if dose <= 0:
                problems.append(
                    Problem(
                        "dose_mg",
                        f"{_fmt(exact)} mg rounds to 0 at the {_fmt(limits.dose_step_mg.value)} "
                        "mg step",
                        f"a dose of at least {_fmt(limits.dose_step_mg.value)} mg",
                    )
                )
                dose = None
    elif fixed_ok:
        assert request.mg is not None
        exact = dose = request.mg

    volume_exact: Decimal | None = None
    if dose is not None and conc_ok:
        assert request.concentration_mg_per_ml is not None
        volume_exact = dose / request.concentration_mg_per_ml
        _check_range(
            problems,
            "volume_ml",
            volume_exact,
            limits.min_volume_ml,
            limits.max_volume_ml,
            "mL",
            f" at {_fmt(request.concentration_mg_per_ml)} mg/mL: choose another concentration",
        )

    DoseRefused.refuse_if_any(problems)
    assert exact is not None
    assert dose is not None

    ceilings.append(
        AppliedCeiling("absolute dose", limits.max_mg.value, "mg", limits.max_mg.source)
    )
    if limits.max_mg_per_kg is not None:
        ceilings.append(
            AppliedCeiling(
                "weight-based dose",
                limits.max_mg_per_kg.value,
                "mg/kg",
                limits.max_mg_per_kg.source,
            )
        )
    if volume_exact is not None and limits.max_volume_ml is not None:
        ceilings.append(
            AppliedCeiling("volume", limits.max_volume_ml.value, "mL", limits.max_volume_ml.source)
        )

    rate_ml_h: Decimal | None = None
    rate_mg_min: Decimal | None = None
    if request.minutes is not None and minutes_ok:
        rate_mg_min = _truncate(dose / request.minutes, RATE_MG_PER_MIN_PRECISION)
        if volume_exact is not None:
            rate_ml_h = _truncate(volume_exact * 60 / request.minutes, RATE_ML_PER_HOUR_PRECISION)

    return DoseCalculation(
        request=request,
        exact_dose_mg=exact,
        dose_mg=dose,
        effective_mg_per_kg=(
            _truncate(dose / request.weight_kg, MG_PER_KG_PRECISION)
            if request.weight_kg is not None
            else None
        ),
        volume_ml=None if volume_exact is None else _truncate(volume_exact, VOLUME_PRECISION),
        rate_ml_per_hour=rate_ml_h,
        rate_mg_per_min=rate_mg_min,
        units=_units(route, dose, limits),
        ceilings=tuple(ceilings),
        rounding=rounding,
        policy_version=policy.version,
    )


def _check_fixed_mg(
    problems: list[Problem], request: DoseRequest, limits: RouteLimits, weight_ok: bool
) -> bool:
    route, mg = request.route, request.mg
    assert mg is not None
    facts = ROUTE_FACTS[route]
    if not facts.fixed_dose:
        problems.append(
            Problem(
                "mg",
                f"{route.label} is dosed by weight, not as a fixed dose",
                "mg_per_kg with weight_kg",
            )
        )
        return False
    if not _positive_finite(problems, "mg", mg, "mg"):
        return False
    if route is Route.INTRANASAL_ESKETAMINE:
        allowed = [d for d in ESKETAMINE_DOSES_MG if d <= limits.max_mg.value]
        if mg not in allowed:
            problems.append(
                Problem(
                    "mg",
                    f"{_fmt(mg)} mg is not a licensed esketamine dose",
                    " or ".join(_fmt(d) for d in allowed)
                    + f" mg (28 mg per device; {ESKETAMINE_SOURCE.cite()})",
                )
            )
            return False
        return True
    ok = _check_range(problems, "mg", mg, None, limits.max_mg, "mg", f" for {route.label}")
    step = limits.dose_step_mg.value
    if mg % step != 0:
        problems.append(
            Problem(
                "mg",
                f"{_fmt(mg)} mg is not a whole number of {_fmt(step)} mg steps",
                f"a multiple of {_fmt(step)} mg ({limits.dose_step_mg.source.cite()})",
            )
        )
        ok = False
    if weight_ok and limits.max_mg_per_kg is not None:
        assert request.weight_kg is not None
        per_kg = mg / request.weight_kg
        if per_kg > limits.max_mg_per_kg.value:
            problems.append(
                Problem(
                    "mg",
                    f"{_fmt(mg)} mg is {_fmt(_truncate(per_kg, MG_PER_KG_PRECISION))} mg/kg at "
                    f"{_fmt(request.weight_kg)} kg, above the ceiling for {route.label}",
                    f"at most {_fmt(limits.max_mg_per_kg.value)} mg/kg "
                    f"({limits.max_mg_per_kg.source.cite()})",
                )
            )
            ok = False
    return ok


def _round_to_step(exact: Decimal, step: Decimal, ceiling_mg: Decimal) -> tuple[Decimal, str]:
    nearest = (exact / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    if nearest <= ceiling_mg:
        if nearest == exact:
            return nearest, f"none needed: already a multiple of {_fmt(step)} mg"
        return nearest, f"dose rounded to the nearest {_fmt(step)} mg"
    down = (exact / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step
    return down, (
        f"dose rounded down to a multiple of {_fmt(step)} mg: rounding to the nearest would "
        f"exceed the ceiling of {_fmt(ceiling_mg)} mg"
    )


def _units(route: Route, dose: Decimal, limits: RouteLimits) -> tuple[DoseUnits, ...]:
    if route is Route.INTRANASAL_ESKETAMINE:
        return (DoseUnits("device", ESKETAMINE_DEVICE_MG, int(dose / ESKETAMINE_DEVICE_MG)),)
    if route is Route.SUBLINGUAL_LOZENGE:
        # Fewest tablets: 100 mg tablets first, a 50 mg tablet for any remainder (CTP-LOZENGE).
        hundreds, rest = divmod(dose, Decimal(100))
        units = []
        if hundreds:
            units.append(DoseUnits("lozenge", Decimal(100), int(hundreds)))
        if rest:
            units.append(DoseUnits("lozenge", Decimal(50), int(rest / 50)))
        return tuple(units)
    del limits
    return ()


# --- ascending schedule ---------------------------------------------------------------------------


def ascending_schedule(
    request: DoseRequest,
    sessions: int,
    steps_mg_per_kg: Sequence[Decimal] = GLUE2017_ASCENDING_MG_PER_KG,
    policy: DosingPolicy = DEFAULT_DOSING_POLICY,
) -> tuple[DoseCalculation, ...]:
    """Per-session doses of a course that ascends through ``steps_mg_per_kg`` then holds the top.

    ``request`` gives route, weight, concentration and duration; its mg/kg must be left out. Every
    session is checked; a refusal lists each session's problems, prefixed ``session N:``.
    """
    problems: list[Problem] = []
    if request.mg_per_kg is not None or request.mg is not None:
        problems.append(
            Problem("mg_per_kg", "the schedule sets each session's dose", "leave mg out")
        )
    if not ROUTE_FACTS[request.route].weight_based:
        problems.append(
            Problem(
                "route",
                f"{request.route.label} is not dosed by weight, so it cannot ascend by mg/kg",
                "a racemic ketamine route: iv, im, sc, sublingual_lozenge or oral",
            )
        )
    if sessions < 1:
        problems.append(Problem("sessions", f"{sessions} sessions", "at least 1 session"))
    if not steps_mg_per_kg:
        problems.append(Problem("steps_mg_per_kg", "no steps", "one or more mg/kg steps"))
    elif any(b <= a for a, b in pairwise(steps_mg_per_kg)):
        problems.append(
            Problem(
                "steps_mg_per_kg",
                "steps do not ascend: " + " → ".join(_fmt(s) for s in steps_mg_per_kg),
                "strictly increasing mg/kg, e.g. 0.25 → 0.5 → 1.0 (GLUE2017)",
            )
        )
    DoseRefused.refuse_if_any(problems)

    calculations: list[DoseCalculation] = []
    for index in range(sessions):
        step = steps_mg_per_kg[min(index, len(steps_mg_per_kg) - 1)]
        session_request = DoseRequest(
            route=request.route,
            weight_kg=request.weight_kg,
            mg_per_kg=step,
            concentration_mg_per_ml=request.concentration_mg_per_ml,
            minutes=request.minutes,
        )
        try:
            calculations.append(calculate_dose(session_request, policy))
        except DoseRefused as refused:
            problems.extend(
                Problem(f"session {index + 1}: {p.field}", p.message, p.accepts)
                for p in refused.problems
            )
    DoseRefused.refuse_if_any(problems)
    return tuple(calculations)
