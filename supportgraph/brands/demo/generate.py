"""Seeded generator for the demo store of "Sole & Thread" (apparel and shoes, Berlin, EUR).

Writes ``store.json`` next to this file in the store format of
``supportgraph.domain.schema`` (ARCHITECTURE.md 3.4). The output is deterministic:
one ``random.Random(42)``, no wall-clock time (every date is derived from
``REFERENCE_DATE``), no iteration over sets. Running it twice gives byte-identical files.

    python -m supportgraph.brands.demo.generate
    python supportgraph/brands/demo/generate.py

Fixed records meant for tests (everything else is random but seeded):

Customers
    C1001 Anna Schmidt    anna.schmidt@example.com    10115 Berlin  DE  regular  de
    C1002 Carlos García   carlos.garcia@example.com   28013 Madrid  ES  vip      es
    C1003 Camille Martin  camille.martin@example.com  75011 Paris   FR  at_risk  fr
    C1004 James Wilson    james.wilson@example.com    10001 London  GB  new      en
    C1005 Laura Becker    laura.becker@example.com    80331 Munich  DE  None     (no preferences, no orders)
    The random orders never go to C1001-C1005, so their order lists are exactly the fixed ones.

Products
    P2001 Trail Runner Sneakers  sneakers  89.90  sizes 38-46, black/white/blue;
          size 42 black: stock 0, size 42 white: stock 5, size 43 black: stock 3
    P2002 Merino Wool Sweater    sweater   79.00  sizes S-XL, navy/grey/beige; size M navy: stock 7

Orders
    SG-10001 pending    C1001  1 x P2002 M navy, card authorised
    SG-10002 shipped    C1001  DHL, tracking + eta
    SG-10003 delivered  C1001  P2001 43 black, delivered 10 days before REFERENCE_DATE
    SG-10004 delivered  C1002  delivered 45 days before REFERENCE_DATE
    SG-10005 pending    C1002  failed card payment (retry flow)
    SG-10006 shipped    C1003  Colissimo
    SG-10007 cancelled  C1004
    SG-10008.. random, numbered in order of creation.

Conventions: datetimes are ISO 8601 in UTC with offset ("2026-11-19T14:05:00+00:00"),
all strictly before REFERENCE_DATE 00:00 UTC; ``eta`` is an ISO date. Payment amounts
are the item subtotal (the schema has no shipping field). A returned order has a "paid"
entry followed by a "refunded" one (full or partial); a cancelled order has either a
"refunded" entry (cancelled by the customer, money released) or only "failed" entries
(cancelled automatically 48 hours after a failed payment).
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from supportgraph.domain.schema import STORE_SCHEMA_VERSION, Store

SEED = 42
REFERENCE_DATE = date(2026, 11, 20)
REF_DT = datetime(REFERENCE_DATE.year, REFERENCE_DATE.month, REFERENCE_DATE.day, tzinfo=UTC)
OUTPUT = Path(__file__).resolve().parent / "store.json"

STORE_NAME = "Sole & Thread"
CURRENCY = "EUR"
N_CUSTOMERS = 60
N_ORDERS = 220

COLOURS = ["black", "white", "navy", "grey", "red", "green", "beige", "brown", "blue", "pink"]
SHOE_SIZES = [str(n) for n in range(36, 47)]
CLOTHING_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
SHOE_TYPES = ("sneakers", "boots", "sandals")
CLOTHING_TYPES = ("t-shirt", "shirt", "sweater", "jacket", "jeans", "dress")

# --------------------------------------------------------------------------- helpers


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


def money(x: float) -> float:
    return round(x + 1e-9, 2)


def ascii_slug(text: str) -> str:
    text = text.lower()
    for src, dst in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(src, dst)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch for ch in text if ch.isalnum())


def at_day(days_ago: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A datetime ``days_ago`` days before REFERENCE_DATE (days_ago >= 1 keeps it in the past)."""
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


# --------------------------------------------------------------------------- customers

