"""How a store value reads in the reply language, and in the customer's locale.

The shop's data names colours, product types, option values, shipping and payment methods and
statuses in its own words (the demo shop: English). A reply says them in the customer's
language, as data, so a new language folder needs no code here:

1. the language's template `value.<kind>.<value>` (`value.method.express`,
   `value.material.leather`; `value.product_type.sneakers` = "Turnschuhe" in German), which
   a brand may override;
2. for colours and product types, a value the word lists know by a group's name or by any
   language's display form (a German shop's "Schwarz" is black too; a shade such as
   "cognac" is not, and stays): a word of the reply language itself other than the
   catalogue's name ("Schwarz" to a German customer) is kept as the shop wrote it, anything
   else is said by the first word of the language's group (`entities.colours: {black: [nero,
   ...]}` -> "nero"; languages/en/vocab.yaml says so);
3. else the value as the shop wrote it (its own option values: "Walnut", "Slim fit").

Money and dates follow the customer's country (the order's destination, else the verified
customer's address): en-GB "20 November 2026", de-AT "€ 89,90" (templates.format_money).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from supportgraph.domain.schema import Order
from supportgraph.domain.text import normalize
from supportgraph.nlu.vocab import load_vocab
from supportgraph.nodes.flows.base import FlowContext
from supportgraph.templates import Templates, format_date, format_money, language_name

# Kinds whose values the word lists know (entities.<section>): display form = first word.
VOCAB_SECTIONS = {"colour": "colours", "product_type": "product_types"}
# "Visa ending 4242", "Mastercard •••• 4444": a brand (or the kind's name) and the last digits.
CARD_ENDING = re.compile(
    r"^(?P<head>.+?)\s+(?:ending(?:\s+in)?|[•*·.x]{2,})\s*(?P<digits>\d{2,4})$", re.IGNORECASE
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def value_key(value: str) -> str:
    """The template-key form of a value: "Organic Cotton" -> "organic_cotton"."""
    return "_".join(str(value).lower().split())


@functools.cache
def _groups() -> tuple[dict[str, dict[str, dict[str, str]]], dict[str, dict[str, str]]]:
    """Per language and kind, word -> group (normalized); per kind, the group names and
    each reply language's display form (first word) -> group."""
    own: dict[str, dict[str, dict[str, str]]] = {}
    known: dict[str, dict[str, str]] = {kind: {} for kind in VOCAB_SECTIONS}
    for language in load_vocab().languages:
        for kind, section in VOCAB_SECTIONS.items():
            groups: dict[str, list[str]] = language.get("entities", section)
            words = own.setdefault(language.code, {}).setdefault(kind, {})
            for name, items in groups.items():
                known[kind].setdefault(normalize(str(name)), str(name))
                for item in items:
                    words.setdefault(normalize(item), str(name))
                if items:
                    known[kind].setdefault(normalize(items[0]), str(name))
    return own, known


