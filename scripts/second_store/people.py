"""Customers: created the first time they order, as a shop platform does.

Unlike the demo store: numeric ids, no segment, no preferences, the zip only inside the
address (with a state or province), North American addresses and phone numbers, and some
customers with no saved payment method (guest checkouts).
"""

from __future__ import annotations

import random
import unicodedata
from typing import Any

from second_store.ids import NumericIds

FIRST = [
    "Emily",
    "Jacob",
    "Olivia",
    "Ethan",
    "Ava",
    "Noah",
    "Sophia",
    "Liam",
    "Isabella",
    "Mason",
    "Mia",
    "Lucas",
    "Harper",
    "Logan",
    "Evelyn",
    "Aiden",
    "Abigail",
    "Elijah",
    "Charlotte",
    "James",
    "Amelia",
    "Benjamin",
    "Ella",
    "Daniel",
    "Grace",
    "Henry",
    "Chloe",
    "Owen",
    "Zoe",
    "Samuel",
    "Nora",
    "Caleb",
    "Riley",
    "Nathan",
    "Layla",
    "Ryan",
    "Hannah",
    "Dylan",
    "Aria",
    "Wei",
    "Mei",
    "Hiroshi",
    "Aisha",
    "Omar",
    "Fatima",
    "Kwame",
    "Amara",
    "Raj",
    "Anjali",
    "Diego",
    "Valentina",
    "Mateo",
    "Camila",
    "Santiago",
    "Sofía",
    "Javier",
    "Lucía",
    "Marisol",
    "Julien",
    "Élodie",
    "Mathieu",
    "Chloé",
    "Gabriel",
    "Léa",
    "Maximilian",
    "Greta",
    "Lukas",
    "Tobias",
    "Marlene",
    "Dmitri",
    "Katarzyna",
    "Siobhan",
    "Declan",
    "Ingrid",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Evans",
    "Edwards",
    "Collins",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Cooper",
    "Peterson",
    "Reed",
    "Bailey",
    "Kelly",
    "Howard",
    "Cox",
    "Nguyen",
    "Chen",
    "Wang",
    "Kim",
    "Patel",
    "Shah",
    "Singh",
    "Tanaka",
    "Okafor",
    "Mensah",
    "Hernández",
    "García",
    "Rodríguez",
    "Martínez",
    "López",
    "González",
    "Pérez",
    "Ramírez",
    "Gagnon",
    "Roy",
    "Côté",
    "Bouchard",
    "Lavoie",
    "Fischer",
    "Weber",
    "Schneider",
    "Becker",
    "Hoffmann",
    "Novak",
    "Kowalski",
    "O'Brien",
    "Sullivan",
    "Lindqvist",
]
DOMAINS = ["example.com", "example.net", "example.org", "mail.example"]

# (city, state or province, zip codes, country, area code)
PLACES: list[tuple[str, str, list[str], str, str]] = [
    ("Brooklyn", "NY", ["11201", "11215", "11217", "11238"], "US", "718"),
    ("New York", "NY", ["10001", "10011", "10024", "10128"], "US", "212"),
    ("Boston", "MA", ["02108", "02116", "02130"], "US", "617"),
    ("Philadelphia", "PA", ["19103", "19106", "19147"], "US", "215"),
    ("Washington", "DC", ["20001", "20009", "20016"], "US", "202"),
    ("Atlanta", "GA", ["30303", "30308", "30316"], "US", "404"),
    ("Miami", "FL", ["33130", "33137", "33145"], "US", "305"),
    ("Chicago", "IL", ["60607", "60614", "60622", "60647"], "US", "312"),
    ("Minneapolis", "MN", ["55401", "55408", "55414"], "US", "612"),
    ("Austin", "TX", ["78701", "78704", "78751"], "US", "512"),
    ("Houston", "TX", ["77002", "77006", "77019"], "US", "713"),
    ("Denver", "CO", ["80202", "80205", "80218"], "US", "303"),
    ("Phoenix", "AZ", ["85004", "85012", "85016"], "US", "602"),
    ("Los Angeles", "CA", ["90012", "90026", "90027", "90039"], "US", "213"),
    ("San Francisco", "CA", ["94103", "94110", "94117"], "US", "415"),
    ("San Diego", "CA", ["92101", "92104", "92116"], "US", "619"),
    ("Portland", "OR", ["97202", "97209", "97214"], "US", "503"),
    ("Seattle", "WA", ["98102", "98103", "98122"], "US", "206"),
    ("Nashville", "TN", ["37203", "37206", "37212"], "US", "615"),
    ("Raleigh", "NC", ["27601", "27603", "27608"], "US", "919"),
    ("Columbus", "OH", ["43201", "43206", "43215"], "US", "614"),
    ("Madison", "WI", ["53703", "53704", "53711"], "US", "608"),
    ("Toronto", "ON", ["M5V 2T6", "M6J 1H4", "M4M 2S1"], "CA", "416"),
    ("Montréal", "QC", ["H2X 1Y4", "H2T 2M2", "H3H 1P3"], "CA", "514"),
    ("Vancouver", "BC", ["V6B 1A1", "V5T 3C1", "V6K 2G6"], "CA", "604"),
]
CANADIAN_SHARE = 0.07
STREETS = [
    "Maple Ave",
    "Oak St",
    "Cedar Ln",
    "Park Pl",
    "Washington St",
    "Lake Shore Dr",
    "Elm St",
    "Highland Ave",
    "Sunset Blvd",
    "Pine St",
    "Grand Ave",
    "Mill Rd",
    "Church St",
    "Spring St",
    "Franklin Ave",
    "Willow Way",
    "Hudson St",
    "Broadway",
    "Bay St",
    "Rue Saint-Denis",
]
LINE2 = ["Apt 2B", "Apt 4F", "Unit 12", "Suite 300", "Floor 3", "Apt 1R"]
CARD_BRANDS = ["Visa", "Mastercard", "American Express", "Discover"]


def ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def email_for(rng: random.Random, first: str, last: str) -> str:
    given, family = ascii_slug(first), ascii_slug(last)
    local = rng.choice(
        [
            f"{given}.{family}",
            f"{given}{family}",
            f"{given[0]}{family}",
            f"{given}_{family}",
            f"{given}{family}{rng.randint(1, 99)}",
            f"{family}.{given}",
        ]
    )
    return f"{local}@{rng.choice(DOMAINS)}"


def address(rng: random.Random) -> tuple[dict[str, Any], str]:
    """An address (zip and state inside it) and the area code of its phone numbers."""
    canadian = [p for p in PLACES if p[3] == "CA"]
    american = [p for p in PLACES if p[3] == "US"]
    city, state, zips, country, area = rng.choice(
        canadian if rng.random() < CANADIAN_SHARE else american
    )
    home: dict[str, Any] = {"line1": f"{rng.randint(1, 4800)} {rng.choice(STREETS)}"}
    if rng.random() < 0.3:
        home["line2"] = rng.choice(LINE2)
    home |= {"city": city, "zip": rng.choice(zips), "country": country, "province": state}
    return home, area


def phone(rng: random.Random, area: str) -> str:
    return f"+1 {area}-555-01{rng.randint(0, 99):02d}"  # 555-0100..0199: fictional numbers


def payment_methods(rng: random.Random, email: str, ids: NumericIds) -> list[dict[str, str]]:
    """Saved methods: none for a guest checkout, else one or two."""
    roll = rng.random()
    if roll < 0.18:
        return []
    kinds = ["card"] if roll < 0.6 else rng.sample(["card", "shop_pay", "paypal", "apple_pay"], 2)
    methods = []
    for kind in kinds:
        if kind == "card":
            label = f"{rng.choice(CARD_BRANDS)} ending in {rng.randint(0, 9999):04d}"
        elif kind == "paypal":
            label = f"PayPal ({email})"
        else:
            label = {"shop_pay": "Shop Pay", "apple_pay": "Apple Pay"}[kind]
        methods.append({"id": ids.next(), "kind": kind, "label": label})
    return methods


class People:
    """New customers on demand, each with a unique name and email."""

    def __init__(self, rng: random.Random, taken_names: set[str], taken_emails: set[str]) -> None:
        self.rng = rng
        self.ids = NumericIds(rng, start=6012350000000, step=(3_000, 4_000_000))
        self.method_ids = NumericIds(rng, start=9100000000, step=(1_000, 90_000))
        self.names = set(taken_names)
        self.emails = set(taken_emails)

    def new(self) -> dict[str, Any]:
        rng = self.rng
        while True:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}"
            email = email_for(rng, first, last)
            if name not in self.names and email not in self.emails:
                break
        self.names.add(name)
        self.emails.add(email)
        home, area = address(rng)
        customer: dict[str, Any] = {"id": self.ids.next(), "name": name, "email": email}
        if rng.random() < 0.7:
            customer["phone"] = phone(rng, area)
        customer["address"] = home
        methods = payment_methods(rng, email, self.method_ids)
        if methods:
            customer["payment_methods"] = methods
        return customer