FIRST_NAMES = {
    "de": [
        "Lukas",
        "Jonas",
        "Felix",
        "Maximilian",
        "Paul",
        "Leon",
        "Tobias",
        "Sebastian",
        "Katharina",
        "Julia",
        "Lena",
        "Sophie",
        "Marie",
        "Hannah",
        "Johanna",
        "Jana",
        "Stefan",
        "Markus",
        "Sabine",
        "Claudia",
        "Jürgen",
        "Lea",
        "Niklas",
        "Florian",
    ],
    "es": [
        "Javier",
        "Alejandro",
        "Pablo",
        "Diego",
        "Sergio",
        "Álvaro",
        "Lucía",
        "María",
        "Carmen",
        "Sofía",
        "Paula",
        "Elena",
        "Marta",
        "Irene",
        "Andrés",
        "Raúl",
        "Nuria",
        "Inés",
    ],
    "fr": [
        "Louis",
        "Hugo",
        "Théo",
        "Lucas",
        "Mathieu",
        "Antoine",
        "Julien",
        "Nicolas",
        "Chloé",
        "Léa",
        "Manon",
        "Inès",
        "Élodie",
        "Juliette",
        "Margaux",
        "Clémence",
        "Amélie",
        "François",
        "Hélène",
    ],
    "en": [
        "Oliver",
        "Harry",
        "George",
        "Jack",
        "Charlotte",
        "Emily",
        "Olivia",
        "Amelia",
        "Grace",
        "Daniel",
        "Matthew",
        "Jessica",
        "Ben",
        "Chloe",
        "Ruth",
        "Edward",
        "Sarah",
    ],
}
LAST_NAMES = {
    "de": [
        "Müller",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Hoffmann",
        "Schulz",
        "Koch",
        "Richter",
        "Klein",
        "Wolf",
        "Schröder",
        "Neumann",
        "Schwarz",
        "Zimmermann",
        "Braun",
        "Krüger",
        "Hartmann",
        "Lange",
        "Krause",
        "Lehmann",
        "Köhler",
        "Vogel",
        "Weiß",
    ],
    "es": [
        "Fernández",
        "López",
        "Martínez",
        "Sánchez",
        "Pérez",
        "Gómez",
        "Ruiz",
        "Díaz",
        "Hernández",
        "Moreno",
        "Muñoz",
        "Jiménez",
        "Romero",
        "Navarro",
        "Torres",
        "Domínguez",
        "Vázquez",
        "Castro",
        "Ortega",
    ],
    "fr": [
        "Bernard",
        "Dubois",
        "Robert",
        "Richard",
        "Petit",
        "Durand",
        "Leroy",
        "Moreau",
        "Simon",
        "Laurent",
        "Lefèvre",
        "Michel",
        "Garnier",
        "Faure",
        "Rousseau",
        "Blanc",
        "Girard",
        "Bonnet",
        "Mercier",
    ],
    "en": [
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Williams",
        "Davies",
        "Evans",
        "Roberts",
        "Johnson",
        "Walker",
        "Wright",
        "Robinson",
        "Thompson",
        "Hughes",
        "Green",
        "Hall",
        "Clarke",
    ],
}
COUNTRY_LANG = {"DE": "de", "AT": "de", "ES": "es", "FR": "fr", "GB": "en"}
CITIES = {  # country -> [(city, [zips])], all zips 5 digits
    "DE": [
        ("Berlin", ["10115", "10119", "10435", "10965", "10999", "12047"]),
        ("Munich", ["80331", "80469", "81667"]),
        ("Hamburg", ["20095", "20357", "22765"]),
        ("Cologne", ["50667", "50672"]),
        ("Frankfurt", ["60311", "60316"]),
        ("Leipzig", ["04109", "04275"]),
        ("Stuttgart", ["70173", "70176"]),
    ],
    "ES": [
        ("Madrid", ["28013", "28004", "28010"]),
        ("Barcelona", ["08001", "08012", "08021"]),
        ("Valencia", ["46001", "46004"]),
        ("Seville", ["41001", "41003"]),
        ("Bilbao", ["48001"]),
    ],
    "FR": [
        ("Paris", ["75011", "75003", "75018"]),
        ("Lyon", ["69001", "69007"]),
        ("Marseille", ["13001", "13006"]),
        ("Toulouse", ["31000"]),
        ("Bordeaux", ["33000"]),
        ("Nantes", ["44000"]),
    ],
    "AT": [
        ("Vienna", ["01010", "01070", "01090"]),
        ("Graz", ["08010"]),
        ("Salzburg", ["05020"]),
        ("Linz", ["04020"]),
    ],
    "GB": [
        ("London", ["10002", "10014", "10027"]),
        ("Manchester", ["40021"]),
        ("Bristol", ["30008"]),
        ("Edinburgh", ["60010"]),
    ],
}
STREETS = {
    "DE": [
        "Kastanienallee",
        "Schönhauser Allee",
        "Bergmannstraße",
        "Leopoldstraße",
        "Hauptstraße",
        "Goethestraße",
        "Schillerstraße",
        "Bahnhofstraße",
        "Lindenstraße",
        "Gartenweg",
    ],
    "AT": [
        "Mariahilfer Straße",
        "Landstraßer Hauptstraße",
        "Herrengasse",
        "Getreidegasse",
        "Annenstraße",
    ],
    "ES": [
        "Calle de Alcalá",
        "Calle Mayor",
        "Avenida Diagonal",
        "Calle de Serrano",
        "Calle de la Paz",
        "Gran Vía",
        "Calle Sierpes",
    ],
    "FR": [
        "rue Oberkampf",
        "avenue Jean Jaurès",
        "rue de la République",
        "boulevard Voltaire",
        "rue Victor Hugo",
        "rue du Faubourg Saint-Antoine",
    ],
    "GB": [
        "Baker Street",
        "Camden Road",
        "Oxford Road",
        "Church Street",
        "Victoria Road",
        "Park Lane",
    ],
}
LINE2 = {
    "DE": ["2. OG", "Hinterhaus", "c/o Schulz"],
    "AT": ["Top 12", "Stiege 2"],
    "ES": ["3º B", "Piso 2, puerta 1"],
    "FR": ["Bâtiment B", "Appartement 14"],
    "GB": ["Flat 4", "Apartment 2B"],
}
CARD_BRANDS = ["Visa", "Visa", "Mastercard", "Mastercard", "American Express"]


def street_line(rng: random.Random, country: str) -> str:
    street = rng.choice(STREETS[country])
    number = rng.randint(1, 180)
    if country == "FR":
        return f"{number} {street}"
    if country == "GB":
        return f"{number} {street}"
    if country == "ES":
        return f"{street}, {number}"
    return f"{street} {number}"


def phone_for(rng: random.Random, country: str) -> str:
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    if country == "DE":
        return f"+49 {rng.choice(['151', '160', '170', '176'])} {d(4)} {d(4)}"
    if country == "AT":
        return f"+43 {rng.choice(['664', '676', '699'])} {d(3)} {d(4)}"
    if country == "ES":
        return f"+34 6{d(2)} {d(3)} {d(3)}"
    if country == "FR":
        return f"+33 {rng.choice(['6', '7'])} {d(2)} {d(2)} {d(2)} {d(2)}"
    return f"+44 7700 900{d(3)}"  # Ofcom range reserved for fiction


def payment_label(rng: random.Random, kind: str, email: str) -> tuple[str, str]:
    if kind == "card":
        brand = rng.choice(CARD_BRANDS)
        short = "Amex" if brand == "American Express" else brand
        return kind, f"{short} ending {rng.randint(0, 9999):04d}"
    if kind == "paypal":
        return kind, f"PayPal ({email})"
    if kind == "klarna":
        return kind, "Klarna (pay in 30 days)"
    return kind, f"Gift card ending {rng.randint(0, 9999):04d}"


