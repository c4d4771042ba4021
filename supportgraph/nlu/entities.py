"""Entity extraction: rules for ids, emails, zips, amounts; a catalogue gazetteer for products.

The catalogue vocabulary (product names, option values) comes from the store, so a store
loaded from outside the project gets its own products recognised without retraining. The words
of each language (order, size, colour, product-type words...) come from the vocab files.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from supportgraph.domain.lookup import reference_key
from supportgraph.domain.text import UNSPACED, UNSPACED_RE, normalize
from supportgraph.nlu.text import AFTER, BEFORE, EMAIL_RE, phrase_re, word_count
from supportgraph.nlu.vocab import Vocabulary, load_vocab

# "SG-10234", "#SG10234", "ORD-2024-000123": letters + digits; "#10234" or "order 10234"
# handled below. These say "an order reference is here"; which order it is, and how its id is
# spelled, only the store knows (order_references + the understand node).
ORDER_ID_RE = re.compile(
    rf"#?\s?{BEFORE}([A-Za-z]{{1,5}})[-_]?(\d{{4,12}}(?:-\d{{2,12}}){{0,2}}){AFTER}"
)
# "SG 10587", "SG - 12007", "#sg 10777": a gap inside the reference, taken as one when the
# letters are written as a code is (capitals) or after '#'. ("PLZ 10115" is no order:
# `not_order_prefixes`.)
SPACED_ORDER_ID_RE = re.compile(
    rf"(?:#\s?([A-Za-z]{{1,5}})|{BEFORE}([A-Z]{{2,5}}))\s{{0,2}}[-_–]?\s{{0,2}}(\d{{4,12}}){AFTER}"
)
HASH_NUMBER_RE = re.compile(rf"#\s?(?P<value>\d{{3,12}}){AFTER}")
# Anything that could be a reference in another shop's id space: "# W 1234567", "w1234567",
# "1042", "A-77-901". Only tried against the store, never taken as an id on its own.
LOOSE_REF_RE = re.compile(
    r"(?<![\w@.+])(#\s?)?([A-Za-z]{1,5}[\s_-]?)?(\d[\d_-]{1,14}\d[A-Za-z]{0,3})(?![\w@])"
)
MAX_REFERENCES = 6  # candidates tried against the store per message
FIVE_DIGITS_RE = re.compile(r"(?<![\w-])(?P<value>\d{5})(?![\w-])")
AMOUNT_RE = re.compile(
    r"(?:€|eur\b|\$)\s?(\d+(?:[.,]\d{1,2})?)|(\d+(?:[.,]\d{1,2})?)\s?(?:€|eur(?:os?)?\b|\$|usd\b)",
    re.IGNORECASE,
)
SHOE_SIZE_RE = re.compile(rf"(?<![.,#-]){BEFORE}(3[5-9]|4[0-8])(?![.,-]){AFTER}")
LETTER_SIZE_RE = re.compile(r"(?<![\w'’-])(XXS|XS|S|M|L|XL|XXL|X{3}L)(?![\w'’-])")
# Parts that are the same in every language; the words around them come from the vocab files
# (supportgraph/nlu/vocab/<lang>.yaml, section `entities`).
NEUTRAL_NOT_ORDER_PREFIXES = ("eu",)  # "EU42" is a shoe size
NEUTRAL_SIZE_WORDS = ("eu",)
NEUTRAL_QUANTITY_UNITS = (r"x\b",)  # "2x"
# A postcode after its keyword, in any country's shape: "PLZ 10117", "邮编100000", "〒100-0001".
POSTCODE_DIGITS = r"\d{3,5}-\d{3,4}|\d{4,6}"
# A name in Chinese or Japanese characters (kana are grammar: "です"), or in Arabic letters.
CAPLESS_NAME = (
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,4}(?:\s[\u3400-\u4dbf\u4e00-\u9fff]{1,3})?"
    r"|[\u0621-\u064a]{2,}(?:\s+[\u0621-\u064a]{2,}){0,2}"
)
SIZE_VALUES = r"\d{2}(?:[.,]5)?|xxs|xs|s|m|l|xl|xxl|xxxl"


def _alternatives(fragments: list[str] | tuple[str, ...]) -> str:
    return "|".join(dict.fromkeys(fragments))


@dataclass(frozen=True)
class EntityWords:
    # Patterns built from the vocab name the part they read (`value`): a word list's own
    # groups ("bestel(ling)?") never shift it.
    order_word_number_re: re.Pattern[str]  # "order 10234", "pedido nº 10234"
    order_word_re: re.Pattern[str]  # "order", "pedido": the message is about an order
    zip_keyword_re: re.Pattern[str]  # "zip code is 10117", "PLZ: 10117"
    quantity_re: re.Pattern[str]  # "2 pairs", "x2"
    size_keyword_re: re.Pattern[str]  # "size 42", "talla M"
    shoe_words_re: re.Pattern[str]  # a bare 35-48 near these is a shoe size
    name_re: re.Pattern[str]  # "my name is Ana Ruiz", "ik ben Jan de Vries"
    caseless_name_re: re.Pattern[str]  # "我叫王芳", "اسمي أحمد علي", "田中花子と申します"
    name_stops_re: re.Pattern[str]  # where a caseless name has surely ended: "邮编", "الرمز"
    postcode_re: re.Pattern[str]  # shapes that are a postcode on their own: "1015 CJ"
    not_order_prefixes: frozenset[str]
    not_names: frozenset[str]  # first words after a name intro that are not names
    unspaced_not_names: tuple[str, ...]  # those written without spaces: found inside a run
    size_hints: tuple[str, ...]  # words that make a lone "M" a size
    colours: dict[str, str]  # colour word -> catalogue colour
    colour_re: re.Pattern[str]  # any colour word, as a whole word (anywhere in CJK text)
    colour_phrases: dict[str, str]  # two-word colours, checked first: "azul marino" is navy
    type_synonyms: dict[str, str]  # product-type word -> catalogue type name
    stop_words: frozenset[str]

    @classmethod
    def from_vocab(cls, vocab: Vocabulary) -> EntityWords:
        def words(key: str) -> list[str]:
            return vocab.words("entities", key)

        tails = _alternatives(words("postcode_tails"))
        postcodes = words("postcode_formats")
        particles = _alternatives([re.escape(w) for w in words("name_particles")] or ["(?!)"])
        capitalised = rf"[A-ZÀ-ÖØ-Ý](?:(?![{UNSPACED}])[\w'’-])+"  # "Martinです": Martin
        stops = [*words("postcode_words"), *words("order_words"), *words("stop_words")]
        sizes = _alternatives([*words("size_words"), *NEUTRAL_SIZE_WORDS])
        colours = {
            normalize(word): colour
            for colour, variants in vocab.groups("entities", "colours").items()
            for word in variants
        }
        return cls(
            order_word_number_re=re.compile(
                rf"{BEFORE}(?:{_alternatives(words('order_words'))})\s*"
                rf"(?:{_alternatives(words('number_words'))})?\s*[:：]?\s*(?P<value>\d{{4,12}}){AFTER}",
                re.IGNORECASE,
            ),
            order_word_re=re.compile(
                rf"{BEFORE}(?:{_alternatives(words('order_words'))})", re.IGNORECASE
            ),
            zip_keyword_re=re.compile(
                rf"{BEFORE}(?:{_alternatives(words('postcode_words'))})\s*(?:{tails})?\s*"
                rf"(?:{_alternatives([*words('copulas'), ':', '：', '〒'])})?\s*"
                rf"(?P<value>{_alternatives([*postcodes, POSTCODE_DIGITS])}){AFTER}",
                re.IGNORECASE,
            ),
            postcode_re=re.compile(
                rf"(?<![\w-])(?:〒\s?)?(?P<value>{_alternatives(postcodes or ['(?!)'])})(?![\w-])"
            ),
            quantity_re=re.compile(
                rf"{BEFORE}(?P<value>\d{{1,2}})\s*(?:"
                rf"{_alternatives([*NEUTRAL_QUANTITY_UNITS, *words('quantity_units')])})"
                r"|\bx\s?(?P<value_x>\d{1,2})\b",
                re.IGNORECASE,
            ),
            size_keyword_re=re.compile(
                rf"{BEFORE}(?:{sizes})\s*(?:{_alternatives([*words('copulas'), ':', '：'])})?\s*"
                rf"(?P<value>{SIZE_VALUES}){AFTER}"
                # "42码", "44サイズ": the size word after the number.
                rf"|{BEFORE}(?P<value_before>\d{{2}}(?:[.,]5)?)\s*(?:{sizes}){AFTER}",
                re.IGNORECASE,
            ),
            shoe_words_re=re.compile(
                "|".join(re.escape(normalize(w)) for w in dict.fromkeys(words("shoe_words")))
            ),
            name_re=re.compile(
                # The lead-in is case-insensitive ("Me llamo", "Je suis"); the name must be
                # capitalized, its particles not ("Jan de Vries", "Maria da Silva").
                rf"(?i:{_alternatives(words('name_intros'))})(?:\s+|(?<=[{UNSPACED}])\s*)"
                rf"(?P<value>{capitalised}"
                rf"(?:\s+(?:(?:{particles})\s+){{0,2}}{capitalised}){{0,2}})"
            ),
            # Scripts without capitals: the name is the run of its letters after the lead-in
            # (a Chinese name is two to four characters), or before a closing phrase.
            caseless_name_re=re.compile(
                rf"{BEFORE}(?:{_alternatives(words('name_intros'))})\s*[:：]?\s*"
                rf"(?P<value>{CAPLESS_NAME})"
                rf"|(?P<value_before>{CAPLESS_NAME}|{capitalised}(?:\s+{capitalised}){{0,2}})\s*"
                rf"(?:{_alternatives(words('name_outros') or ['(?!)'])})"
            ),
            # Arabic joins "and" to the next word: "أحمد والرمز البريدي".
            name_stops_re=re.compile(
                rf"(?:^|\s|(?<=[{UNSPACED}]))(?:{_alternatives(stops)}){AFTER}|\sو(?=ال)"
            ),
            not_order_prefixes=frozenset(
                [*words("not_order_prefixes"), *NEUTRAL_NOT_ORDER_PREFIXES]
            ),
            not_names=frozenset(normalize(w) for w in words("not_names")),
            unspaced_not_names=tuple(w for w in words("not_names") if UNSPACED_RE.search(w)),
            size_hints=tuple(words("size_hints")),
            colours=colours,
            colour_re=phrase_re(list(colours)),
            colour_phrases=vocab.pairs("entities", "colour_phrases"),
            type_synonyms={
                normalize(word): kind
                for kind, variants in vocab.groups("entities", "product_types").items()
                for word in variants
            },
            stop_words=frozenset(words("stop_words")),
        )


@functools.lru_cache(maxsize=8)
def words_for(vocab: Vocabulary | None = None) -> EntityWords:
    return EntityWords.from_vocab(vocab or load_vocab())


# Letters before a number that make it something other than an order id ("ZIP10117"); the
# privacy redactor (llm/pii.py) uses the same set.
NOT_ORDER_PREFIXES = words_for().not_order_prefixes


@dataclass
class Catalogue:
    """What the entity extractor needs to know about the store's products."""

    products: list[tuple[str, str, str | None]] = field(default_factory=list)  # id, name, type
    sizes: set[str] = field(default_factory=set)
    # Every option value of the catalogue, whatever its key: normalized value -> (key, value as
    # the store spells it). "walnut" -> ("material", "Walnut"), "black" -> ("Color", "Black").
    option_values: dict[str, tuple[str, str]] = field(default_factory=dict)
    # reference_key of a product's or variant's id -> the product id ("SKU 45012300140337")
    product_keys: dict[str, str] = field(default_factory=dict)
    _option_re: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _name_re: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def without_names(self, text: str) -> str:
        """The text without the words of the store's product names: "tem o Trail Runner preto
        no 41?" is Portuguese, but its two English words tip a language detector to English."""
        if self._name_re is None:
            words = {w for _, name, _ in self.products for w in re.findall(r"\w{3,}", name or "")}
            if not words:
                return text
            self._name_re = re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(words)) + r")(?!\w)",
                re.IGNORECASE,
            )
        return " ".join(self._name_re.sub(" ", text).split())

    def option_pattern(self) -> re.Pattern[str] | None:
        """One pattern for every option value, longest first (built once per catalogue)."""
        if self._option_re is None and self.option_values:
            values = sorted(self.option_values, key=lambda v: (-len(v), v))
            self._option_re = re.compile(
                r"(?<!\w)(" + "|".join(re.escape(v) for v in values) + r")(?!\w)"
            )
        return self._option_re

    @classmethod
    def from_products(cls, products: list[Any]) -> Catalogue:
        items = [(p.id, p.name, p.type) for p in products]
        sizes = {
            str(v.options["size"]).upper()
            for p in products
            for v in p.variants
            if "size" in v.options
        }
        values: dict[str, tuple[str, str]] = {}
        keys: dict[str, str] = {}
        for p in products:
            keys.setdefault(reference_key(p.id), p.id)
            for v in p.variants:
                keys.setdefault(reference_key(v.id), p.id)
                for key, value in v.options.items():
                    norm = normalize(str(value))
                    # Bare numbers and one or two letters (42, M, XL) are sizes or quantities
                    # as often as options: the size rules read those.
                    if len(norm) > 2 and not norm.replace(".", "").isdigit():
                        values.setdefault(norm, (key, str(value)))
        return cls(items, sizes, values, keys)


