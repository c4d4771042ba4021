"""The named customers and orders the tests and eval suites rely on (listed in generate.py).

Each order is placed in its number's slot of the shop's timeline, so its date follows from the
number; `day` states that date and the generator refuses to write a store where they disagree.
Stock the cases rely on is fixed in catalogue.py (`fixed_stock`).
"""

from __future__ import annotations

from typing import Any

CUSTOMERS: list[dict[str, Any]] = [
    {
        "id": "6012345678901",
        "name": "Megan Walsh",
        "email": "megan.walsh@example.com",
        "phone": "+1 718-555-0142",
        "address": {
            "line1": "214 Park Pl",
            "line2": "Apt 3F",
            "city": "Brooklyn",
            "zip": "11217",
            "country": "US",
            "province": "NY",
        },
        "payment_methods": [{"id": "9000000101", "kind": "card", "label": "Visa ending in 4242"}],
    },
    {
        "id": "6012345678902",
        "name": "Derek Okafor",
        "email": "derek.okafor@example.net",
        "address": {
            "line1": "1820 N Halsted St",
            "city": "Chicago",
            "zip": "60614",
            "country": "US",
            "province": "IL",
        },
        "payment_methods": [{"id": "9000000201", "kind": "shop_pay", "label": "Shop Pay"}],
    },
    {
        "id": "6012345678903",
        "name": "Priya Raman",
        "email": "priya.raman@example.org",
        "phone": "+1 512-555-0177",
        "address": {
            "line1": "905 S Lamar Blvd",
            "city": "Austin",
            "zip": "78704",
            "country": "US",
            "province": "TX",
        },
        "payment_methods": [
            {"id": "9000000301", "kind": "card", "label": "Mastercard ending in 5100"}
        ],
    },
    {
        "id": "6012345678904",
        "name": "Jordan Ellis",
        "email": "jordan.ellis@example.com",
        "address": {
            "line1": "2740 Lawrence St",
            "city": "Denver",
            "zip": "80205",
            "country": "US",
            "province": "CO",
        },
        "payment_methods": [{"id": "9000000401", "kind": "card", "label": "Visa ending in 0019"}],
    },
    {
        "id": "6012345678905",
        "name": "Alicia Moreno",
        "email": "alicia.moreno@example.com",
        "phone": "+1 305-555-0110",
        "address": {
            "line1": "4400 NE 2nd Ave",
            "line2": "Unit 12",
            "city": "Miami",
            "zip": "33137",
            "country": "US",
            "province": "FL",
        },
        "payment_methods": [
            {"id": "9000000501", "kind": "shop_pay", "label": "Shop Pay"},
            {"id": "9000000502", "kind": "card", "label": "American Express ending in 1005"},
        ],
    },
    {
        "id": "6012345678906",
        "name": "Lucía Fernández",
        "email": "lucia.fernandez@example.net",
        "address": {
            "line1": "1514 Westheimer Rd",
            "city": "Houston",
            "zip": "77006",
            "country": "US",
            "province": "TX",
        },
        "payment_methods": [
            {"id": "9000000601", "kind": "paypal", "label": "PayPal (lucia.fernandez@example.net)"}
        ],
    },
    {
        "id": "6012345678907",
        "name": "Camille Tremblay",
        "email": "camille.tremblay@example.org",
        "phone": "+1 514-555-0163",
        "address": {
            "line1": "3895 Rue Saint-Denis",
            "city": "Montréal",
            "zip": "H2W 2M2",
            "country": "CA",
            "province": "QC",
        },
        "payment_methods": [{"id": "9000000701", "kind": "card", "label": "Visa ending in 7310"}],
    },
    {
        "id": "6012345678908",
        "name": "Jonas Krüger",
        "email": "jonas.krueger@example.com",
        "address": {
            "line1": "118 N Hamilton St",
            "city": "Madison",
            "zip": "53703",
            "country": "US",
            "province": "WI",
        },
        "payment_methods": [{"id": "9000000801", "kind": "apple_pay", "label": "Apple Pay"}],
    },
    {
        "id": "6012345678909",
        "name": "Lena Vogel",
        "email": "lena.vogel@example.net",
        "address": {
            "line1": "3410 Fremont Ave N",
            "city": "Seattle",
            "zip": "98103",
            "country": "US",
            "province": "WA",
        },
        "payment_methods": [
            {"id": "9000000901", "kind": "card", "label": "Discover ending in 6011"}
        ],
    },
    {
        "id": "6012345678910",
        "name": "Kwame Mensah",
        "email": "kwame.mensah@example.org",
        "phone": "+1 404-555-0188",
        "address": {
            "line1": "75 Fifth St NW",
            "line2": "Suite 300",
            "city": "Atlanta",
            "zip": "30308",
            "country": "US",
            "province": "GA",
        },
    },
]