def fixed_customers() -> list[dict]:
    def pm(cid: str, items: list[tuple[str, str]]) -> list[dict]:
        return [
            {"id": f"pm-{cid}-{i}", "kind": k, "label": label}
            for i, (k, label) in enumerate(items, 1)
        ]

    return [
        {
            "id": "C1001",
            "name": "Anna Schmidt",
            "email": "anna.schmidt@example.com",
            "phone": "+49 151 2345 6789",
            "zip": "10115",
            "address": {
                "line1": "Kastanienallee 21",
                "city": "Berlin",
                "zip": "10115",
                "country": "DE",
            },
            "segment": "regular",
            "preferences": {"language": "de", "contact_channel": "email"},
            "payment_methods": pm(
                "C1001",
                [("card", "Visa ending 4242"), ("paypal", "PayPal (anna.schmidt@example.com)")],
            ),
        },
        {
            "id": "C1002",
            "name": "Carlos García",
            "email": "carlos.garcia@example.com",
            "phone": "+34 612 345 678",
            "zip": "28013",
            "address": {
                "line1": "Calle Mayor, 12",
                "line2": "3º B",
                "city": "Madrid",
                "zip": "28013",
                "country": "ES",
            },
            "segment": "vip",
            "preferences": {"language": "es", "contact_channel": "phone"},
            "payment_methods": pm(
                "C1002",
                [
                    ("card", "Mastercard ending 5454"),
                    ("klarna", "Klarna (pay in 30 days)"),
                    ("gift_card", "Gift card ending 7781"),
                ],
            ),
        },
        {
            "id": "C1003",
            "name": "Camille Martin",
            "email": "camille.martin@example.com",
            "phone": "+33 6 12 34 56 78",
            "zip": "75011",
            "address": {
                "line1": "42 rue Oberkampf",
                "city": "Paris",
                "zip": "75011",
                "country": "FR",
            },
            "segment": "at_risk",
            "preferences": {"language": "fr", "contact_channel": "email"},
            "payment_methods": pm("C1003", [("paypal", "PayPal (camille.martin@example.com)")]),
        },
        {
            "id": "C1004",
            "name": "James Wilson",
            "email": "james.wilson@example.com",
            "phone": "+44 7700 900123",
            "zip": "10001",
            "address": {
                "line1": "221 Baker Street",
                "line2": "Flat 4",
                "city": "London",
                "zip": "10001",
                "country": "GB",
            },
            "segment": "new",
            "preferences": {"language": "en", "contact_channel": "sms"},
            "payment_methods": pm("C1004", [("card", "Amex ending 1005")]),
        },
        {
            "id": "C1005",
            "name": "Laura Becker",
            "email": "laura.becker@example.com",
            "phone": "+49 176 9876 5432",
            "zip": "80331",
            "address": {
                "line1": "Leopoldstraße 8",
                "city": "Munich",
                "zip": "80331",
                "country": "DE",
            },
            "segment": None,
            "preferences": {},
            "payment_methods": pm("C1005", [("card", "Visa ending 1881")]),
        },
    ]


def build_customers(rng: random.Random) -> list[dict]:
    customers = fixed_customers()
    used_names = {c["name"] for c in customers}
    used_emails = {c["email"] for c in customers}
    used_last = {c["name"].split()[-1] for c in customers}  # keep the fixed names unambiguous
    first_count: Counter = Counter()
    last_count: Counter = Counter()

    n_random = N_CUSTOMERS - len(customers)
    segments = ["vip"] * 7 + ["at_risk"] * 7 + ["new"] * 10 + [None] * 7
    segments += ["regular"] * (n_random - len(segments))
    rng.shuffle(segments)
    countries = ["DE"] * 22 + ["ES"] * 10 + ["FR"] * 10 + ["AT"] * 6 + ["GB"] * 7
    assert len(countries) == n_random
    rng.shuffle(countries)

    for i in range(n_random):
        cid = f"C{1001 + len(customers)}"
        country = countries[i]
        lang = COUNTRY_LANG[country]
        name_lang = lang if rng.random() > 0.12 else rng.choice(["de", "es", "fr", "en"])
        while True:  # unique names and emails; a first or last name is used at most twice
            first = rng.choice(FIRST_NAMES[name_lang])
            last = rng.choice(LAST_NAMES[name_lang])
            name = f"{first} {last}"
            email = f"{ascii_slug(first)}.{ascii_slug(last)}@example.com"
            if (
                name not in used_names
                and email not in used_emails
                and last not in used_last
                and first_count[ascii_slug(first)] < 2
                and last_count[last] < 2
            ):
                break
        used_names.add(name)
        used_emails.add(email)
        first_count[ascii_slug(first)] += 1
        last_count[last] += 1
        city, zips = rng.choice(CITIES[country])
        zip_code = rng.choice(zips)
        address = {"line1": street_line(rng, country)}
        if rng.random() < 0.2:
            address["line2"] = rng.choice(LINE2[country])
        address.update({"city": city, "zip": zip_code, "country": country})

        roll = rng.random()
        if roll < 0.15:
            preferences: dict = {}
        elif roll < 0.3:
            preferences = {"language": lang}
        else:
            pref_lang = lang if rng.random() > 0.1 else "en"
            preferences = {
                "language": pref_lang,
                "contact_channel": rng.choice(["email", "email", "email", "sms", "phone", "none"]),
            }

        n_pm = rng.choice([1, 1, 2, 2, 2, 3])
        kinds = ["card", *rng.sample(["card", "paypal", "klarna", "gift_card", "paypal"], n_pm - 1)]
        if rng.random() < 0.25:  # some customers do not use a card at all
            kinds[0] = "paypal" if "paypal" not in kinds else "klarna"
        methods = []
        for j, kind in enumerate(kinds, 1):
            kind, label = payment_label(rng, kind, email)
            methods.append({"id": f"pm-{cid}-{j}", "kind": kind, "label": label})

        customers.append(
            {
                "id": cid,
                "name": name,
                "email": email,
                "phone": phone_for(rng, country),
                "zip": zip_code,
                "address": address,
                "segment": segments[i],
                "preferences": preferences,
                "payment_methods": methods,
            }
        )
    return customers


# --------------------------------------------------------------------------- products

