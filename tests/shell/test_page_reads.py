"""Reads done once per page (kapstone.kernel.read_once) and the Outcomes charts kept by a hash of
their inputs (kapstone.outcomes.selectors.drawn_chart): issue 17."""

from __future__ import annotations

import datetime as dt

from django.core.cache import caches

from kapstone.charts import ScoreSeries, score_trajectory_svg
from kapstone.clinical.outcomes import ScorePoint
from kapstone.kernel.read_once import once_per_page, reading_once, remember
from kapstone.outcomes.selectors import drawn_chart


class Row:
    """Stands in for a model instance: read_once keys those by class and primary key."""

    _meta = object()

    def __init__(self, pk: int) -> None:
        self.pk = pk


calls: list[int] = []


@once_per_page
def readings(row: Row) -> list[int]:
    calls.append(row.pk)
    return [row.pk, row.pk * 10]


def test_outside_a_page_every_call_reads():
    calls.clear()
    readings(Row(1))
    readings(Row(1))
    assert calls == [1, 1]


def test_within_a_page_each_row_is_read_once_and_callers_get_their_own_list():
    calls.clear()
    with reading_once():
        first = readings(Row(1))
        first.append(99)  # one caller's changes do not reach the next
        again = readings(Row(1))  # another instance of the same row
        other = readings(Row(2))
    assert calls == [1, 2]
    assert again == [1, 10] and other == [2, 20]
    readings(Row(1))  # the block is over: read again
    assert calls == [1, 2, 1]


def test_a_page_that_read_many_rows_at_once_hands_each_its_share():
    calls.clear()
    remember(readings, [7], Row(3))  # outside a page: nothing is kept
    assert readings(Row(3)) == [3, 30]
    with reading_once():
        remember(readings, [7, 70], Row(3))
        assert readings(Row(3)) == [7, 70]  # what the batch read, not a read of its own
        assert readings(Row(4)) == [4, 40]
    assert calls == [3, 4]


def test_arguments_it_cannot_key_are_read_as_usual():
    @once_per_page
    def by_day(day: dt.date) -> int:
        calls.append(day.day)
        return day.day

    calls.clear()
    with reading_once():
        by_day(dt.date(2026, 1, 2))
        by_day(dt.date(2026, 1, 2))
    assert calls == [2, 2]


def _series(last: int) -> ScoreSeries:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    return ScoreSeries(
        instrument="PHQ-9",
        title="PHQ-9 total score",
        max_total=27,
        points=(ScorePoint(start, 20), ScorePoint(start + dt.timedelta(days=14), last)),
        bands=(),
        dosing_sessions=(start + dt.timedelta(days=1),),
        response_threshold=10.0,
    )


def test_an_outcome_chart_is_drawn_once_per_set_of_scores_and_is_the_same_drawing(
    tmp_path, settings
):
    settings.CACHES = {
        **settings.CACHES,
        "computed": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path),
        },
    }
    caches["computed"].clear()
    drawn = drawn_chart(_series(9), id_prefix="outcome-phq9")
    assert drawn == score_trajectory_svg(_series(9), id_prefix="outcome-phq9")
    assert len(list(tmp_path.iterdir())) == 1  # kept
    assert drawn_chart(_series(9), id_prefix="outcome-phq9") == drawn
    assert len(list(tmp_path.iterdir())) == 1  # found, not drawn again
    changed = drawn_chart(_series(4), id_prefix="outcome-phq9")  # a new score: a new drawing
    assert changed != drawn
    assert len(list(tmp_path.iterdir())) == 2
