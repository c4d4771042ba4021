"""Entity extraction: rules for ids, emails, zips, amounts; a catalogue gazetteer for products.

The catalogue vocabulary (product names, option values) comes from the store, so a store
loaded from outside the project gets its own products recognised without retraining.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from supportgraph.domain.text import normalize

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# "SG-10234", "#SG10234": letters + digits; "#10234" or "order 10234" handled below.
ORDER_ID_RE = re.compile(r"#?\b([A-Za-z]{1,4})-?(\d{4,10})\b")
NOT_ORDER_PREFIXES = {"eu", "cp", "plz", "nr", "no", "zip", "tel", "ref"}
HASH_NUMBER_RE = re.compile(r"#(\d{4,12})\b")
ORDER_WORD_NUMBER_RE = re.compile(
    r"\b(?:order|pedido|commande|bestellung|auftrag)\s*(?:number|no\.?|nr\.?|n[°º]|numero|"
    r"número|numéro|nummer)?\s*:?\s*(\d{4,12})\b",
    re.IGNORECASE,
)
ZIP_KEYWORD_RE = re.compile(
    r"\b(?:zip|postal|postcode|post code|cp|c\.p\.|codigo postal|código postal|code postal|"
    r"plz|postleitzahl)\s*(?:code)?\s*(?:is|es|est|ist|:)?\s*(\d{4,5})\b",
    re.IGNORECASE,
)
FIVE_DIGITS_RE = re.compile(r"(?<![\w-])(\d{5})(?![\w-])")
AMOUNT_RE = re.compile(
    r"(?:€|eur\b|\$)\s?(\d+(?:[.,]\d{1,2})?)|(\d+(?:[.,]\d{1,2})?)\s?(?:€|eur(?:os?)?\b|\$|usd\b)",
    re.IGNORECASE,
)
QUANTITY_RE = re.compile(
    r"\b(\d{1,2})\s*(?:x\b|pairs?|pares?|paires?|paar|units?|unidades?|pieces?|pi[eè]ces?|"
    r"st[uü]ck|items?|art[ií]culos?|articles?)|\bx\s?(\d{1,2})\b",
    re.IGNORECASE,
)
SIZE_KEYWORD_RE = re.compile(
    r"\b(?:size|talla|taille|gr[oö](?:ss|ß)e|gr\.|numero|número|pointure|eu)\s*:?\s*"
    r"(\d{2}(?:[.,]5)?|xxs|xs|s|m|l|xl|xxl|xxxl)\b",
    re.IGNORECASE,
)
SHOE_SIZE_RE = re.compile(r"(?<![\w.,#-])(3[5-9]|4[0-8])(?![\w.,-])")
SHOE_WORDS_RE = re.compile(
    r"sneaker|trainer|runner|boot|shoe|sandal|zapat|bota|chaussure|basket|botte|sandale|"
    r"schuh|stiefel|sandalen|espadrille|loafer"
)
LETTER_SIZE_RE = re.compile(r"(?<![\w'’-])(XXS|XS|S|M|L|XL|XXL|X{3}L)(?![\w'’-])")
NAME_RE = re.compile(
    # The lead-in is case-insensitive ("Me llamo", "Je suis"); the name must be capitalized.
    r"(?i:my name is|name is|i am|i'm|this is|me llamo|mi nombre es|soy|je m'appelle|"
    r"je m’appelle|mon nom est|je suis|ich hei(?:ss|ß)e|mein name ist|ich bin|name:|nombre:|nom:)"
    r"\s+([A-ZÀ-ÖØ-Ý][\w'’-]+(?:\s+[A-ZÀ-ÖØ-Ý][\w'’-]+){0,2})"
)

COLOURS: dict[str, str] = {}
for _canon, _variants in {
    "black": "black negro negra negros negras noir noire noirs schwarz schwarze schwarzen",
    "white": "white blanco blanca blancos blancas blanc blanche weiss weiß weisse weiße",
    "navy": "navy marino bleu-marine dunkelblau",
    "blue": "blue azul azules bleu bleue bleus blau blaue blauen",
    "grey": "grey gray gris grise grau graue grauen",
    "red": "red rojo roja rojos rojas rouge rouges rot rote roten",
    "green": "green verde verdes vert verte verts grun grün grune grüne",
    "beige": "beige",
    "brown": "brown marron marrón cafe café braun braune braunen",
    "pink": "pink rosa rose",
}.items():
    for _v in _variants.split():
        COLOURS[normalize(_v)] = _canon

# Two-word colours first: "azul marino" is navy, not blue.
COLOUR_PHRASES = {
    "azul marino": "navy",
    "bleu marine": "navy",
    "navy blue": "navy",
    "dark blue": "navy",
    "azul oscuro": "navy",
    "bleu fonce": "navy",
    "light blue": "blue",
}

# Words for product types in the four reply languages -> the catalogue's type names.
TYPE_SYNONYMS: dict[str, str] = {}
for _type, _variants in {
    "sneakers": "sneaker sneakers trainers trainer zapatillas zapatilla deportivas baskets "
    "basket tennis turnschuhe turnschuh laufschuhe",
    "boots": "boot boots botas bota botines bottes bottines stiefel stiefeletten",
    "sandals": "sandal sandals sandalias sandales sandalen",
    "t-shirt": "t-shirt tshirt tee camiseta camisetas tee-shirt t-shirts",
    "shirt": "shirt shirts camisa camisas chemise chemises hemd hemden bluse",
    "sweater": "sweater sweaters jumper pullover jersey jerseis suéter sueter pull pulls "
    "strickpullover",
    "jacket": "jacket jackets coat chaqueta chaquetas abrigo veste vestes blouson jacke jacken",
    "jeans": "jeans jean vaqueros vaquero pantalon pantalones hose",
    "dress": "dress dresses vestido vestidos robe robes kleid kleider",
    "accessories": "bag tote belt scarf cap hat bolso cinturon bufanda gorra sac ceinture "
    "echarpe tasche gurtel schal mutze",
}.items():
    for _v in _variants.split():
        TYPE_SYNONYMS[normalize(_v)] = _type


@dataclass
class Catalogue:
    """What the entity extractor needs to know about the store's products."""

    products: list[tuple[str, str, str | None]] = field(default_factory=list)  # id, name, type
    sizes: set[str] = field(default_factory=set)

    @classmethod
    def from_products(cls, products: list[Any]) -> Catalogue:
        items = [(p.id, p.name, p.type) for p in products]
        sizes = {
            str(v.options["size"]).upper()
            for p in products
            for v in p.variants
            if "size" in v.options
        }
        return cls(items, sizes)


