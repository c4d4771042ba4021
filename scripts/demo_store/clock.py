"""Dates of the demo store: all derived from the shop's reference date, never the wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from demo_store.tables import table

REFERENCE_DATE: date = table("shop")["reference_date"]
REF_DT = datetime(REFERENCE_DATE.year, REFERENCE_DATE.month, REFERENCE_DATE.day, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


def at_day(days_ago: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A datetime ``days_ago`` days before the reference date (>= 1 keeps it in the past)."""
    day = REF_DT - timedelta(days=days_ago)
    return day.replace(hour=hour, minute=minute, second=second)


def add_business_days(d: date, n: int) -> date:
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def subtract_business_days(d: date, n: int) -> date:
    while n > 0:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d
