"""All period arithmetic, in one place.

Rules (民法典):
* 第二百零一条: a period counted in days, months or years starts the day after the event
  ("开始的当日不计入，自下一日开始计算"). A period of N days from event E therefore ends on
  E + N days.
* 第二百零二条: a period counted in months or years ends on the corresponding day of the last
  month; if that month has no such day, on its last day.
* 第一千二百五十九条: 以上、以下、以内、届满 include the number; 不满、超过、以外 exclude it. Each
  notice's wording is stored as ``inclusive`` in the data; this module only applies it.
* "次月" is the first day of the next month.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def system_clock() -> date:
    return date.today()


def add_months(day: date, months: int) -> date:
    """The corresponding day ``months`` later, or that month's last day (第二百零二条)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def period_end(event: date, *, days: int = 0, months: int = 0, years: int = 0) -> date:
    """Last day of a period counted from ``event`` (the event day itself not counted)."""
    return add_months(event, months + 12 * years) + timedelta(days=days)


def within(event: date, when: date, *, inclusive: bool, days: int = 0, months: int = 0,
           years: int = 0) -> bool:
    """Whether ``when`` falls inside the period after ``event``.

    ``inclusive`` (含 / 以内 / 不超过): the period's last day still counts as inside.
    """
    end = period_end(event, days=days, months=months, years=years)
    return when <= end if inclusive else when < end


def day_after_period(event: date, *, days: int = 0, months: int = 0) -> date:
    """First day after a waiting period that starts with ``event`` (day N+1 for N days)."""
    return period_end(event, days=days, months=months) + timedelta(days=1)


def first_of_next_month(day: date) -> date:
    """次月: the first day of the month after ``day``."""
    return add_months(day.replace(day=1), 1)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def span_of(value: str) -> tuple[date, date] | None:
    """A day ("2022-03-05") or a month ("2022-03") as its first and last day; None if neither."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return day, day
        first = date.fromisoformat(value + "-01")
    except ValueError:
        return None
    return first, first_of_next_month(first) - timedelta(days=1)

