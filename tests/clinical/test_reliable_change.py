from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.reliable_change import (
    DEFAULT_RELIABILITY_PARAMETERS,
    GAD7_RELIABILITY,
    PHQ9_RELIABILITY,
    RELIABLE_CHANGE_Z,
    RELIABLE_CHANGE_Z_SOURCE,
    ReliabilityKind,
    ReliabilityParameters,
    ReliableChangeCategory,
    ReliableChangeInputError,
    reliable_change,
)
from tests.reference import REFERENCE

SRC = Source("§5.1", Verification.UNVERIFIED, Evidence.CLINIC_POLICY)


def key_in_reference(key: str, text: str) -> bool:
    """A short key from §0's table, or a section such as "§5.1" (a heading "### 5.1 ...")."""
    if key.startswith("§"):
        number = re.escape(key[1:])
        return re.search(rf"^#+ {number}[. ]", text, flags=re.MULTILINE) is not None
    return f"| {key} |" in text


def test_phq9_worked_check_from_the_reference() -> None:
    # §5.1: SD 5.5, alpha 0.89 -> SE 1.824, S_diff 2.580, 1.96 x S_diff = 5.06 -> 6 points.
    assert PHQ9_RELIABILITY.standard_error_of_measurement == pytest.approx(1.824, abs=5e-4)
    assert PHQ9_RELIABILITY.standard_error_of_difference == pytest.approx(2.580, abs=5e-4)
    assert PHQ9_RELIABILITY.minimum_reliable_change() == 6


def test_gad7_worked_check_from_the_reference() -> None:
    # §5.1: SD 4.5, alpha 0.92 -> SE 1.273, S_diff 1.800, 1.96 x S_diff = 3.53 -> 4 points.
    assert GAD7_RELIABILITY.standard_error_of_measurement == pytest.approx(1.273, abs=5e-4)
    assert GAD7_RELIABILITY.standard_error_of_difference == pytest.approx(1.800, abs=5e-4)
    assert GAD7_RELIABILITY.minimum_reliable_change() == 4


def test_phq9_18_to_11_is_reliable_improvement_by_hand() -> None:
    # -7 / 2.5797 = -2.713
    result = reliable_change(18, 11, PHQ9_RELIABILITY)
    assert result.change == -7
    assert result.index == pytest.approx(-2.7135, abs=1e-3)
    assert result.category is ReliableChangeCategory.RELIABLE_IMPROVEMENT
    assert result.threshold == 1.96
    assert (result.reliability, result.standard_deviation) == (0.89, 5.5)
    assert result.minimum_reliable_change == 6


def test_phq9_five_point_drop_is_not_reliable_six_is() -> None:
    assert reliable_change(18, 13, PHQ9_RELIABILITY).category is (
        ReliableChangeCategory.NO_RELIABLE_CHANGE
    )
    assert reliable_change(18, 12, PHQ9_RELIABILITY).category is (
        ReliableChangeCategory.RELIABLE_IMPROVEMENT
    )


def test_gad7_rises_by_four_is_reliable_deterioration() -> None:
    result = reliable_change(6, 10, GAD7_RELIABILITY)
    assert result.index == pytest.approx(4 / 1.8)
    assert result.category is ReliableChangeCategory.RELIABLE_DETERIORATION
    assert reliable_change(6, 9, GAD7_RELIABILITY).category is (
        ReliableChangeCategory.NO_RELIABLE_CHANGE
    )


def test_exactly_at_threshold_is_not_reliable() -> None:
    # S_diff = 1 (SD 1, r 0.5); a change of exactly z is not "> 1.96".
    params = ReliabilityParameters("x", 0.5, ReliabilityKind.TEST_RETEST, SRC, 1.0, SRC)
    assert params.standard_error_of_difference == pytest.approx(1.0)
    at = reliable_change(10, 8, params, z=2.0)
    assert at.category is ReliableChangeCategory.NO_RELIABLE_CHANGE
    assert params.minimum_reliable_change(z=2.0) == 3


def test_lower_is_worse_flips_the_category() -> None:
    result = reliable_change(4, 12, GAD7_RELIABILITY, higher_is_worse=False)
    assert result.category is ReliableChangeCategory.RELIABLE_IMPROVEMENT


def test_impossible_parameters_are_rejected_with_every_problem() -> None:
    with pytest.raises(ReliableChangeInputError) as err:
        ReliabilityParameters("x", 1.0, ReliabilityKind.TEST_RETEST, SRC, 0.0, SRC)
    assert {p.field for p in err.value.problems} == {"reliability", "standard_deviation"}
    with pytest.raises(ReliableChangeInputError):
        reliable_change(1, 2, PHQ9_RELIABILITY, z=0.0)


def test_every_source_key_appears_in_the_reference() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    assert not key_in_reference("§5.9", text)
    assert not key_in_reference("NOPE2020", text)
    sources = [RELIABLE_CHANGE_Z_SOURCE]
    for p in DEFAULT_RELIABILITY_PARAMETERS:
        sources += [p.reliability_source, p.standard_deviation_source]
    for source in sources:
        assert key_in_reference(source.key, text), source.key
    # Anything the reference leaves unverified must ship as clinic policy.
    assert PHQ9_RELIABILITY.standard_deviation_source.is_clinic_policy
    assert GAD7_RELIABILITY.reliability_source.is_clinic_policy


@given(
    pre=st.integers(0, 27),
    post=st.integers(0, 27),
    r=st.floats(0.0, 0.99),
    sd=st.floats(0.5, 20.0),
)
def test_index_and_category_agree_with_change(pre: int, post: int, r: float, sd: float) -> None:
    params = ReliabilityParameters("x", r, ReliabilityKind.TEST_RETEST, SRC, sd, SRC)
    result = reliable_change(pre, post, params)
    assert math.copysign(1, result.index) == math.copysign(1, post - pre) or post == pre
    assert result.index * result.standard_error_of_difference == pytest.approx(post - pre)
    reliable = abs(result.index) > RELIABLE_CHANGE_Z
    assert (result.category is not ReliableChangeCategory.NO_RELIABLE_CHANGE) == reliable
    if reliable:
        assert abs(post - pre) >= result.minimum_reliable_change
    # The minimum reliable change is itself reliable and one point less is not.
    m = result.minimum_reliable_change
    assert m / result.standard_error_of_difference > RELIABLE_CHANGE_Z
    assert (m - 1) / result.standard_error_of_difference <= RELIABLE_CHANGE_Z