# (name, type, price, colours, description, material or None)
PRODUCT_TABLE = [
    (
        "Trail Runner Sneakers",
        "sneakers",
        89.90,
        ["black", "white", "blue"],
        "Lightweight running sneakers with a grippy outsole for trails and city streets.",
        None,
    ),
    (
        "Merino Wool Sweater",
        "sweater",
        79.00,
        ["navy", "grey", "beige"],
        "A soft, breathable crew-neck sweater knitted from fine merino wool.",
        None,
    ),
    (
        "Classic Denim Jacket",
        "jacket",
        89.90,
        ["blue", "black"],
        "A timeless trucker-style denim jacket with button chest pockets.",
        "denim",
    ),
    (
        "Chelsea Boots",
        "boots",
        139.00,
        ["black", "brown"],
        "Pull-on ankle boots with elastic side panels and a durable rubber sole.",
        "VARIES",
    ),
    (
        "Linen Shirt",
        "shirt",
        59.90,
        ["white", "beige", "blue", "green"],
        "A relaxed-fit shirt in pure linen that stays cool on warm days.",
        "linen",
    ),
    (
        "Canvas Tote",
        "accessories",
        29.90,
        ["beige", "black", "navy"],
        "A sturdy organic cotton canvas tote with an inside pocket.",
        "canvas",
    ),
    (
        "Classic Court Sneakers",
        "sneakers",
        74.90,
        ["white", "black", "green"],
        "Clean low-top leather sneakers inspired by tennis court classics.",
        None,
    ),
    (
        "Organic Cotton T-Shirt",
        "t-shirt",
        24.90,
        ["white", "black", "grey", "navy"],
        "An everyday crew-neck tee made from soft organic cotton.",
        "organic cotton",
    ),
    (
        "Slim Fit Jeans",
        "jeans",
        79.90,
        ["blue", "black", "grey"],
        "Five-pocket jeans with a slim leg and a touch of stretch.",
        None,
    ),
    (
        "Wrap Midi Dress",
        "dress",
        89.90,
        ["green", "black", "red"],
        "A flattering midi dress with a tie waist and flowing skirt.",
        None,
    ),
    (
        "Leather Ankle Boots",
        "boots",
        149.00,
        ["black", "brown"],
        "Smooth leather ankle boots with a side zip and a low block heel.",
        "leather",
    ),
    (
        "Leather Slide Sandals",
        "sandals",
        59.90,
        ["brown", "black", "beige"],
        "Minimal slide sandals with a cushioned leather footbed.",
        "leather",
    ),
    (
        "Striped Breton Tee",
        "t-shirt",
        29.90,
        ["navy", "red", "white"],
        "A classic long-sleeve striped tee in heavyweight cotton.",
        None,
    ),
    (
        "Oxford Button-Down Shirt",
        "shirt",
        54.90,
        ["white", "blue", "pink"],
        "A crisp oxford cotton shirt with a button-down collar.",
        None,
    ),
    (
        "Cable Knit Jumper",
        "sweater",
        89.00,
        ["beige", "green", "navy"],
        "A chunky cable-knit jumper in a warm wool blend.",
        "wool",
    ),
    (
        "Quilted Puffer Jacket",
        "jacket",
        159.00,
        ["black", "navy", "green"],
        "A warm, lightweight puffer jacket with recycled insulation.",
        None,
    ),
    (
        "Straight Leg Jeans",
        "jeans",
        79.90,
        ["blue", "black"],
        "Mid-rise jeans with a straight leg cut from rigid denim.",
        None,
    ),
    (
        "Canvas Low-Top Sneakers",
        "sneakers",
        49.90,
        ["white", "black", "red", "navy"],
        "Easy canvas sneakers with a vulcanised rubber sole.",
        "canvas",
    ),
    (
        "Waterproof Hiking Boots",
        "boots",
        159.00,
        ["brown", "grey", "black"],
        "Waterproof hiking boots with ankle support and a lugged sole.",
        None,
    ),
    (
        "Trekking Sandals",
        "sandals",
        69.90,
        ["black", "grey", "green"],
        "Adjustable strap sandals made for long walks and river crossings.",
        None,
    ),
    (
        "Heavyweight Pocket Tee",
        "t-shirt",
        34.90,
        ["grey", "white", "brown"],
        "A boxy tee in thick cotton jersey with a chest pocket.",
        None,
    ),
    (
        "Flannel Check Shirt",
        "shirt",
        49.90,
        ["red", "green", "blue"],
        "A brushed flannel shirt in a classic check pattern.",
        None,
    ),
    (
        "Cashmere Crew Neck",
        "sweater",
        149.00,
        ["grey", "beige", "navy"],
        "A lightweight crew-neck sweater in pure cashmere.",
        "cashmere",
    ),
    (
        "Waxed Field Jacket",
        "jacket",
        189.00,
        ["green", "brown"],
        "A weather-resistant waxed cotton jacket with four utility pockets.",
        "waxed cotton",
    ),
    (
        "Relaxed Tapered Jeans",
        "jeans",
        84.90,
        ["blue", "grey", "black"],
        "Jeans with room through the thigh and a tapered ankle.",
        None,
    ),
    (
        "Linen Summer Dress",
        "dress",
        74.90,
        ["white", "blue", "beige"],
        "A breezy sleeveless linen dress with side pockets.",
        "linen",
    ),
    (
        "Leather Belt",
        "accessories",
        39.90,
        ["black", "brown"],
        "A full-grain leather belt with a brushed metal buckle.",
        "leather",
    ),
    (
        "Retro Suede Sneakers",
        "sneakers",
        94.90,
        ["navy", "grey", "green", "red"],
        "Seventies-inspired suede sneakers with a gum sole.",
        "suede",
    ),
    (
        "Suede Desert Boots",
        "boots",
        124.90,
        ["beige", "brown"],
        "Soft suede desert boots with a crepe sole.",
        "suede",
    ),
    (
        "Espadrille Sandals",
        "sandals",
        44.90,
        ["beige", "navy", "black"],
        "Summer espadrilles with a braided jute sole and ankle ties.",
        None,
    ),
    (
        "Long-Sleeve Henley",
        "t-shirt",
        39.90,
        ["grey", "navy", "white"],
        "A waffle-knit henley with a three-button placket.",
        None,
    ),
    (
        "Chambray Work Shirt",
        "shirt",
        57.90,
        ["blue", "grey"],
        "A durable chambray shirt with twin flap pockets.",
        None,
    ),
    (
        "Cotton Zip Cardigan",
        "sweater",
        69.90,
        ["grey", "navy", "brown"],
        "A zip-through cardigan in soft organic cotton knit.",
        None,
    ),
    (
        "Rain Shell Jacket",
        "jacket",
        119.00,
        ["black", "blue", "red"],
        "A packable waterproof shell with taped seams and a hood.",
        None,
    ),
    (
        "High-Rise Wide Leg Jeans",
        "jeans",
        89.90,
        ["blue", "white"],
        "High-rise jeans with a wide, full-length leg.",
        None,
    ),
    (
        "Knitted Jumper Dress",
        "dress",
        99.00,
        ["grey", "brown", "black"],
        "A cosy knitted dress with a ribbed roll neck.",
        None,
    ),
    (
        "Wool Beanie",
        "accessories",
        24.90,
        ["black", "grey", "red", "navy"],
        "A ribbed beanie knitted from soft recycled wool.",
        None,
    ),
    (
        "Knit Running Shoes",
        "sneakers",
        109.00,
        ["black", "grey", "pink"],
        "Breathable knit running shoes with a responsive foam midsole.",
        None,
    ),
    (
        "Lace-Up Work Boots",
        "boots",
        169.00,
        ["brown", "black"],
        "Rugged leather work boots with a Goodyear-welted sole.",
        "leather",
    ),
    (
        "Graphic Print T-Shirt",
        "t-shirt",
        27.90,
        ["white", "black"],
        "An organic cotton tee with a Berlin skyline print.",
        None,
    ),
    (
        "Poplin Dress Shirt",
        "shirt",
        64.90,
        ["white", "blue", "pink"],
        "A smart poplin shirt with a spread collar, ideal for the office.",
        None,
    ),
    (
        "Fleece Half-Zip Pullover",
        "sweater",
        59.90,
        ["green", "grey", "beige"],
        "A cosy half-zip pullover in recycled polyester fleece.",
        None,
    ),
    (
        "Wool Blend Overcoat",
        "jacket",
        229.00,
        ["grey", "navy", "brown"],
        "A tailored single-breasted overcoat in a warm wool blend.",
        "wool blend",
    ),
    (
        "High-Top Leather Sneakers",
        "sneakers",
        119.00,
        ["white", "black"],
        "High-top leather sneakers with a padded ankle collar.",
        "leather",
    ),
    (
        "Leather Card Wallet",
        "accessories",
        34.90,
        ["black", "brown", "green"],
        "A slim leather card holder with four slots and a centre pocket.",
        "leather",
    ),
]
# Products whose shop does not share stock counts (stock None, available True/False).
NO_COUNT_PRODUCTS = {"Cashmere Crew Neck", "Waxed Field Jacket", "Leather Belt"}
# A few variants priced differently from the product.
PRICE_BUMP_XXL = {"Cashmere Crew Neck": 10.00, "Wool Blend Overcoat": 10.00}
# Fixed stock for test fixtures: (product name, size, colour) -> stock
FIXED_STOCK = {
    ("Trail Runner Sneakers", "42", "black"): 0,
    ("Trail Runner Sneakers", "42", "white"): 5,
    ("Trail Runner Sneakers", "43", "black"): 3,
    ("Merino Wool Sweater", "M", "navy"): 7,
}