def _option_match(
    text_norm: str, catalogue: Catalogue, colour: str | None, product: str | None
) -> dict[str, str]:
    """Option values of the catalogue named in the text, by the store's own keys and spelling.
    A colour word in any language ("negro") counts as the catalogue's colour ("Black")."""
    found: dict[str, str] = {}
    pattern = catalogue.option_pattern()
    named = [m.group(1) for m in pattern.finditer(text_norm)] if pattern else []
    if colour and normalize(colour) in catalogue.option_values:
        named.append(normalize(colour))
    # "Is the oak desk available in walnut?": a word of the product's own name ("Oak Writing
    # Desk", "Merino Wool Sweater") names the product, not an option of it.
    name_words = set(re.findall(r"[\w-]+", normalize(product or "")))
    for norm in named:
        if set(norm.split()) <= name_words:
            continue
        key, value = catalogue.option_values[norm]
        found.setdefault(key, value)
    return found


def _product_by_id(text: str, catalogue: Catalogue) -> dict[str, str] | None:
    """A product named by its id or a variant's ("item 8412300126171", "SKU P2002-3")."""
    if not catalogue.product_keys:
        return None
    for token in re.findall(r"[\w-]*\d[\w-]*", text):
        product_id = catalogue.product_keys.get(reference_key(token))
        if product_id is not None and len(reference_key(token)) >= 4:
            name = next((n for pid, n, _ in catalogue.products if pid == product_id), product_id)
            return {"product_id": product_id, "product": name}
    return None


