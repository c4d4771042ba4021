"""The identity token (supportgraph/domain/identity.py): what a shop's website signs for its
logged-in customer, and every way a token fails to prove one."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from supportgraph.domain.identity import (
    IdentityTokenExpired,
    IdentityTokenInvalid,
    IdentityTokensDisabled,
    make_token,
    verify_token,
)

SECRET = "shop-secret-0123456789"
NOW = 1_795_000_000.0


def test_a_token_signed_with_the_secret_proves_its_customer_until_it_expires() -> None:
    token = make_token(SECRET, "C1001", ttl_seconds=600, now=NOW)
    proof = verify_token(token, SECRET, NOW + 599)
    assert (proof.customer_id, proof.expires) == ("C1001", int(NOW) + 600)


def test_the_signature_is_the_documented_recipe_so_a_shop_can_compute_it_itself() -> None:
    expires = int(NOW) + 300
    # What docs/identity.md tells a shop to compute, written out independently.
    signature = hmac.new(SECRET.encode(), f"C1002:{expires}".encode(), hashlib.sha256).hexdigest()
    token = {"customer_id": "C1002", "expires": expires, "signature": signature}
    assert verify_token(token, SECRET, NOW).customer_id == "C1002"
    # Upper-case hex (some libraries' default) is the same signature.
    token["signature"] = signature.upper()
    assert verify_token(token, SECRET, NOW).customer_id == "C1002"


def test_a_token_signed_with_another_secret_is_not_valid() -> None:
    token = make_token("someone-elses-secret", "C1001", now=NOW)
    with pytest.raises(IdentityTokenInvalid, match=r"^identity token not valid$"):
        verify_token(token, SECRET, NOW)


def test_changing_the_customer_or_the_expiry_breaks_the_signature() -> None:
    token = make_token(SECRET, "C1001", now=NOW)
    with pytest.raises(IdentityTokenInvalid):
        verify_token({**token, "customer_id": "C1002"}, SECRET, NOW)
    with pytest.raises(IdentityTokenInvalid):
        verify_token({**token, "expires": token["expires"] + 86_400}, SECRET, NOW)


def test_an_expired_token_says_so_but_only_when_its_signature_is_right() -> None:
    token = make_token(SECRET, "C1001", ttl_seconds=60, now=NOW)
    with pytest.raises(IdentityTokenExpired, match=r"^identity token expired$"):
        verify_token(token, SECRET, NOW + 60)
    # A forged token is "not valid" whatever its expiry: expiry is no oracle for forgers.
    forged = {**token, "signature": "0" * 64}
    with pytest.raises(IdentityTokenInvalid):
        verify_token(forged, SECRET, NOW + 60)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "C1001:1795000600:abc",
        {},
        {"customer_id": "C1001", "expires": 1795000600},
        {"customer_id": "", "expires": 1795000600, "signature": "ab"},
        {"customer_id": "C1001", "expires": True, "signature": "ab"},
        {"customer_id": "C1001", "expires": "soon", "signature": "ab"},
        {"customer_id": "C1001", "expires": 1795000600, "signature": "é" * 64},
    ],
)
def test_a_malformed_token_is_not_valid_rather_than_an_error(token: object) -> None:
    with pytest.raises(IdentityTokenInvalid):
        verify_token(token, SECRET, NOW)


def test_without_a_secret_tokens_are_refused_and_the_message_says_how_to_turn_them_on() -> None:
    token = make_token(SECRET, "C1001", now=NOW)
    for secret in (None, ""):
        with pytest.raises(IdentityTokensDisabled, match="SUPPORTGRAPH_IDENTITY_SECRET"):
            verify_token(token, secret, NOW)