def size_range(rng: random.Random, name: str, ptype: str) -> list[str]:
    if name == "Trail Runner Sneakers":
        return [str(n) for n in range(38, 47)]
    if name == "Merino Wool Sweater":
        return ["S", "M", "L", "XL"]
    if ptype in SHOE_TYPES:
        lo = rng.choice([36, 36, 37, 38, 39])
        hi = rng.choice([42, 43, 45, 46, 46]) if lo < 39 else 46
        return [str(n) for n in range(lo, hi + 1)]
    if ptype in CLOTHING_TYPES:
        lo = rng.choice([0, 0, 1])  # XS or S
        hi = rng.choice([4, 5, 5])  # XL or XXL
        return CLOTHING_SIZES[lo : hi + 1]
    return []


def build_products(rng: random.Random) -> list[dict]:
    assert len(PRODUCT_TABLE) == 45
    products = []
    for idx, (name, ptype, price, colours, description, material) in enumerate(PRODUCT_TABLE):
        pid = f"P{2001 + idx}"
        assert 2 <= len(colours) <= 4 and all(c in COLOURS for c in colours)
        sizes = size_range(rng, name, ptype)
        materials = ["leather", "suede"] if material == "VARIES" else [material]
        variants = []
        for mat in materials:
            for colour in colours:
                for size in sizes or [None]:
                    options: dict[str, str] = {}
                    if size is not None:
                        options["size"] = size
                    options["colour"] = colour
                    if mat is not None:
                        options["material"] = mat
                    vprice = price
                    if mat == "suede" and material == "VARIES":
                        vprice = price + 10.00
                    if size == "XXL" and name in PRICE_BUMP_XXL:
                        vprice = price + PRICE_BUMP_XXL[name]
                    variant = {
                        "id": f"{pid}-{len(variants) + 1}",
                        "options": options,
                        "price": money(vprice),
                    }
                    if name in NO_COUNT_PRODUCTS:
                        variant["stock"] = None
                        variant["available"] = rng.random() > 0.2
                    else:
                        stock = 0 if rng.random() < 0.17 else rng.randint(1, 25)
                        variant["stock"] = FIXED_STOCK.get((name, size, colour), stock)
                    variants.append(variant)
        products.append(
            {
                "id": pid,
                "name": name,
                "type": ptype,
                "description": description,
                "price": money(price),
                "variants": variants,
            }
        )
    return products


def find_variant(product: dict, **options: str) -> dict:
    for v in product["variants"]:
        if all(v["options"].get(k) == val for k, val in options.items()):
            return v
    raise KeyError(f"{product['id']} has no variant {options}")


# --------------------------------------------------------------------------- orders

CARRIER_BY_COUNTRY = {"DE": "DHL", "AT": "DHL", "ES": "Correos", "FR": "Colissimo", "GB": "UPS"}


class Tracking:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def _digits(self, n: int) -> str:
        return "".join(str(self.rng.randint(0, 9)) for _ in range(n))

    def new(self, carrier: str) -> str:
        while True:
            if carrier == "DHL":
                number = "DHL" + self._digits(10)
            elif carrier == "UPS":
                alnum = "".join(
                    self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(6)
                )
                number = "1Z" + alnum + self._digits(10)
            elif carrier == "Colissimo":
                number = "6A" + self._digits(11)
            else:  # Correos
                number = "PQ" + self._digits(14) + "ES"
            if number not in self.used:
                self.used.add(number)
                return number


def transit_days(rng: random.Random, carrier: str, country: str, express: bool) -> int:
    if express:
        return rng.randint(1, 2)
    if country == "DE":
        return rng.randint(3, 5)
    if country == "GB":
        return rng.randint(6, 10)
    return rng.randint(5, 8)


def pick_items(rng: random.Random, products: list[dict], n: int) -> list[dict]:
    items = []
    for product in rng.sample(products, n):
        candidates = [v for v in product["variants"] if (v["stock"] or 0) > 0 or v.get("available")]
        variant = rng.choice(candidates or product["variants"])
        qty = 2 if rng.random() < 0.12 else 1
        items.append(
            {
                "product_id": product["id"],
                "variant_id": variant["id"],
                "quantity": qty,
                "price": variant["price"],
                "name": product["name"],
            }
        )
    return items


