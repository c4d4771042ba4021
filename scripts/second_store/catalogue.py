"""The Hearth & Desk catalogue: products, their variants and stock.

Options are whatever each product varies by (finish, material, length, wattage, capacity,
armrest...), never size or colour: the point of this store is that the framework must not
assume the demo's option keys. A product without options has one variant with no options
(Shopify's "Default Title"). Made-to-order furniture shares no stock counts, only whether it
can be ordered (``stock`` None, ``available``).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from second_store.ids import NumericIds

# Options in the order they vary (Shopify's Option1, Option2...), each value with its surcharge.
Options = dict[str, dict[str, float]]


@dataclass(frozen=True)
class Spec:
    name: str
    type: str
    price: float
    description: str
    options: Options = field(default_factory=dict)
    counted: bool = True  # False: made to order, `available` flag only
    # Stock the eval cases rely on: {(option value, ...): units}, in option order.
    fixed_stock: dict[tuple[str, ...], int] = field(default_factory=dict)


def same_price(*values: str) -> dict[str, float]:
    return dict.fromkeys(values, 0.0)


SPECS: list[Spec] = [
    # ------------------------------------------------------------------ furniture
    Spec(
        "Halden Oak Writing Desk",
        "Desks",
        449.0,
        "Solid white-oak writing desk with a cable grommet and one shallow drawer.",
        {
            "finish": {"Natural Oak": 0.0, "Walnut": 40.0, "Black": 20.0},
            "length": {"48 in": 0.0, "60 in": 80.0},
        },
        fixed_stock={
            ("Natural Oak", "48 in"): 7,
            ("Natural Oak", "60 in"): 3,
            ("Walnut", "48 in"): 4,
            ("Walnut", "60 in"): 0,
            ("Black", "48 in"): 0,
            ("Black", "60 in"): 2,
        },
    ),
    Spec(
        "Brio Electric Standing Desk",
        "Desks",
        689.0,
        "Dual-motor sit-stand desk, 25 to 50 inches high, with four memory presets.",
        {
            "finish": {"White": 0.0, "Black": 0.0, "Bamboo": 60.0},
            "length": {"48 in": 0.0, "55 in": 50.0, "63 in": 90.0},
        },
    ),
    Spec(
        "Tamsin Ergonomic Office Chair",
        "Office Chairs",
        329.0,
        "Mesh-back task chair with lumbar support and a synchronised tilt.",
        {
            "armrest": {"Fixed": 0.0, "Adjustable": 30.0, "Armless": 0.0},
            "material": {"Mesh": 0.0, "Leather": 120.0},
        },
        fixed_stock={
            ("Fixed", "Mesh"): 0,
            ("Fixed", "Leather"): 0,
            ("Adjustable", "Mesh"): 12,
            ("Adjustable", "Leather"): 1,
            ("Armless", "Mesh"): 5,
            ("Armless", "Leather"): 0,
        },
    ),
    Spec(
        "Pell Lounge Chair",
        "Lounge Chairs",
        579.0,
        "Low lounge chair on a solid ash frame; the cushions are removable.",
        {
            "material": {"Boucle": 0.0, "Velvet": 40.0, "Leather": 260.0},
            "armrest": same_price("With arms", "Armless"),
        },
        counted=False,
    ),
    Spec(
        "Lund Bookshelf",
        "Shelving",
        259.0,
        "Five-shelf open bookcase, 72 inches tall, ships flat with wall anchors.",
        {"material": {"Pine": 0.0, "Oak": 90.0, "Walnut": 150.0}},
    ),
    Spec(
        "Arlo Filing Cabinet",
        "Storage",
        219.0,
        "Steel two-drawer filing cabinet on casters, fits letter and legal files.",
        {"finish": same_price("White", "Graphite", "Sage")},
    ),
    Spec(
        "Nook Side Table",
        "Tables",
        189.0,
        "Round side table, 18 inches across.",
        {"material": {"Oak": 0.0, "Marble": 110.0}},
        counted=False,
    ),
    Spec(
        "Kestrel Conference Table",
        "Tables",
        1249.0,
        "Seats eight; solid oak top on a powder-coated steel base. Freight delivery.",
        {"length": {"84 in": 0.0, "96 in": 220.0}, "finish": same_price("Natural Oak", "Walnut")},
        counted=False,
    ),
    # ------------------------------------------------------------------ lighting
    Spec(
        "Orbit Desk Lamp",
        "Lamps",
        89.0,
        "Adjustable LED desk lamp with a dimmer and a USB-C charging port in the base.",
        {
            "finish": same_price("Brass", "Matte Black", "White"),
            "wattage": {"8 W": 0.0, "12 W": 15.0},
        },
        fixed_stock={
            ("Brass", "8 W"): 6,
            ("Brass", "12 W"): 0,
            ("Matte Black", "8 W"): 14,
            ("Matte Black", "12 W"): 9,
            ("White", "8 W"): 0,
            ("White", "12 W"): 3,
        },
    ),
    Spec(
        "Beacon Floor Lamp",
        "Lamps",
        149.0,
        "Arc floor lamp with a linen shade and a foot switch.",
        {"finish": same_price("Brass", "Black"), "wattage": {"60 W": 0.0, "100 W": 10.0}},
    ),
    Spec(
        "Halo Pendant Light",
        "Lamps",
        129.0,
        "Hand-blown glass pendant for kitchen islands; cord can be shortened on site.",
        {
            "material": {"Clear Glass": 0.0, "Smoked Glass": 20.0},
            "length": {"3 ft": 0.0, "6 ft": 0.0},
        },
    ),
    Spec(
        "Clipper Clamp Lamp",
        "Lamps",
        39.0,
        "Small clamp-on reading lamp for shelves and headboards.",
        {"finish": same_price("Black", "White", "Copper")},
    ),
    # ------------------------------------------------------------------ kitchen
    Spec(
        "Steep Electric Kettle",
        "Kitchen Appliances",
        79.0,
        "Gooseneck kettle with five temperature presets and a keep-warm hold.",
        {
            "capacity": {"1.0 L": 0.0, "1.7 L": 10.0},
            "finish": same_price("Stainless Steel", "Matte White", "Matte Black"),
        },
        fixed_stock={
            ("1.0 L", "Stainless Steel"): 11,
            ("1.0 L", "Matte White"): 2,
            ("1.0 L", "Matte Black"): 0,
            ("1.7 L", "Stainless Steel"): 8,
            ("1.7 L", "Matte White"): 0,
            ("1.7 L", "Matte Black"): 5,
        },
    ),
    Spec(
        "Vortex Blender",
        "Kitchen Appliances",
        129.0,
        "High-speed blender with a tamper and a self-clean program.",
        {"capacity": {"1.5 L": 0.0, "2 L": 20.0}, "wattage": {"900 W": 0.0, "1400 W": 50.0}},
    ),
    Spec(
        "Grindstone Burr Coffee Grinder",
        "Kitchen Appliances",
        149.0,
        "Conical burr grinder with 40 grind settings, espresso to French press.",
        {"finish": same_price("Black", "Silver")},
    ),
    Spec(
        "Morning Drip Coffee Maker",
        "Kitchen Appliances",
        99.0,
        "Programmable drip coffee maker with a thermal carafe.",
        {"capacity": {"8 cups": 0.0, "12 cups": 20.0}},
    ),
    Spec(
        "Crisp Toaster Oven",
        "Kitchen Appliances",
        169.0,
        "Convection toaster oven with air-fry, bake and broil modes.",
        {"capacity": {"4 slice": 0.0, "6 slice": 30.0}, "wattage": same_price("1500 W")},
    ),
    Spec(
        "Larder Stand Mixer",
        "Kitchen Appliances",
        349.0,
        "Tilt-head stand mixer with a stainless bowl, whisk, paddle and dough hook.",
        {
            "capacity": {"4.5 qt": 0.0, "5.5 qt": 50.0},
            "finish": same_price("Cream", "Sage", "Graphite"),
        },
    ),
    # ------------------------------------------------------------------ electronics accessories
    Spec(
        "Lumen USB-C Cable",
        "Cables",
        19.0,
        "USB-C to USB-C cable, 100 W charging and 10 Gbps data.",
        {
            "length": {"3 ft": 0.0, "6 ft": 4.0, "10 ft": 8.0},
            "material": {"Braided Nylon": 0.0, "Silicone": 2.0},
        },
    ),
    Spec(
        "Volt GaN Wall Charger",
        "Chargers",
        39.0,
        "Compact gallium-nitride charger with foldable prongs.",
        {"wattage": {"35 W": 0.0, "65 W": 20.0, "100 W": 40.0}},
        fixed_stock={("35 W",): 30, ("65 W",): 0, ("100 W",): 6},
    ),
    Spec(
        "Tether Wireless Charging Pad",
        "Chargers",
        35.0,
        "Qi2 magnetic charging pad with a braided cable.",
        {"wattage": {"10 W": 0.0, "15 W": 10.0}},
    ),
    Spec(
        "Reach Monitor Arm",
        "Desk Accessories",
        119.0,
        "Gas-spring monitor arm with clamp and grommet mounts, screens up to 32 inches.",
        {"capacity": {"Single (up to 20 lb)": 0.0, "Dual (up to 20 lb each)": 80.0}},
    ),
    Spec(
        "Perch Laptop Stand",
        "Desk Accessories",
        59.0,
        "Folding laptop stand, six heights.",
        {"material": {"Aluminum": 0.0, "Walnut": 30.0}},
    ),
    Spec(
        "Felt Desk Mat",
        "Desk Accessories",
        45.0,
        "Wool-felt desk mat with a non-slip cork back.",
        {
            "material": {"Wool Felt": 0.0, "Vegan Leather": 10.0},
            "length": {"31 in": 0.0, "35 in": 6.0},
        },
    ),
    Spec(
        "Linkline HDMI Cable",
        "Cables",
        15.0,
        "HDMI 2.1 cable, 8K at 60 Hz.",
        {"length": {"3 ft": 0.0, "6 ft": 3.0, "15 ft": 9.0}},
    ),
    Spec(
        "Guardian Surge Protector",
        "Power",
        49.0,
        "Eight-outlet surge protector with two USB-C ports, 4,000 joules.",
        {"length": {"6 ft": 0.0, "10 ft": 5.0}},
    ),
    Spec(
        "Tuck Cable Tray",
        "Desk Accessories",
        29.0,
        "Under-desk steel cable tray, screws included.",
    ),
    Spec(
        "Cork Coaster Set",
        "Desk Accessories",
        18.0,
        "Four round cork coasters.",
    ),
]


def variant_stock(rng: random.Random, spec: Spec, values: tuple[str, ...]) -> dict[str, Any]:
    if not spec.counted:
        return {"stock": None, "available": rng.random() > 0.15}
    if values in spec.fixed_stock:
        return {"stock": spec.fixed_stock[values]}
    return {"stock": 0 if rng.random() < 0.14 else rng.randint(1, 40)}


def build_product(
    rng: random.Random, spec: Spec, ids: NumericIds, vids: NumericIds
) -> dict[str, Any]:
    keys = list(spec.options)
    combos = list(itertools.product(*(spec.options[k] for k in keys))) or [()]
    assert set(spec.fixed_stock) <= set(combos), spec.name
    variants = []
    for values in combos:
        surcharge = sum(spec.options[k][v] for k, v in zip(keys, values, strict=True))
        variants.append(
            {
                "id": vids.next(),
                "options": dict(zip(keys, values, strict=True)),
                "price": round(spec.price + surcharge, 2),
                "sku": sku(spec.name, values),
                **variant_stock(rng, spec, values),
            }
        )
    return {
        "id": ids.next(),
        "name": spec.name,
        "type": spec.type,
        "description": spec.description,
        "price": spec.price,
        "vendor": "Hearth & Desk",
        "variants": variants,
    }


def sku(name: str, values: tuple[str, ...]) -> str:
    """'HD-HALDEN-WAL-48': the product's first word and each value's first letters."""
    parts = [name.split()[0].upper()]
    parts += ["".join(ch for ch in v.upper() if ch.isalnum())[:3] for v in values]
    return "HD-" + "-".join(parts)


def build_products(rng: random.Random) -> list[dict[str, Any]]:
    ids = NumericIds(rng, start=8412300000000, step=(40_000, 900_000))
    vids = NumericIds(rng, start=45012300000000, step=(1_000, 60_000))
    return [build_product(rng, spec, ids, vids) for spec in SPECS]


def line(product: dict[str, Any], variant: dict[str, Any], quantity: int) -> dict[str, Any]:
    """An order line as Shopify keeps it: the product title, and the variant's own title."""
    item: dict[str, Any] = {
        "product_id": product["id"],
        "variant_id": variant["id"],
        "quantity": quantity,
        "price": variant["price"],
        "name": product["name"],
        "sku": variant["sku"],
    }
    if variant["options"]:
        item["variant_title"] = " / ".join(variant["options"].values())
    return item


def find_variant(product: dict[str, Any], options: dict[str, str]) -> dict[str, Any]:
    for variant in product["variants"]:
        if all(variant["options"].get(k) == v for k, v in options.items()):
            return variant
    raise KeyError(f"{product['name']} has no variant {options}")


def is_freight(product: dict[str, Any]) -> bool:
    """Furniture above this price travels by freight (no parcel tracking number)."""
    return float(product["price"]) >= 400
