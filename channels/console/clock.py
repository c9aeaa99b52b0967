"""Beijing time for everything the console shows or filters by, whatever the server's zone.

The stores keep naive UTC (`channels.store.utcnow`); staff think in 北京时间 (UTC+8, no daylight
saving, so a fixed offset is exact and needs no time-zone database in the image).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "CST")


def beijing(value: datetime) -> datetime:
    """A stored time (naive UTC, or aware) in Beijing time."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING)


def label(value: datetime | None) -> str:
    return beijing(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the +08:00 offset, for the console's JSON."""
    return beijing(value).isoformat(timespec="seconds") if value else None


def beijing_date(value: datetime) -> date:
    return beijing(value).date()


def day_start_utc(day: date) -> datetime:
    """00:00 Beijing time of `day` as the stores' naive UTC."""
    return datetime.combine(day, time.min, BEIJING).astimezone(UTC).replace(tzinfo=None)


def today(now: datetime | None = None) -> date:
    return beijing(now or datetime.now(UTC)).date()