def item(product: dict, qty: int = 1, **options: str) -> dict:
    v = find_variant(product, **options)
    return {
        "product_id": product["id"],
        "variant_id": v["id"],
        "quantity": qty,
        "price": v["price"],
        "name": product["name"],
    }


def subtotal(items: list[dict]) -> float:
    return money(sum(i["price"] * i["quantity"] for i in items))


def fixed_orders(customers: list[dict], products: list[dict]) -> list[dict]:
    cust = {c["id"]: c for c in customers}
    prod = {p["name"]: p for p in products}

    def base(oid: str, cid: str, status: str, items: list[dict]) -> dict:
        return {
            "id": oid,
            "customer_id": cid,
            "status": status,
            "items": items,
            "payments": [],
            "shipping_address": dict(cust[cid]["address"]),
            "fulfilments": [],
            "created_at": None,
            "updated_at": None,
            "currency": CURRENCY,
        }

    orders = []

    o = base(
        "SG-10001", "C1001", "pending", [item(prod["Merino Wool Sweater"], size="M", colour="navy")]
    )
    created = at_day(1, 23, 20)
    o["payments"] = [
        {
            "amount": subtotal(o["items"]),
            "status": "authorized",
            "method_id": "pm-C1001-1",
            "at": iso(created),
        }
    ]
    o["created_at"] = o["updated_at"] = iso(created)
    orders.append(o)

    o = base(
        "SG-10002",
        "C1001",
        "shipped",
        [
            item(prod["Classic Denim Jacket"], size="M", colour="blue"),
            item(prod["Organic Cotton T-Shirt"], qty=2, size="M", colour="white"),
        ],
    )
    created, shipped = at_day(4, 9, 12), at_day(3, 15, 40)  # 2026-11-16 / 2026-11-17
    o["payments"] = [
        {
            "amount": subtotal(o["items"]),
            "status": "paid",
            "method_id": "pm-C1001-1",
            "at": iso(shipped),
        }
    ]
    o["fulfilments"] = [
        {
            "tracking_number": "DHL4019283746",
            "carrier": "DHL",
            "eta": add_business_days(shipped.date(), 4).isoformat(),
            "shipped_at": iso(shipped),
        }
    ]
    o["created_at"], o["updated_at"] = iso(created), iso(shipped)
    orders.append(o)

    o = base(
        "SG-10003",
        "C1001",
        "delivered",
        [item(prod["Trail Runner Sneakers"], size="43", colour="black")],
    )
    created, shipped, delivered = at_day(15, 18, 3), at_day(14, 11, 25), at_day(10, 13, 47)
    o["payments"] = [
        {
            "amount": subtotal(o["items"]),
            "status": "paid",
            "method_id": "pm-C1001-1",
            "at": iso(shipped),
        }
    ]
    o["fulfilments"] = [
        {
            "tracking_number": "DHL5520117834",
            "carrier": "DHL",
            "eta": delivered.date().isoformat(),
            "shipped_at": iso(shipped),
            "delivered_at": iso(delivered),
        }
    ]
    o["created_at"], o["updated_at"] = iso(created), iso(delivered)
    orders.append(o)

    o = base(
        "SG-10004",
        "C1002",
        "delivered",
        [
            item(prod["Chelsea Boots"], size="42", colour="brown", material="leather"),
            item(prod["Linen Shirt"], size="L", colour="white"),
        ],
    )
    created, shipped, delivered = at_day(53, 10, 30), at_day(52, 14, 5), at_day(45, 12, 18)
    o["payments"] = [
        {
            "amount": subtotal(o["items"]),
            "status": "paid",
            "method_id": "pm-C1002-1",
            "at": iso(shipped),
        }
    ]
    o["fulfilments"] = [
        {
            "tracking_number": "PQ48213307651902ES",
            "carrier": "Correos",
            "eta": at_day(46, 0, 0).date().isoformat(),
            "shipped_at": iso(shipped),
            "delivered_at": iso(delivered),
        }
    ]
    o["created_at"], o["updated_at"] = iso(created), iso(delivered)
    orders.append(o)

    o = base(
        "SG-10005",
        "C1002",
        "pending",
        [item(prod["Quilted Puffer Jacket"], size="L", colour="black")],
    )
    created = at_day(1, 18, 5)
    o["payments"] = [
        {
            "amount": subtotal(o["items"]),
            "status": "failed",
            "method_id": "pm-C1002-1",
            "at": iso(created + timedelta(seconds=40)),
        }
    ]
    o["created_at"], o["updated_at"] = iso(created), iso(created + timedelta(seconds=40))
    orders.append(o)

    o = base(
        "SG-10006", "C1003", "shipped", [item(prod["Wrap Midi Dress"], size="S", colour="green")]
    )
    created, shipped = at_day(3, 8, 55), at_day(2, 10, 15)
    o["payments"] = [
        {
            "amount": subtotal(o["items"]),
            "status": "paid",
            "method_id": "pm-C1003-1",
            "at": iso(created),
        }
    ]
    o["fulfilments"] = [
        {
            "tracking_number": "6A18273645501",
            "carrier": "Colissimo",
            "eta": add_business_days(shipped.date(), 5).isoformat(),
            "shipped_at": iso(shipped),
        }
    ]
    o["created_at"], o["updated_at"] = iso(created), iso(shipped)
    orders.append(o)

    o = base(
        "SG-10007",
        "C1004",
        "cancelled",
        [item(prod["Rain Shell Jacket"], size="L", colour="black")],
    )
    created = at_day(8, 19, 42)
    cancelled = created + timedelta(minutes=17)
    o["payments"] = [
        {
            "amount": subtotal(o["items"]),
            "status": "refunded",
            "method_id": "pm-C1004-1",
            "at": iso(cancelled),
        }
    ]
    o["created_at"], o["updated_at"] = iso(created), iso(cancelled)
    orders.append(o)
    return orders


def random_time(rng: random.Random, days_ago: int, lo_hour: int = 7, hi_hour: int = 22) -> datetime:
    return at_day(
        days_ago, rng.randint(lo_hour, hi_hour - 1), rng.randint(0, 59), rng.randint(0, 59)
    )