def _product_match(
    text_norm: str, catalogue: Catalogue, words: EntityWords
) -> dict[str, str] | None:
    tokens = set(re.findall(r"[\w-]+", text_norm))
    best: tuple[float, str, str] | None = None
    for pid, name, _type in catalogue.products:
        name_tokens = [
            t for t in re.findall(r"[\w-]+", normalize(name)) if t not in words.stop_words
        ]
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
        if token in words.type_synonyms:
            return {"product_type": words.type_synonyms[token]}
    return None


def _clean_reference(raw: str) -> str:
    """A reference as typed, without the '#' and spaces: 'sg-10234' -> 'SG-10234'."""
    return "".join(raw.replace("#", " ").split()).upper()


def _typed_order_id(text: str, words: EntityWords) -> str | None:
    """The order reference a customer clearly typed ('SG-10234', '#90817', 'order 771245'),
    as typed: the understand node swaps it for the store's own spelling when the store has it."""
    for match in ORDER_ID_RE.finditer(text):
        if match.group(1).lower() not in words.not_order_prefixes:
            return _clean_reference(match.group(0))
    for match in SPACED_ORDER_ID_RE.finditer(text):
        letters = match.group(1) or match.group(2)
        if letters.lower() not in words.not_order_prefixes:
            return _clean_reference(f"{letters}-{match.group(3)}")
    plain = HASH_NUMBER_RE.search(text) or words.order_word_number_re.search(text)
    return plain.group("value") if plain else None


