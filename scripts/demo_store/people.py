"""Customers: the fixed ones of ``customers.yaml``, then random ones drawn from its mixes,
``names.yaml`` and ``places.yaml``."""

from __future__ import annotations

import copy
import random
import unicodedata
from collections import Counter
from typing import Any

from demo_store.tables import fill, flatten, table

FIRST_ID = 1001


def ascii_slug(text: str) -> str:
    text = text.lower()
    for src, dst in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(src, dst)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch for ch in text if ch.isalnum())


def payment_label(rng: random.Random, kind: str, email: str) -> str:
    spec = table("customers")
    template: str = spec["payment_labels"][kind]
    values = {"email": email}
    if "{brand}" in template:
        values["brand"] = rng.choice(spec["card_brands"])
    if "{last4}" in template:
        values["last4"] = f"{rng.randint(0, 9999):04d}"
    return template.format(**values)


class Names:
    """Unique names and emails; a first or last name at most twice, no fixed last name."""

    def __init__(self, fixed: list[dict[str, Any]]):
        self.names = {c["name"] for c in fixed}
        self.emails = {c["email"] for c in fixed}
        self.fixed_last = {c["name"].split()[-1] for c in fixed}
        self.first_count: Counter[str] = Counter()
        self.last_count: Counter[str] = Counter()

    def draw(self, rng: random.Random, lang: str) -> tuple[str, str]:
        names = table("names")
        while True:
            first = rng.choice(names["first"][lang])
            last = rng.choice(names["last"][lang])
            name = f"{first} {last}"
            email = f"{ascii_slug(first)}.{ascii_slug(last)}@example.com"
            if (
                name not in self.names
                and email not in self.emails
                and last not in self.fixed_last
                and self.first_count[ascii_slug(first)] < 2
                and self.last_count[last] < 2
            ):
                break
        self.names.add(name)
        self.emails.add(email)
        self.first_count[ascii_slug(first)] += 1
        self.last_count[last] += 1
        return name, email


def address(rng: random.Random, country: str) -> tuple[str, dict[str, str]]:
    """The zip code and the address of a customer living in ``country``."""
    place = table("places")[country]
    city, zips = rng.choice(list(place["cities"].items()))
    zip_code = rng.choice(zips)
    street = rng.choice(place["streets"])
    line: dict[str, str] = {
        "line1": place["street_line"].format(street=street, number=rng.randint(1, 180))
    }
    if rng.random() < 0.2:
        line["line2"] = rng.choice(place["line2"])
    return zip_code, {**line, "city": city, "zip": zip_code, "country": country}


def preferences(rng: random.Random, lang: str) -> dict[str, str]:
    roll = rng.random()
    if roll < 0.15:
        return {}
    if roll < 0.3:
        return {"language": lang}
    return {
        "language": lang if rng.random() > 0.1 else "en",
        "contact_channel": rng.choice(table("customers")["contact_channels"]),
    }


def payment_methods(rng: random.Random, cid: str, email: str) -> list[dict[str, str]]:
    n_methods = rng.choice([1, 1, 2, 2, 2, 3])
    kinds = [
        "card",
        *rng.sample(["card", "paypal", "klarna", "gift_card", "paypal"], n_methods - 1),
    ]
    if rng.random() < 0.25:  # some customers do not use a card at all
        kinds[0] = "paypal" if "paypal" not in kinds else "klarna"
    return [
        {"id": f"pm-{cid}-{j}", "kind": kind, "label": payment_label(rng, kind, email)}
        for j, kind in enumerate(kinds, 1)
    ]


def build_customers(rng: random.Random) -> list[dict[str, Any]]:
    spec = table("customers")
    customers: list[dict[str, Any]] = copy.deepcopy(spec["fixed"])
    names = Names(customers)
    n_random = spec["count"] - len(customers)
    segments = flatten(spec["segments"])
    segments += ["regular"] * (n_random - len(segments))
    rng.shuffle(segments)
    countries = flatten(spec["countries"])
    assert len(countries) == n_random
    rng.shuffle(countries)
    languages = list(table("names")["first"])

    for i in range(n_random):
        cid = f"C{FIRST_ID + len(customers)}"
        country = countries[i]
        lang = table("places")[country]["language"]
        name_lang = lang if rng.random() > 0.12 else rng.choice(languages)
        name, email = names.draw(rng, name_lang)
        zip_code, home = address(rng, country)
        prefs = preferences(rng, lang)
        methods = payment_methods(rng, cid, email)
        customers.append(
            {
                "id": cid,
                "name": name,
                "email": email,
                "phone": fill(rng, table("places")[country]["phone"]),
                "zip": zip_code,
                "address": home,
                "segment": segments[i],
                "preferences": prefs,
                "payment_methods": methods,
            }
        )
    return customers
