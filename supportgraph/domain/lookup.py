"""How records are looked up: the key of a reference, a customer's lookup keys.

Every backend finds records by these, so "sg10234" finds order SG-10234, "w1234567" finds
"#W1234567" and "García" finds a customer stored as "Garcia" whatever the backend.
"""

from __future__ import annotations

import re

from supportgraph.domain.schema import Customer
from supportgraph.domain.text import UNSPACED, normalize

# A space next to a character of an unspaced script is no part of a name: "田中 花子" is "田中花子".
_UNSPACED_GAP = re.compile(rf"(?<=[{UNSPACED}])\s+|\s+(?=[{UNSPACED}])")

# Bumped whenever name_key, email_key or postcode_key changes what they return: a backend that
# stores the keys (SQLite) re-keys its customers once when it opens a file keyed by an older
# version, so a customer saved before the change is still found by the new key.
# 2: postcodes keyed by their letters and digits; names drop spaces next to CJK characters.
LOOKUP_KEYS_VERSION = 2


def reference_key(raw: str) -> str:
    """What names a record whatever its spelling: its letters and digits, upper case.

    '#W1234567', 'w 1234567', '# W-1234567' -> 'W1234567'; 'ORD-2024-000123' ->
    'ORD2024000123'. Backends index ids by this key and always answer with the id as the
    store spells it, so a customer's spelling never turns into another shape."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def email_key(email: str | None) -> str | None:
    """The form an email is stored and searched in (None: none, and never a match)."""
    return (email or "").lower() or None


def name_key(name: str) -> str:
    return _UNSPACED_GAP.sub("", normalize(name))


def postcode_key(raw: str | None) -> str | None:
    """A postcode as it is stored and searched: "1015 CJ", "1015cj" -> "1015CJ";
    "〒100-0001" -> "1000001"; "01310-100" -> "01310100"."""
    return reference_key(raw) or None if raw else None


def zip_of(customer: Customer) -> str | None:
    """The zip a customer is found by: their own, else their address's."""
    return customer.zip or (customer.address.zip if customer.address else None)