def build_random_orders(
    rng: random.Random,
    customers: list[dict],
    products: list[dict],
    tracking: Tracking,
    n: int,
    status_counts: dict[str, int],
) -> list[dict]:
    statuses = [s for s, k in status_counts.items() for _ in range(k)]
    assert len(statuses) == n
    rng.shuffle(statuses)

    # 1. a timeline per order (customer chosen afterwards, by date)
    drafts = []
    for status in statuses:
        d: dict = {"status": status}
        if status == "pending":
            d["created"] = REF_DT - timedelta(minutes=rng.randint(20, 44 * 60))
        elif status == "processed":
            d["created"] = REF_DT - timedelta(minutes=rng.randint(90, 60 * 60))
            d["processed"] = d["created"] + timedelta(minutes=rng.randint(8, 55))
        elif status == "shipped":
            shipped_ago = rng.randint(1, 6)
            d["shipped"] = random_time(rng, shipped_ago, 9, 18)
            d["created"] = d["shipped"] - timedelta(hours=rng.randint(2, 30))
        elif status in ("delivered", "returned"):
            if status == "delivered":
                # about half within the 30-day return window, half outside (day 30 itself avoided)
                delivered_ago = rng.randint(1, 29) if rng.random() < 0.5 else rng.randint(31, 70)
            else:
                delivered_ago = rng.randint(10, 70)
            d["delivered"] = random_time(rng, delivered_ago, 9, 19)
            # provisional; shipped/created are set from the carrier's transit time in step 3
            d["created"] = d["delivered"] - timedelta(days=5)
            if status == "returned":
                returned_after = rng.randint(4, min(25, delivered_ago - 1))
                d["returned"] = d["delivered"] + timedelta(
                    days=returned_after, hours=rng.randint(-3, 3)
                )
        else:  # cancelled
            d["created"] = random_time(rng, rng.randint(1, 88))
            d["auto"] = rng.random() < 0.3  # cancelled 48 h after a failed payment
            d["cancelled"] = d["created"] + (
                timedelta(hours=48) if d["auto"] else timedelta(minutes=rng.randint(3, 55))
            )
            if d["cancelled"] >= REF_DT:
                d["created"] -= timedelta(days=3)
                d["cancelled"] -= timedelta(days=3)
        drafts.append(d)
    drafts.sort(key=lambda d: d["created"])

    # 2. customers: vip order often, new ones only recently, at_risk ones not recently
    weight = {"vip": 6.0, "regular": 3.0, None: 2.0, "new": 1.5, "at_risk": 2.0}
    pool = [c for c in customers if c["id"] not in {"C1001", "C1002", "C1003", "C1004", "C1005"}]
    order_count: Counter = Counter()
    for d in drafts:
        age = (REFERENCE_DATE - d["created"].date()).days
        eligible = []
        for c in pool:
            seg = c["segment"]
            if seg == "at_risk" and age < 60:
                continue
            if seg == "new" and (age > 30 or order_count[c["id"]] >= 2):
                continue
            eligible.append(c)
        weights = [weight[c["segment"]] for c in eligible]
        customer = rng.choices(eligible, weights=weights, k=1)[0]
        order_count[customer["id"]] += 1
        d["customer"] = customer

    # 3. the orders themselves
    orders = []
    for d in drafts:
        c = d["customer"]
        status = d["status"]
        country = c["address"]["country"]
        n_items = rng.choices([1, 2, 3], weights=[55, 30, 15], k=1)[0]
        items = pick_items(rng, products, n_items)
        amount = subtotal(items)
        method = rng.choice(c["payment_methods"])
        mid, kind = method["id"], method["kind"]
        prepaid = kind in ("paypal", "gift_card")  # charged at checkout; cards/Klarna at shipping
        created = d["created"]
        order = {
            "id": None,
            "customer_id": c["id"],
            "status": status,
            "items": items,
            "payments": [],
            "shipping_address": dict(c["address"]),
            "fulfilments": [],
            "created_at": iso(created),
            "updated_at": None,
            "currency": CURRENCY,
        }

        if status == "pending":
            if rng.random() < 0.35:
                attempts = rng.choice([1, 1, 2])
                at = created + timedelta(seconds=rng.randint(20, 90))
                for _ in range(attempts):
                    order["payments"].append(
                        {"amount": amount, "status": "failed", "method_id": mid, "at": iso(at)}
                    )
                    at += timedelta(minutes=rng.randint(5, 90))
                    if at >= REF_DT:
                        break
                order["updated_at"] = order["payments"][-1]["at"]
            else:
                order["payments"].append(
                    {
                        "amount": amount,
                        "status": "paid" if prepaid else "authorized",
                        "method_id": mid,
                        "at": iso(created),
                    }
                )
                order["updated_at"] = iso(created)
        elif status == "processed":
            order["payments"].append(
                {
                    "amount": amount,
                    "status": "paid" if prepaid else "authorized",
                    "method_id": mid,
                    "at": iso(created),
                }
            )
            order["updated_at"] = iso(d["processed"])
        elif status == "cancelled":
            if d["auto"]:
                order["payments"].append(
                    {
                        "amount": amount,
                        "status": "failed",
                        "method_id": mid,
                        "at": iso(created + timedelta(seconds=35)),
                    }
                )
            else:
                order["payments"].append(
                    {
                        "amount": amount,
                        "status": "refunded",
                        "method_id": mid,
                        "at": iso(d["cancelled"]),
                    }
                )
            order["updated_at"] = iso(d["cancelled"])
        else:  # shipped, delivered, returned
            express = country != "GB" and rng.random() < 0.15
            carrier = "UPS" if express else CARRIER_BY_COUNTRY[country]
            transit = transit_days(rng, carrier, country, express)
            if status == "shipped":
                shipped = d["shipped"]
                eta = add_business_days(shipped.date(), transit)
            else:  # work back from the delivery: usually on the eta, sometimes a day early or late
                eta = d["delivered"].date() + timedelta(days=rng.choice([0, 0, 0, 0, 0, 0, -1, 1]))
                ship_day = subtract_business_days(eta, transit)
                shipped = datetime(
                    ship_day.year,
                    ship_day.month,
                    ship_day.day,
                    rng.randint(9, 17),
                    rng.randint(0, 59),
                    rng.randint(0, 59),
                    tzinfo=UTC,
                )
                created = shipped - timedelta(hours=rng.randint(2, 30), minutes=rng.randint(0, 59))
                order["created_at"] = iso(created)
            paid_at = created if prepaid else shipped
            order["payments"].append(
                {"amount": amount, "status": "paid", "method_id": mid, "at": iso(paid_at)}
            )
            fulfilment = {"tracking_number": tracking.new(carrier), "carrier": carrier}
            if rng.random() > 0.1:
                fulfilment["eta"] = eta.isoformat()
            fulfilment["shipped_at"] = iso(shipped)
            if status == "shipped":
                order["updated_at"] = iso(shipped)
            else:
                fulfilment["delivered_at"] = iso(d["delivered"])
                order["updated_at"] = iso(d["delivered"])
            order["fulfilments"].append(fulfilment)
            if status == "returned":
                if len(items) > 1 and rng.random() < 0.4:  # partial return: one item back
                    back = rng.choice(items)
                    refund = money(back["price"] * back["quantity"])
                else:
                    refund = amount
                order["payments"].append(
                    {
                        "amount": refund,
                        "status": "refunded",
                        "method_id": mid,
                        "at": iso(d["returned"]),
                    }
                )
                order["updated_at"] = iso(d["returned"])
        orders.append(order)
    orders.sort(key=lambda o: o["created_at"])  # order numbers follow creation time
    return orders


