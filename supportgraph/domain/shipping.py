"""Delivery estimates from the shop's shipping rules (the demo KB's facts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ShippingOption:
    method: str
    min_days: int
    max_days: int
    price: float


# Business days and prices per (method, zone). Zones: domestic (DE), eu, uk_ch.
OPTIONS = {
    ("standard", "domestic"): ShippingOption("standard", 3, 5, 4.90),
    ("express", "domestic"): ShippingOption("express", 1, 2, 9.90),
    ("standard", "eu"): ShippingOption("standard", 5, 8, 12.90),
    ("standard", "uk_ch"): ShippingOption("standard", 6, 10, 19.90),
}
FREE_SHIPPING_FROM = 60.0
CUTOFF_HOUR = 14  # orders before 14:00 ship the same business day


def zone_of(country: str | None) -> str | None:
    country = (country or "DE").upper()
    if country == "DE":
        return "domestic"
    if country in ("GB", "UK", "CH"):
        return "uk_ch"
    eu = {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
    return "eu" if country in eu else None


def add_business_days(start: dt.date, days: int) -> dt.date:
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def estimate(
    country: str | None, method: str, ordered_at: dt.datetime
) -> tuple[dt.date, dt.date, ShippingOption] | None:
    """Earliest and latest delivery date, or None when the shop does not deliver there."""
    zone = zone_of(country)
    option = OPTIONS.get((method, zone or "")) if zone else None
    if option is None:
        return None
    ship_day = ordered_at.date()
    if ordered_at.hour >= CUTOFF_HOUR or ship_day.weekday() >= 5:
        ship_day = add_business_days(ship_day, 1)
    return (
        add_business_days(ship_day, option.min_days),
        add_business_days(ship_day, option.max_days),
        option,
    )
