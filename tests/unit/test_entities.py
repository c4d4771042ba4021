"""Entity extraction on messages as customers write them, in the four reply languages.

Fast (no agent, no model): each case is one message and the entities the flows act on. The
catalogue is a small hand-made one, so the tests do not depend on the demo store.
"""

from __future__ import annotations

from typing import Any

import pytest

from supportgraph.domain.text import plain_forms
from supportgraph.nlu.entities import Catalogue, extract_entities

CATALOGUE = Catalogue(
    products=[
        ("P1", "Trail Runner Sneakers", "sneakers"),
        ("P2", "Merino Wool Sweater", "sweater"),
        ("P3", "Chelsea Boots", "boots"),
    ],
    sizes={"S", "M", "L", "40", "41", "42"},
)


def entities(text: str) -> dict[str, Any]:
    return extract_entities(text, CATALOGUE)


@pytest.mark.parametrize(
    ("text", "order_id"),
    [
        ("Hi, any news on order SG-48213? It was supposed to arrive Monday.", "SG-48213"),
        ("Quick question about #90817, can I still change it?", "90817"),
        ("Order number: 771245 still not here", "771245"),
        ("Hola, mi pedido SG-30117 todavía no ha llegado", "SG-30117"),
        ("Quería saber el estado del pedido nº 556677", "556677"),
        ("Bonjour, où en est ma commande SG-62004 ?", "SG-62004"),
        ("Hallo, wo bleibt meine Bestellung Nr. 448812?", "448812"),
        # Two orders named: the first is the one the customer asks about.
        ("Tengo el pedido SG-10234 y el SG-20000", "SG-10234"),
    ],
)
def test_order_ids_in_every_language(text: str, order_id: str) -> None:
    assert entities(text)["order_id"] == order_id


@pytest.mark.parametrize(
    "text",
    [
        "PLZ10117",  # a German postcode written without a space
        "EU42 please",  # a shoe size
        "Call me at +34 612 345 678",  # a phone number
        "Where is my order? Call me on 0176 5550123",
    ],
)
def test_codes_and_phone_numbers_are_not_order_ids(text: str) -> None:
    assert "order_id" not in entities(text)


def test_emails_are_found_lowercased_without_the_final_full_stop() -> None:
    assert entities("my email is MAX.Power@Example.COM.")["email"] == "max.power@example.com"
    found = entities("You can reach me at lena.moreau+shop@example.org if that helps.")
    assert found["email"] == "lena.moreau+shop@example.org"
    # The address is not read as a name or an order id.
    assert set(found) == {"email"}


@pytest.mark.parametrize(
    ("text", "zip_code"),
    [
        ("zip code is 94107", "94107"),
        ("Mi código postal es 28013", "28013"),
        ("Je m'appelle Julien Petit et mon code postal est 69003", "69003"),
        ("Ich heiße Jonas Weber, PLZ: 80331", "80331"),
        ("Can you send it to 10115 Berlin?", "10115"),
        ("order SG-48213, zip 10117", "10117"),
    ],
)
def test_postcodes(text: str, zip_code: str) -> None:
    assert entities(text)["zip"] == zip_code


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Me llamo Carmen Ortega, mi correo es carmen.o@example.es", "Carmen Ortega"),
        ("Mi nombre es Lucía Fernández", "Lucía Fernández"),
        ("Soy Pablo y quiero cambiar la dirección", "Pablo"),
        ("Je m'appelle Julien Petit et mon code postal est 69003", "Julien Petit"),
        ("Mein Name ist Anna Schulz", "Anna Schulz"),
        ("Ich bin Lena", "Lena"),
    ],
)
def test_names_after_an_introduction(text: str, name: str) -> None:
    assert entities(text)["name"] == name


@pytest.mark.parametrize(
    "text",
    [
        "I'm Looking for a jacket",  # a capitalised verb, not a name
        "Me llamo juan",  # a name must be capitalised
        "Je suis très déçue",  # "je suis" followed by an adjective
    ],
)
def test_no_name_without_a_capitalised_name(text: str) -> None:
    assert "name" not in entities(text)


@pytest.mark.parametrize(
    ("text", "size", "colour"),
    [
        ("I'd like the Trail Runner Sneakers in size 41, black please", "41", "black"),
        ("Do you have the merino wool sweater in navy blue, size M?", "M", "navy"),
        ("¿Tenéis las zapatillas en talla 39 y color azul marino?", "39", "navy"),
        ("Je voudrais des baskets en 42 noir", "42", "black"),
        ("Est-ce que la veste existe en bleu marine, taille L ?", "L", "navy"),
        ("Haben Sie die Stiefel in Größe 40 in Braun?", "40", "brown"),
        ("Die Chelsea Boots in Schwarz, Größe 41", "41", "black"),
    ],
)
def test_sizes_and_colours(text: str, size: str, colour: str) -> None:
    found = entities(text)
    assert (found["size"], found["colour"]) == (size, colour)


def test_a_bare_number_is_a_shoe_size_only_next_to_shoe_words() -> None:
    assert entities("Je voudrais des baskets en 42 noir")["size"] == "42"
    assert "size" not in entities("The refund should be €54,90 not 45")