# --------------------------------------------------------------------------- main


def build_store() -> dict:
    rng = random.Random(SEED)
    customers = build_customers(rng)
    products = build_products(rng)
    tracking = Tracking(rng)
    orders = fixed_orders(customers, products)
    for o in orders:
        for f in o["fulfilments"]:
            tracking.used.add(f["tracking_number"])

    fixed_status = Counter(o["status"] for o in orders)
    target = {
        "pending": 20,
        "processed": 18,
        "shipped": 30,
        "delivered": 100,
        "cancelled": 22,
        "returned": 30,
    }
    assert sum(target.values()) == N_ORDERS
    remaining = {s: target[s] - fixed_status.get(s, 0) for s in target}
    random_orders = build_random_orders(
        rng, customers, products, tracking, N_ORDERS - len(orders), remaining
    )
    for i, o in enumerate(random_orders):
        o["id"] = f"SG-{10001 + len(orders) + i}"
    orders.extend(random_orders)

    return {
        "schema_version": STORE_SCHEMA_VERSION,
        "name": STORE_NAME,
        "currency": CURRENCY,
        "customers": customers,
        "products": products,
        "orders": orders,
    }


def check(store: Store) -> None:
    """Invariants beyond the schema."""
    assert len(store.customers) == N_CUSTOMERS and len(store.products) == 45
    assert len(store.orders) == N_ORDERS
    for attr, items in (
        ("customer", store.customers),
        ("product", store.products),
        ("order", store.orders),
    ):
        ids = [x.id for x in items]
        assert len(ids) == len(set(ids)), f"duplicate {attr} ids"
    emails = [c.email for c in store.customers]
    assert len(emails) == len(set(emails)), "duplicate emails"
    variants = {v.id: (p, v) for p in store.products for v in p.variants}
    customers = {c.id: c for c in store.customers}
    ref_start = REF_DT.isoformat()
    oldest = (REF_DT - timedelta(days=90)).isoformat()
    for o in store.orders:
        assert o.customer_id in customers
        assert oldest <= o.created_at < ref_start and o.created_at <= o.updated_at < ref_start, o.id
        method_ids = {m.id for m in customers[o.customer_id].payment_methods}
        for p in o.payments:
            assert p.method_id in method_ids, o.id
        for it in o.items:
            product, variant = variants[it.variant_id]
            assert product.id == it.product_id and it.price == variant.price, o.id
        assert bool(o.fulfilments) == (o.status in ("shipped", "delivered", "returned")), o.id
        if o.status == "returned":
            assert o.payments[-1].status == "refunded"


def summarize(store: Store) -> str:
    lines = [
        f"{store.name}: {len(store.customers)} customers, {len(store.products)} products "
        f"({sum(len(p.variants) for p in store.products)} variants), {len(store.orders)} orders"
    ]
    status = Counter(o.status for o in store.orders)
    lines.append(
        "orders per status: "
        + ", ".join(
            f"{s}={status[s]}"
            for s in ("pending", "processed", "shipped", "delivered", "cancelled", "returned")
        )
    )
    seg = Counter(c.segment for c in store.customers)
    lines.append(
        "customers per segment: "
        + ", ".join(f"{s}={seg[s]}" for s in ("vip", "regular", "new", "at_risk", None))
    )
    countries = Counter(c.address.country for c in store.customers)
    lines.append(
        "customers per country: " + ", ".join(f"{k}={countries[k]}" for k in sorted(countries))
    )
    types = Counter(p.type for p in store.products)
    lines.append("products per type: " + ", ".join(f"{t}={types[t]}" for t in sorted(types)))
    all_variants = [v for p in store.products for v in p.variants]
    counted = [v for v in all_variants if v.stock is not None]
    zero = [v for v in counted if v.stock == 0]
    uncounted = [v for v in all_variants if v.stock is None]
    lines.append(
        f"zero-stock variants: {len(zero)} of {len(counted)} counted "
        f"({100 * len(zero) / len(counted):.1f}%); without counts: {len(uncounted)} "
        f"({sum(1 for v in uncounted if v.available)} available)"
    )
    delivered = [o for o in store.orders if o.status == "delivered"]
    recent = sum(
        1
        for o in delivered
        if (REFERENCE_DATE - date.fromisoformat(o.fulfilments[0].delivered_at[:10])).days <= 30
    )
    lines.append(f"delivered within 30 days: {recent}, earlier: {len(delivered) - recent}")
    failed = sum(
        1
        for o in store.orders
        if o.status == "pending" and o.payments and o.payments[-1].status == "failed"
    )
    lines.append(f"pending orders with a failed payment: {failed}")
    carriers = Counter(f.carrier for o in store.orders for f in o.fulfilments)
    no_eta = sum(1 for o in store.orders for f in o.fulfilments if f.eta is None)
    lines.append(
        "fulfilments per carrier: "
        + ", ".join(f"{k}={carriers[k]}" for k in sorted(carriers))
        + f"; without eta: {no_eta}"
    )
    return "\n".join(lines)


def main() -> None:
    data = build_store()
    store = Store(**data)
    check(store)
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    OUTPUT.write_text(text, encoding="utf-8")
    print(summarize(store))
    print(
        f"wrote {OUTPUT} ({len(text.encode('utf-8'))} bytes, "
        f"sha256 {hashlib.sha256(text.encode('utf-8')).hexdigest()})"
    )


if __name__ == "__main__":
    main()