def order_references(
    text: str, *, bare_numbers: bool = False, vocab: Vocabulary | None = None
) -> list[str]:
    """Spellings in `text` that may name an order, most likely first, to try against the store.

    A bare number ("1042") counts only when we asked for an order number (`bare_numbers`) or
    the message talks about an order: elsewhere it is a quantity, a zip or a phone number."""
    words = words_for(vocab)
    scrubbed = EMAIL_RE.sub(" ", text)
    refs: list[str] = []
    typed = _typed_order_id(scrubbed, words)
    if typed:
        refs.append(typed)
    mentions_order = bool(words.order_word_re.search(scrubbed))
    for match in LOOSE_REF_RE.finditer(scrubbed):
        hashed, letters, digits = match.groups()
        if letters:
            if letters.strip(" _-").lower() in words.not_order_prefixes:
                continue
            refs.append(_clean_reference(letters + digits))
        if hashed or bare_numbers or mentions_order:
            refs.append(_clean_reference(digits))
    return list(dict.fromkeys(refs))[:MAX_REFERENCES]


def _name(text: str, words: EntityWords) -> str | None:
    """The customer's name where they say it: "my name is Ana Ruiz", "我叫王芳"."""
    cased = words.name_re.search(text)
    if cased:
        candidate = cased.group("value").strip()
        first = normalize(candidate.split()[0])
        if first not in words.stop_words | set(words.colours) | words.not_names:
            return candidate
    caseless = words.caseless_name_re.search(text)
    if caseless is None:
        return None
    candidate = caseless.group("value") or caseless.group("value_before")
    # "我叫王芳邮编100000": a run of letters goes on into the next words; it ends where a
    # postcode, order or stop word starts.
    stop = words.name_stops_re.search(candidate)
    candidate = (candidate[: stop.start()] if stop else candidate).strip()
    parts = normalize(candidate).split()
    if (
        len(candidate) < 2
        or any(p in words.not_names for p in parts)
        or any(w in candidate for w in words.unspaced_not_names)
    ):
        return None
    return candidate


