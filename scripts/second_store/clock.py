"""The shop's time: New York local time with its offset, never the wall clock.

Order dates run from 2026-09-01 to 2026-11-20; the eval clock is 2026-11-21. Order numbers
follow creation time, so slot k of N is placed by the shop's traffic curve (busier evenings,
weekends and a rising run-up to the holidays): order n is always on the same day.
"""

from __future__ import annotations

import bisect
import random
from datetime import datetime, timedelta, timezone

FIRST_DAY = datetime(2026, 9, 1)  # local, naive
DAYS = 81  # through 2026-11-20
REFERENCE = datetime(2026, 11, 21, 5, 0)  # the eval clock (10:00 UTC) in New York time
DST_ENDS = datetime(2026, 11, 1, 2, 0)  # EDT (-04:00) before, EST (-05:00) after

# Relative orders per local hour of the day, 00:00..23:00.
HOURLY = [2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 10, 11, 11, 10, 10, 11, 12, 14, 16, 17, 15, 10, 5]


def offset(local: datetime) -> timezone:
    return timezone(timedelta(hours=-4 if local < DST_ENDS else -5))


def iso(local: datetime) -> str:
    """'2026-09-14T19:03:27-04:00': Shopify's own way of writing a shop's local time."""
    return local.replace(microsecond=0, tzinfo=offset(local)).isoformat()


def _hour_weights() -> list[float]:
    weights = []
    for hour in range(DAYS * 24):
        moment = FIRST_DAY + timedelta(hours=hour)
        day = hour // 24
        weekend = 1.25 if moment.weekday() >= 5 else 1.0
        weights.append(HOURLY[moment.hour] * weekend * (1 + 0.9 * day / DAYS))
    return weights


_WEIGHTS = _hour_weights()
_CUMULATIVE = [0.0]
for _w in _WEIGHTS:
    _CUMULATIVE.append(_CUMULATIVE[-1] + _w)


def slot_times(rng: random.Random, count: int) -> list[datetime]:
    """`count` increasing local datetimes: slot k at quantile (k + jitter) / count."""
    total = _CUMULATIVE[-1]
    times = []
    for k in range(count):
        target = (k + rng.uniform(0.05, 0.95)) / count * total
        hour = bisect.bisect_right(_CUMULATIVE, target) - 1
        within = (target - _CUMULATIVE[hour]) / _WEIGHTS[hour]
        seconds = int(within * 3600)
        times.append(FIRST_DAY + timedelta(hours=hour, seconds=seconds))
    return times


def business_days_after(start: datetime, days: int, rng: random.Random) -> datetime:
    """A working-hours moment `days` business days after `start`."""
    moment = start
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment.replace(
        hour=rng.randint(9, 17), minute=rng.randint(0, 59), second=rng.randint(0, 59)
    )