# number, day (local), customer, status, items (product name, options, quantity), payments
# ("authorized"/"paid"/"failed"/"refunded" of the whole amount, on the customer's first method),
# fulfilment (carrier, tracking number or None), and anything else the case needs.
ORDERS: list[dict[str, Any]] = [
    {
        "number": 1042,
        "day": "2026-09-02",
        "customer": "6012345678903",
        "status": "delivered",
        "items": [
            ("Tamsin Ergonomic Office Chair", {"armrest": "Adjustable", "material": "Mesh"}, 1)
        ],
        "payments": ["paid"],
        "fulfilment": ("FedEx", "771204583361"),
    },
    {
        "number": 1150,
        "day": "2026-09-06",
        "customer": "6012345678909",
        "status": "delivered",
        "items": [("Lund Bookshelf", {"material": "Oak"}, 1)],
        "payments": ["paid"],
        "fulfilment": ("UPS", "1Z4F87W90391542207"),
    },
    {
        "number": 1377,
        "day": "2026-09-14",
        "customer": "6012345678905",
        "status": "delivered",
        "items": [("Vortex Blender", {"capacity": "1.5 L", "wattage": "900 W"}, 1)],
        "payments": ["paid"],
        "fulfilment": ("USPS", "9400111206213384051172"),
    },
    {
        "number": 1600,
        "day": "2026-09-21",
        "customer": "6012345678907",
        "status": "delivered",
        "items": [("Clipper Clamp Lamp", {"finish": "Copper"}, 1)],
        "payments": ["paid"],
        "fulfilment": ("Canada Post", "7023410300598812"),
    },
    {
        "number": 2455,
        "day": "2026-10-16",
        "customer": "6012345678905",
        "status": "returned",
        "items": [("Perch Laptop Stand", {"material": "Walnut"}, 1)],
        "payments": ["paid", "refunded"],
        "fulfilment": ("USPS", "9400111206213862290534"),
    },
    {
        "number": 2817,
        "day": "2026-10-25",
        "customer": "6012345678904",
        "status": "cancelled",
        "items": [("Brio Electric Standing Desk", {"finish": "Black", "length": "55 in"}, 1)],
        "payments": ["failed"],
        "cancel_reason": "declined",
    },
    {
        "number": 3300,
        "day": "2026-11-05",
        "customer": "6012345678910",
        "status": "delivered",
        "items": [
            ("Kestrel Conference Table", {"length": "96 in", "finish": "Walnut"}, 1),
            ("Tamsin Ergonomic Office Chair", {"armrest": "Adjustable", "material": "Mesh"}, 8),
        ],
        "payments": [],
        "shipping_method": "White-glove delivery",
        "payment_terms": "Net 30",
    },
    {
        "number": 3705,
        "day": "2026-11-14",
        "customer": "6012345678902",
        "status": "delivered",
        "items": [("Steep Electric Kettle", {"capacity": "1.7 L", "finish": "Stainless Steel"}, 1)],
        "payments": ["paid"],
        "fulfilment": ("USPS", "9400111206213857402915"),
    },
    {
        "number": 3720,
        "day": "2026-11-14",
        "customer": "6012345678905",
        "status": "delivered",
        "items": [
            ("Morning Drip Coffee Maker", {"capacity": "12 cups"}, 1),
            ("Cork Coaster Set", {}, 2),
        ],
        "payments": ["paid"],
        "fulfilment": ("UPS", "1Z4F87W90398410356"),
    },
    {
        "number": 3760,
        "day": "2026-11-15",
        "customer": "6012345678909",
        "status": "delivered",
        "items": [("Halo Pendant Light", {"material": "Smoked Glass", "length": "3 ft"}, 1)],
        "payments": ["paid"],
        "fulfilment": ("UPS", "1Z4F87W90392267719"),
    },
    {
        "number": 3812,
        "day": "2026-11-16",
        "customer": "6012345678907",
        "status": "delivered",
        "items": [("Reach Monitor Arm", {"capacity": "Dual (up to 20 lb each)"}, 1)],
        "payments": ["paid"],
        "fulfilment": ("Canada Post", "7023410300871454"),
    },
    {
        "number": 3850,
        "day": "2026-11-17",
        "customer": "6012345678901",
        "status": "shipped",
        "items": [("Felt Desk Mat", {"material": "Wool Felt", "length": "31 in"}, 1)],
        "payments": ["paid"],
        "fulfilment": ("UPS", "1Z4F87W90374625518"),
    },
    {
        "number": 3900,
        "day": "2026-11-18",
        "customer": "6012345678907",
        "status": "shipped",
        "items": [
            ("Linkline HDMI Cable", {"length": "6 ft"}, 1),
            ("Tether Wireless Charging Pad", {"wattage": "15 W"}, 1),
        ],
        "payments": ["paid"],
        "fulfilment": ("Canada Post", "7023410300912377"),
    },
    {
        "number": 3950,
        "day": "2026-11-19",
        "customer": "6012345678908",
        "status": "shipped",
        "items": [("Guardian Surge Protector", {"length": "10 ft"}, 1)],
        "payments": ["paid"],
        "fulfilment": ("UPS", "1Z4F87W90381930046"),
    },
    {
        "number": 3980,
        "day": "2026-11-20",
        "customer": "6012345678906",
        "status": "processed",
        "items": [("Grindstone Burr Coffee Grinder", {"finish": "Silver"}, 1)],
        "payments": ["authorized"],
    },
    {
        "number": 3990,
        "day": "2026-11-20",
        "customer": "6012345678901",
        "status": "pending",
        "items": [
            ("Orbit Desk Lamp", {"finish": "Brass", "wattage": "8 W"}, 1),
            ("Lumen USB-C Cable", {"length": "6 ft", "material": "Braided Nylon"}, 1),
        ],
        "payments": ["authorized"],
    },
    {
        "number": 3991,
        "day": "2026-11-20",
        "customer": "6012345678906",
        "status": "pending",
        "items": [("Arlo Filing Cabinet", {"finish": "Sage"}, 1)],
        "payments": [],
        "payment_terms": "Invoice sent",
    },
    {
        "number": 3993,
        "day": "2026-11-20",
        "customer": "6012345678908",
        "status": "pending",
        "items": [("Crisp Toaster Oven", {"capacity": "6 slice", "wattage": "1500 W"}, 1)],
        "payments": ["authorized"],
    },
    {
        "number": 3996,
        "day": "2026-11-20",
        "customer": "6012345678905",
        "status": "pending",
        "items": [("Beacon Floor Lamp", {"finish": "Brass", "wattage": "60 W"}, 1)],
        "payments": ["paid"],
    },
    {
        "number": 3998,
        "day": "2026-11-20",
        "customer": "6012345678907",
        "status": "pending",
        "items": [("Larder Stand Mixer", {"capacity": "4.5 qt", "finish": "Cream"}, 1)],
        "payments": ["authorized"],
    },
]