@functools.cache
def _first_words() -> dict[str, dict[str, dict[str, str]]]:
    """language -> kind -> group -> its display form (the group's first word)."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for language in load_vocab().languages:
        for kind, section in VOCAB_SECTIONS.items():
            groups: dict[str, list[str]] = language.get("entities", section)
            out.setdefault(language.code, {})[kind] = {
                str(name): items[0] for name, items in groups.items() if items
            }
    return out


def _own_template(templates: Templates, language: str, key: str) -> str | None:
    """The language's own wording for a key (no English fallback: the shop's word is better)."""
    text = templates.by_language.get(language, {}).get(key)
    return text if text else None


def say_value(templates: Templates, language: str, kind: str, value: Any) -> str:
    """`value` (a store value of `kind`: colour, product_type, material, method, payment,
    payment_status, channel, option) as the reply language says it; see the module."""
    raw = str(value)
    if not raw.strip():
        return raw
    if kind not in VOCAB_SECTIONS:
        return _own_template(templates, language, f"value.{kind}.{value_key(raw)}") or raw
    own, known = _groups()
    written = normalize(raw)
    group = known[kind].get(written)
    if group is None:
        return raw  # a value of the shop's own: as written
    text = _own_template(templates, language, f"value.{kind}.{group}")
    if text is not None:
        return text
    if written != normalize(group) and own.get(language, {}).get(kind, {}).get(written) == group:
        return raw  # the shop's own word in the reply language ("Schwarz" to a German)
    return _first_words().get(language, {}).get(kind, {}).get(group, raw)


def is_colour(value: Any) -> bool:
    return normalize(str(value)) in _groups()[1]["colour"]


def option_value(templates: Templates, language: str, value: Any, key: str | None = None) -> str:
    """One catalogue option value: a colour by the word lists (whatever the option is
    called), else `value.<option>.<value>` (value.material.leather), else as written."""
    if is_colour(value):
        return say_value(templates, language, "colour", value)
    if key:
        return say_value(templates, language, value_key(key), value)
    return str(value)


def option_name(templates: Templates, language: str, key: str) -> str:
    """An option's name ("material" -> "materiale"), else as the shop wrote it."""
    return say_value(templates, language, "option", key)


def variant_label(templates: Templates, language: str, options: Mapping[str, Any]) -> str:
    """'41 / nero / pelle': the option values of a variant (or of a request), in order."""
    return " / ".join(option_value(templates, language, v, k) for k, v in options.items())


def value_list(templates: Templates, language: str, kind: str, values: Iterable[Any]) -> str:
    return ", ".join(say_value(templates, language, kind, v) for v in values)


def payment_method(templates: Templates, language: str, kind: str, label: str | None) -> str:
    """A saved payment method by its kind in the reply language and what identifies it:
    "Visa che termina con 4242" (a card brand stays), "carta regalo che termina con 1234",
    "PayPal (anna@example.com)". The rest of the shop's label ("Klarna (pay in 30 days)")
    is the shop's prose, not said; a kind the language has no word for keeps the label."""
    key = f"value.payment.{value_key(kind)}"
    name = _own_template(templates, language, key)
    if name is None:
        return label or kind
    if not label:
        return name
    english = templates.by_language.get("en", {}).get(key, "")
    generic = {normalize(english), normalize(kind.replace("_", " "))}
    ending = CARD_ENDING.match(label.strip())
    if ending is not None:
        head = ending["head"].strip()
        method = name if normalize(head) in generic else head
        return templates.render(
            "value.payment.ending", language, method=method, digits=ending["digits"]
        )
    account = EMAIL.search(label)
    return f"{name} ({account.group(0)})" if account else name


def preferences(templates: Templates, language: str, prefs: Mapping[str, Any]) -> str:
    """Updated preferences: the language by its name, the contact channel by its word."""
    said = [
        language_name(str(v), language)
        if k == "language"
        else say_value(templates, language, "channel", v)
        for k, v in prefs.items()
    ]
    return ", ".join(said)


async def customer_country(ctx: FlowContext, order: Order | None = None) -> str | None:
    """The country whose locale variant money and dates follow: the order's destination,
    else the verified customer's address; None for an unknown customer."""
    if order is not None and order.shipping_address and order.shipping_address.country:
        return order.shipping_address.country
    if not ctx.customer_id:
        return None
    customer = await ctx.deps.store.get_customer(ctx.customer_id)
    if customer is None or customer.address is None:
        return None
    return customer.address.country or None


def _country(ctx: FlowContext, country: str | None) -> str | None:
    """The customer's country, else the brand's home country for the reply language."""
    return country or ctx.deps.settings.home_countries.get(ctx.language)


def money(
    ctx: FlowContext, amount: float | None, country: str | None, currency: str | None = None
) -> str:
    currency = currency or ctx.deps.currency
    return format_money(amount, ctx.language, currency, country=_country(ctx, country))


def date(ctx: FlowContext, value: Any, country: str | None) -> str:
    return format_date(value, ctx.language, country=_country(ctx, country))
