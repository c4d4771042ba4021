"""Erasing a customer ("right to be forgotten") everywhere their data went, and reading
addresses out of sentences without the words around them."""

from __future__ import annotations

import pytest

from supportgraph.nlu.requests import parse_address

ADDRESSES = [
    (
        "en",
        "I want to change my default address to Rosenweg 77, 10117 Berlin",
        {"line1": "Rosenweg 77", "zip": "10117", "city": "Berlin"},
    ),
    (
        "en",
        "please update my address to 221B Baker Street, London NW1 6XE",
        {"line1": "221B Baker Street", "zip": "NW1 6XE", "city": "London", "country": "GB"},
    ),
    (
        "en",
        "My new address is 1600 Amsterdam Ave, New York, NY 10023",
        {
            "line1": "1600 Amsterdam Ave",
            "zip": "10023",
            "city": "New York",
            "state": "NY",
            "country": "US",
        },
    ),
    (
        "es",
        "Quiero cambiar mi dirección a Calle Mayor 5, 28013 Madrid",
        {"line1": "Calle Mayor 5", "zip": "28013", "city": "Madrid"},
    ),
    (
        "es",
        "Cambia la dirección del pedido SG-10005 a la Calle de la Paz, 4, 28010 Madrid, España",
        {"line1": "Calle de la Paz, 4", "zip": "28010", "city": "Madrid", "country": "ES"},
    ),
    (
        "fr",
        "Je voudrais changer mon adresse: 12 rue de la Paix, 75002 Paris",
        {"line1": "12 rue de la Paix", "zip": "75002", "city": "Paris"},
    ),
    (
        "fr",
        "Je voudrais changer l'adresse de mon compte pour 10 rue de la Roquette, 75011 Paris",
        {"line1": "10 rue de la Roquette", "zip": "75011", "city": "Paris"},
    ),
    (
        "de",
        "Meine neue Adresse ist Rosenweg 77, 10117 Berlin",
        {"line1": "Rosenweg 77", "zip": "10117", "city": "Berlin"},
    ),
    (
        "de",
        "Bitte liefern Sie an Unter den Linden 77, 10117 Berlin, Deutschland",
        {"line1": "Unter den Linden 77", "zip": "10117", "city": "Berlin", "country": "DE"},
    ),
]


@pytest.mark.parametrize(("lang", "text", "expected"), ADDRESSES)
def test_an_address_keeps_only_the_address(lang: str, text: str, expected: dict[str, str]) -> None:
    assert parse_address(text) == expected, lang


@pytest.mark.parametrize(
    "text", ["Where is my order SG-10002?", "Do you ship to 10115 Berlin?", "I live in Berlin"]
)
def test_no_street_no_address(text: str) -> None:
    assert parse_address(text) is None
