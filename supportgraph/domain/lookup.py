"""How records are looked up: the spellings of an order id, a customer's lookup keys.

Every backend finds records by these, so "sg10234" finds order SG-10234 and "García"
finds a customer stored as "Garcia" whatever the backend.
"""

from __future__ import annotations

from supportgraph.domain.schema import Customer
from supportgraph.domain.text import normalize


def canonical_order_ids(raw: str) -> list[str]:
    """Spellings a customer may use for one order id: 'sg10234', '#SG-10234', 'SG 10234'."""
    text = raw.strip().lstrip("#").upper()
    candidates = [text, text.replace(" ", "-")]
    letters = "".join(c for c in text if c.isalpha())
    digits = "".join(c for c in text if c.isdigit())
    if letters and digits:
        candidates += [f"{letters}-{digits}", f"{letters}{digits}"]
    elif digits:
        candidates.append(digits)
    return list(dict.fromkeys(candidates))


def email_key(email: str | None) -> str | None:
    """The form an email is stored and searched in (None: none, and never a match)."""
    return (email or "").lower() or None


def name_key(name: str) -> str:
    return normalize(name)


def zip_of(customer: Customer) -> str | None:
    """The zip a customer is found by: their own, else their address's."""
    return customer.zip or (customer.address.zip if customer.address else None)
