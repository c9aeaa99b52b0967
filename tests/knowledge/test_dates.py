"""Period arithmetic on both sides of every boundary (民法典 第二百零一条/第二百零二条)."""

from datetime import date

import pytest

from knowledge import dates


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2022, 3, 31), 3, date(2022, 6, 30)),  # no 31 June: last day of June
    (date(2022, 11, 30), 3, date(2023, 2, 28)),  # no 30 February
    (date(2023, 11, 30), 3, date(2024, 2, 29)),  # leap year
    (date(2022, 1, 15), 12, date(2023, 1, 15)),
    (date(2022, 12, 31), 1, date(2023, 1, 31)),
])
def test_add_months_takes_corresponding_or_last_day(day, months, expected):
    assert dates.add_months(day, months) == expected


def test_day_period_does_not_count_the_event_day():
    # 自出生之日起90日: day 1 is the day after birth, day 90 is birth + 90 days.
    assert dates.period_end(date(2021, 1, 1), days=90) == date(2021, 4, 1)


@pytest.mark.parametrize(("when", "inclusive", "inside"), [
    (date(2021, 4, 1), True, True),  # day 90, 含90日
    (date(2021, 4, 2), True, False),  # day 91
    (date(2021, 3, 31), False, True),  # day 89, 不满90日
    (date(2021, 4, 1), False, False),  # day 90 excluded
])
def test_within_days_inclusive_and_exclusive(when, inclusive, inside):
    assert dates.within(date(2021, 1, 1), when, days=90, inclusive=inclusive) is inside


@pytest.mark.parametrize(("when", "inside"), [
    (date(2022, 6, 30), True),  # 不超过3个月: the corresponding day is still inside
    (date(2022, 7, 1), False),
])
def test_within_months(when, inside):
    assert dates.within(date(2022, 3, 31), when, months=3, inclusive=True) is inside


def test_day_after_period():
    # 60日后（不含60日）: paid 1 April, days 1..60 end 31 May, benefits from 1 June.
    assert dates.day_after_period(date(2021, 4, 1), days=60) == date(2021, 6, 1)
    assert dates.day_after_period(date(2022, 3, 15), months=3) == date(2022, 6, 16)


@pytest.mark.parametrize(("day", "expected"), [
    (date(2022, 1, 31), date(2022, 2, 1)),
    (date(2022, 12, 1), date(2023, 1, 1)),
    (date(2022, 12, 31), date(2023, 1, 1)),
])
def test_first_of_next_month(day, expected):
    assert dates.first_of_next_month(day) == expected


def test_a_day_or_a_month_as_its_span() -> None:
    assert dates.span_of("2022-03-05") == (date(2022, 3, 5), date(2022, 3, 5))
    assert dates.span_of("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert dates.span_of("2022-12") == (date(2022, 12, 1), date(2022, 12, 31))
    assert dates.span_of("2022-13") is None