STOP_WORDS = set(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "for",
        "with",
        "in",
        "on",
        "my",
        "your",
        "de",
        "la",
        "el",
        "los",
        "las",
        "un",
        "una",
        "y",
        "o",
        "con",
        "en",
        "mi",
        "le",
        "les",
        "du",
        "des",
        "et",
        "ou",
        "avec",
        "mon",
        "ma",
        "der",
        "die",
        "das",
        "ein",
        "eine",
        "und",
        "oder",
        "mit",
        "mein",
        "meine",
    ]
)


def _product_match(text_norm: str, catalogue: Catalogue) -> dict[str, str] | None:
    tokens = set(re.findall(r"[\w-]+", text_norm))
    best: tuple[float, str, str] | None = None
    for pid, name, _type in catalogue.products:
        name_tokens = [t for t in re.findall(r"[\w-]+", normalize(name)) if t not in STOP_WORDS]
        if not name_tokens:
            continue
        hits = sum(1 for t in name_tokens if t in tokens or (len(t) > 4 and t[:-1] in tokens))
        # Require the distinctive part of the name: at least two words, or a one-word name.
        if hits >= min(2, len(name_tokens)):
            score = hits / len(name_tokens) + hits * 0.01
            if best is None or score > best[0]:
                best = (score, pid, name)
    if best:
        return {"product_id": best[1], "product": best[2]}
    for token in tokens:
        if token in TYPE_SYNONYMS:
            return {"product_type": TYPE_SYNONYMS[token]}
    return None


def extract_entities(text: str, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """Entities found in one message. Keys: order_id, email, name, zip, product, product_id,
    product_type, size, colour, quantity, amount."""
    found: dict[str, Any] = {}
    email = EMAIL_RE.search(text)
    if email:
        found["email"] = email.group(0).lower().rstrip(".")
    scrubbed = EMAIL_RE.sub(" ", text)

    order = ORDER_ID_RE.search(scrubbed)
    if order and order.group(1).lower() not in NOT_ORDER_PREFIXES:
        found["order_id"] = f"{order.group(1).upper()}-{order.group(2)}"
    else:
        plain = HASH_NUMBER_RE.search(scrubbed) or ORDER_WORD_NUMBER_RE.search(scrubbed)
        if plain:
            found["order_id"] = plain.group(1)
    if "order_id" in found:
        scrubbed = ORDER_ID_RE.sub(" ", HASH_NUMBER_RE.sub(" ", scrubbed))

    zip_match = ZIP_KEYWORD_RE.search(scrubbed) or FIVE_DIGITS_RE.search(scrubbed)
    if zip_match and not (found.get("order_id", "").endswith(zip_match.group(1))):
        found["zip"] = zip_match.group(1)

    name = NAME_RE.search(text)
    if name:
        candidate = name.group(1).strip()
        if normalize(candidate.split()[0]) not in STOP_WORDS | set(COLOURS) | {"looking"}:
            found["name"] = candidate

    amount = AMOUNT_RE.search(scrubbed)
    if amount:
        found["amount"] = float((amount.group(1) or amount.group(2)).replace(",", "."))
    qty = QUANTITY_RE.search(scrubbed)
    if qty:
        found["quantity"] = int(qty.group(1) or qty.group(2))

    size = SIZE_KEYWORD_RE.search(scrubbed)
    shoe_size = SHOE_SIZE_RE.search(scrubbed)
    if size:
        found["size"] = size.group(1).upper().replace(",", ".")
    elif shoe_size and SHOE_WORDS_RE.search(normalize(scrubbed)):
        # "en 42 noir" about sneakers: a bare 35-48 next to shoe words is a shoe size.
        found["size"] = shoe_size.group(1)
    else:
        letter = LETTER_SIZE_RE.search(scrubbed)
        if letter and (letter.group(1) != "M" or "size" in scrubbed.lower()):
            found["size"] = letter.group(1)

    norm = normalize(scrubbed)
    for phrase, colour in COLOUR_PHRASES.items():
        if phrase in norm:
            found["colour"] = colour
            break
    else:
        for token in re.findall(r"[\w-]+", norm):
            if token in COLOURS:
                found["colour"] = COLOURS[token]
                break
    if catalogue is not None:
        product = _product_match(norm, catalogue)
        if product:
            found.update(product)
    return found
