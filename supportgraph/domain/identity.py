"""Identity rules, pure: the token a shop's website vouches for a logged-in customer with, and
which tools count against the limit on failed identity attempts (docs/identity.md).

The token works like Intercom's and Chatwoot's identity verification. The shop's server,
which shares a secret with supportgraph, computes

    signature = hex(HMAC_SHA256(secret, f"{customer_id}:{expires}"))

with `expires` a unix timestamp, and hands `{"customer_id", "expires", "signature"}` to the
chat widget, which sends it when it creates the thread. Only the holder of the secret can
produce a signature that matches, so the thread may start verified as that customer.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Tools that look a customer up from what the customer typed. Each miss is a failed identity
# attempt; after `Settings.identity_attempts` of them the thread makes no such call again.
IDENTITY_LOOKUPS = frozenset({"find_customer_by_email", "find_customer_by_name_zip"})

DEFAULT_TTL_SECONDS = 3600
MAX_CUSTOMER_ID_CHARS = 200

# One wording for every token that does not prove a customer (malformed, wrong signature,
# unknown customer): a caller learns nothing about which customer ids exist.
NOT_VALID = "identity token not valid"
EXPIRED = "identity token expired"
DISABLED = (
    "identity tokens are not enabled on this server: set SUPPORTGRAPH_IDENTITY_SECRET "
    "(the secret your website signs tokens with)"
)


class IdentityTokenError(ValueError):
    """A token a thread cannot start verified with; the message says why, for the caller."""


class IdentityTokensDisabled(IdentityTokenError):
    """No identity secret is configured: tokens are refused, whatever they hold."""

    def __init__(self) -> None:
        super().__init__(DISABLED)


class IdentityTokenInvalid(IdentityTokenError):
    """Malformed, signed with another secret, altered, or naming no customer of the store."""

    def __init__(self) -> None:
        super().__init__(NOT_VALID)


class IdentityTokenExpired(IdentityTokenError):
    """Correctly signed, but its `expires` moment has passed."""

    def __init__(self) -> None:
        super().__init__(EXPIRED)


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a valid token proves: the shop vouches for this customer until `expires`."""

    customer_id: str
    expires: int


def sign(secret: str, customer_id: str, expires: int) -> str:
    """The token's signature: hex HMAC-SHA256 of "customer_id:expires" under the secret."""
    message = f"{customer_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def make_token(
    secret: str, customer_id: str, ttl_seconds: int = DEFAULT_TTL_SECONDS, now: float | None = None
) -> dict[str, Any]:
    """A token for `customer_id`, valid `ttl_seconds` from `now` (what the shop's server
    computes; here for tests and the `supportgraph identity-token` command)."""
    expires = int((time.time() if now is None else now) + ttl_seconds)
    return {
        "customer_id": customer_id,
        "expires": expires,
        "signature": sign(secret, customer_id, expires),
    }


def _expires_of(value: Any) -> int | None:
    if isinstance(value, bool):  # a JSON true is not a timestamp
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def verify_token(token: Any, secret: str | None, now: float) -> VerifiedIdentity:
    """The identity a token proves at `now`, or the IdentityTokenError saying why not.

    The signature is checked before the expiry, so only a correctly signed token is ever
    called expired; signatures are compared in constant time (hmac.compare_digest)."""
    if not secret:
        raise IdentityTokensDisabled()
    if not isinstance(token, Mapping):
        raise IdentityTokenInvalid()
    customer_id = token.get("customer_id")
    expires = _expires_of(token.get("expires"))
    signature = token.get("signature")
    if (
        not isinstance(customer_id, str)
        or not 0 < len(customer_id) <= MAX_CUSTOMER_ID_CHARS
        or expires is None
        or not isinstance(signature, str)
    ):
        raise IdentityTokenInvalid()
    expected = sign(secret, customer_id, expires)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise IdentityTokenInvalid()
    if expires <= now:
        raise IdentityTokenExpired()
    return VerifiedIdentity(customer_id, expires)