# A message this short whose one number is 35-48 asks about a shoe size.
SIZE_QUESTION_WORDS = 5


def _only_a_size(text: str, found: dict[str, Any]) -> bool:
    numbers = re.findall(r"\d+", text)
    return (
        len(numbers) == 1
        and word_count(text) <= SIZE_QUESTION_WORDS
        and not {"order_id", "zip", "amount", "quantity", "email"} & set(found)
    )


def extract_entities(
    text: str, catalogue: Catalogue | None = None, vocab: Vocabulary | None = None
) -> dict[str, Any]:
    """Entities found in one message. Keys: order_id, email, name, zip, product, product_id,
    product_type, size, colour, options (catalogue option values by key), quantity, amount."""
    words = words_for(vocab)
    found: dict[str, Any] = {}
    email = EMAIL_RE.search(text)
    if email:
        found["email"] = email.group(0).lower().rstrip(".")
    scrubbed = EMAIL_RE.sub(" ", text)

    order_id = _typed_order_id(scrubbed, words)
    if order_id:
        found["order_id"] = order_id
        scrubbed = ORDER_ID_RE.sub(" ", HASH_NUMBER_RE.sub(" ", scrubbed))
        scrubbed = SPACED_ORDER_ID_RE.sub(" ", scrubbed)

    zip_match = (
        words.zip_keyword_re.search(scrubbed)
        or words.postcode_re.search(scrubbed)
        # A reply that is only a postcode may be typed in lower case: "1016gv".
        or (word_count(scrubbed) <= 2 and words.postcode_re.search(scrubbed.upper()))
        or FIVE_DIGITS_RE.search(scrubbed)
    )
    if zip_match and not (found.get("order_id", "").endswith(zip_match.group("value"))):
        found["zip"] = zip_match.group("value").lstrip("〒 ")

    name = _name(text, words)
    if name:
        found["name"] = name
        scrubbed = scrubbed.replace(name, " ")  # "Giulia Rossi" is no red

    amount = AMOUNT_RE.search(scrubbed)
    if amount:
        found["amount"] = float((amount.group(1) or amount.group(2)).replace(",", "."))
    qty = words.quantity_re.search(scrubbed)
    if qty:
        found["quantity"] = int(qty.group("value") or qty.group("value_x"))

    size = words.size_keyword_re.search(scrubbed)
    shoe_size = SHOE_SIZE_RE.search(scrubbed)
    if size:
        found["size"] = (
            (size.group("value") or size.group("value_before")).upper().replace(",", ".")
        )
    elif shoe_size and (
        words.shoe_words_re.search(normalize(scrubbed)) or _only_a_size(scrubbed, found)
    ):
        # "en 42 noir" about sneakers: a bare 35-48 next to shoe words is a shoe size; so is
        # the one number of a short message about nothing else ("avete il 44?", "عندكم ٣٩؟").
        found["size"] = shoe_size.group(1)
    else:
        letter = LETTER_SIZE_RE.search(scrubbed)
        # A lone "M" is too often a word or an initial: a size only next to a size hint.
        if letter and (
            letter.group(1) != "M" or any(h in scrubbed.lower() for h in words.size_hints)
        ):
            found["size"] = letter.group(1)

    norm = normalize(scrubbed)
    for phrase, colour in words.colour_phrases.items():
        if phrase in norm:
            found["colour"] = colour
            break
    else:
        named = words.colour_re.search(norm)
        if named:
            found["colour"] = words.colours[named.group(1)]
    if catalogue is not None:
        product = _product_by_id(scrubbed, catalogue) or _product_match(norm, catalogue, words)
        if product:
            found.update(product)
        options = _option_match(norm, catalogue, found.get("colour"), found.get("product"))
        if options:
            found["options"] = options
    return found