def test_a_lone_m_is_a_size_only_when_the_customer_says_size() -> None:
    assert entities("size M please")["size"] == "M"
    assert "size" not in entities("I am M")


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("je cherche un t-shirt blanc", "white"),
        ("une robe rouge", "red"),
        ("ein Kleid in Grün", "green"),
        ("un vestido verde", "green"),
        ("Quiero 3 unidades del jersey gris", "grey"),
    ],
)
def test_colour_words_map_to_the_catalogue_colour(text: str, colour: str) -> None:
    assert entities(text)["colour"] == colour


@pytest.mark.parametrize(
    ("text", "product_id"),
    [
        ("I'd like the Trail Runner Sneakers in size 41, black please", "P1"),
        ("Do you have the merino wool sweater in navy blue, size M?", "P2"),
        ("Can I order 2 pairs of the Chelsea boots?", "P3"),
        ("La Trail Runner en 40 por favor", "P1"),  # two words of the name are enough
    ],
)
def test_products_named_from_the_catalogue(text: str, product_id: str) -> None:
    assert entities(text)["product_id"] == product_id


@pytest.mark.parametrize(
    ("text", "product_type"),
    [
        ("¿Tenéis las zapatillas en talla 39 y color azul marino?", "sneakers"),
        ("Je voudrais des baskets en 42 noir", "sneakers"),
        ("Haben Sie die Stiefel in Größe 40 in Braun?", "boots"),
        ("Ich möchte 2 Stück von dem grauen Pullover", "sweater"),
        ("Est-ce que la veste existe en bleu marine, taille L ?", "jacket"),
        ("2x the tote bag please", "accessories"),
    ],
)
def test_product_types_in_every_language(text: str, product_type: str) -> None:
    found = entities(text)
    assert found["product_type"] == product_type
    assert "product_id" not in found  # a type word alone names no product


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("Can I order 2 pairs of the Chelsea boots?", 2),
        ("Quiero 3 unidades del jersey gris", 3),
        ("Ich möchte 2 Stück von dem grauen Pullover", 2),
        ("2x the tote bag please", 2),
    ],
)
def test_quantities(text: str, quantity: int) -> None:
    assert entities(text)["quantity"] == quantity


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("I paid $89.99 for it", 89.99),
        ("The refund should be €54,90 not 45", 54.9),
        ("Ich habe 120 EUR bezahlt", 120.0),
        ("J'ai payé 35,50 € pour le pull", 35.5),
    ],
)
def test_amounts_with_a_currency(text: str, amount: float) -> None:
    assert entities(text)["amount"] == amount


def test_a_message_without_entities_gives_none() -> None:
    assert entities("ok thanks") == {}
    # Without a catalogue there is nothing to match products against: no product, no type.
    assert extract_entities("une robe rouge") == {"colour": "red"}


def test_another_catalogues_products_and_options_are_found_by_its_own_ids_and_keys() -> None:
    from supportgraph.domain.schema import Product, Variant

    desk = Product(
        id="8412300126171",
        name="Halden Oak Writing Desk",
        variants=[
            Variant(id="45012300140337", options={"finish": "Walnut", "length": "48 in"}),
            Variant(id="45012300201486", options={"finish": "Matte Black", "length": "60 in"}),
        ],
    )
    catalogue = Catalogue.from_products([desk])
    by_sku = extract_entities("is SKU 45012300201486 still available?", catalogue)
    assert by_sku["product_id"] == "8412300126171"
    asked = extract_entities("is the oak desk available in matte black, 60 in?", catalogue)
    assert asked["product_id"] == "8412300126171"
    # The store's own keys and spelling; "oak" names the product, not an option of it.
    assert asked["options"] == {"finish": "Matte Black", "length": "60 in"}


@pytest.mark.parametrize(
    ("text", "name", "zip_code"),
    [
        ("Ik ben Jan de Vries, postcode 1015 CJ", "Jan de Vries", "1015 CJ"),
        ("Meu nome é João da Silva, CEP 01310-100", "João da Silva", "01310-100"),
        ("Mi chiamo Giulia Rossi, CAP 20121", "Giulia Rossi", "20121"),
        ("我叫王芳，邮编100000", "王芳", "100000"),
        ("我叫王芳邮编100000", "王芳", "100000"),
        ("田中花子と申します。〒100-0001", "田中花子", "100-0001"),
        ("اسمي أحمد علي والرمز البريدي ١٢٣٤٥", "أحمد علي", "12345"),
        ("My name is John Smith, SW1A 1AA", "John Smith", "SW1A 1AA"),
    ],
)
def test_names_and_postcodes_as_each_country_writes_them(
    text: str, name: str, zip_code: str
) -> None:
    found = extract_entities(plain_forms(text))
    assert (found.get("name"), found.get("zip")) == (name, zip_code)
    assert "colour" not in found  # "Rossi" is a name, not red


@pytest.mark.parametrize("text", ["我是新客户", "我是来问订单的", "call me on 555-1234"])
def test_no_name_or_postcode_where_there_is_none(text: str) -> None:
    found = extract_entities(text)
    assert "name" not in found and "zip" not in found
