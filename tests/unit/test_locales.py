"""Locale settings as data (languages/<code>/locale.yaml): money and dates per language and
customer, a wrong file refused with its path and key, and the register a brand chooses."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from langgraph.runtime import Runtime

from supportgraph import locales
from supportgraph.backends.loader import load_store_file
from supportgraph.backends.memory import InMemoryStore
from supportgraph.config import DEMO_BRAND_DIR, Settings
from supportgraph.context import Deps
from supportgraph.domain.state import ConversationState
from supportgraph.languages import LANGUAGES_DIR
from supportgraph.nodes.respond import respond
from supportgraph.runtime.handoff_view import summary_view
from supportgraph.templates import (
    Templates,
    babel_locale,
    format_date,
    format_money,
    format_number,
    text_direction,
)

NINE = ["en", "es", "fr", "de", "it", "pt", "zh", "ja", "ar"]
MARCH_5 = dt.date(2024, 3, 5)


def plain(text: str) -> str:
    """Babel's no-break spaces and bidi marks as plain spaces / nothing, to compare."""
    return text.replace("\xa0", " ").replace("\u202f", " ").replace("\u200f", "")


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("de", "EUR", "1.234,56 €"),
        ("pt", "BRL", "R$ 1.234,56"),
        ("ja", "JPY", "¥1,235"),  # half-width yen, as Japanese shops write it (locale.yaml)
        ("en", "EUR", "€1,234.56"),
        ("es", "EUR", "1.234,56 €"),
        ("fr", "EUR", "1 234,56 €"),
        ("it", "EUR", "1.234,56 €"),
        ("zh", "EUR", "€1,234.56"),
        ("nl", "EUR", "€ 1.234,56"),
        ("ar", "EUR", "١٬٢٣٤٫٥٦ €"),  # Arabic-Indic digits and separators (ar_SA)
        ("ar", "SAR", "١٬٢٣٤٫٥٦ ر.س."),
    ],
)
def test_money_is_written_as_each_language_writes_it(
    language: str, currency: str, expected: str
) -> None:
    assert plain(format_money(1234.56, language, currency)) == expected


def test_dates_are_written_as_each_language_writes_them() -> None:
    written = {code: format_date(MARCH_5, code) for code in NINE}
    assert written == {
        "en": "March 5, 2024",
        "es": "5 de marzo de 2024",
        "fr": "5 mars 2024",
        "de": "5. März 2024",
        "it": "5 marzo 2024",
        "pt": "5 de março de 2024",
        "zh": "2024年3月5日",
        "ja": "2024年3月5日",
        "ar": "٥ مارس ٢٠٢٤",
    }
    assert format_date("2024-03-05T10:00:00Z", "de") == "5. März 2024"
    assert format_date(None, "de") == format_money(None, "de") == "-"


def test_the_variant_follows_the_customers_tag_then_country_then_the_default() -> None:
    assert babel_locale("en") == "en_US"
    assert babel_locale("en", country="GB") == "en_GB"
    assert babel_locale("en-GB") == "en_GB"
    assert babel_locale("fr-CA") == "fr_CA"
    assert babel_locale("es", country="MX") == "es_MX"
    assert babel_locale("es-ES", country="MX") == "es_ES"  # the tag the customer chose wins
    assert babel_locale("pt") == "pt_BR" and babel_locale("zh") == "zh_Hans_CN"
    assert babel_locale("de", country="US") == "de_DE"  # no variant for it: the default
    assert format_date(MARCH_5, "en", country="GB") == "5 March 2024"
    assert plain(format_money(1234.56, "de", country="CH")) == "EUR 1'234.56"
    # The Emirates and the Maghreb write 0-9 (CLDR); Saudi Arabia and Egypt Arabic-Indic.
    assert plain(format_money(1234.56, "ar", "EUR", country="AE")) == "1,234.56 €"
    assert plain(format_money(1234.56, "ar", "EUR", country="EG")) == "١٬٢٣٤٫٥٦ €"
    # A language without locale.yaml is written with babel's data for it, as before.
    assert plain(format_money(1234.56, "pl")) == "1 234,56 €"
    assert format_number(-0.72, "de") == "-0,72"


def test_direction_and_register_come_from_the_files() -> None:
    assert text_direction("ar") == "rtl"
    assert [text_direction(c) for c in NINE if c != "ar"] == ["ltr"] * 8
    assert text_direction("xx") == "ltr"
    settings = locales.load_all()
    assert set(NINE) | {"nl"} <= set(settings)
    assert {c: settings[c].register for c in ("es", "fr", "de", "it", "ja", "ar", "pt")} == {
        "es": "formal",
        "fr": "formal",
        "de": "formal",
        "it": "formal",
        "ja": "formal",
        "ar": "formal",
        "pt": "informal",
    }
    assert locales.register_for("pt", {"pt": "formal"}) == "formal"
    with pytest.raises(locales.LocaleError, match=r"pt/locale.yaml: registers: .*'tu'"):
        locales.register_for("pt", {"pt": "tu"})


def write_locale(tmp_path: Path, text: str, code: str = "pt") -> Path:
    folder = tmp_path / code
    folder.mkdir(exist_ok=True)
    path = folder / "locale.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (LANGUAGES_DIR / "pt" / "locale.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (("locale: pt_BR", "locale: pt_XX"), "locale", "babel knows no locale"),
        (("locale: pt_BR", "locale: es_ES"), "locale", "locale of 'es'"),
        (("direction: ltr", "direction: sideways"), "direction", "ltr or rtl"),
        (("digits: latn", "digits: roman"), "digits", "latn or native"),
        (("register: informal", "register: casual"), "register", "not one of registers"),
        (("pt_BR: [BR]", "pt_BR: Brazil"), "variants.pt_BR", "ISO country codes"),
        (("pt_BR: [BR]", "pt_BR: [BR]\n  pt_XX: [PT]"), "variants.pt_XX", "babel knows no"),
        (("digits: latn", "digits: latn\ncurrency: EUR"), "currency", "unknown key"),
        (("direction: ltr\n", ""), "direction", "missing"),
    ],
)
def test_a_wrong_locale_file_is_refused_naming_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], key: str, problem: str
) -> None:
    assert change[0] in GOOD
    path = write_locale(tmp_path, GOOD.replace(change[0], change[1], 1))
    shutil.copy(LANGUAGES_DIR / "pt" / "templates.formal.json", path.parent)
    with pytest.raises(locales.LocaleError) as refused:
        locales.parse(path)
    assert (refused.value.path, refused.value.key) == (path, key)
    assert str(refused.value).startswith(f"{path}: {key}: ") and problem in str(refused.value)


def test_a_register_without_its_overlay_file_is_refused(tmp_path: Path) -> None:
    path = write_locale(tmp_path, GOOD)  # no templates.formal.json next to it
    with pytest.raises(locales.LocaleError, match=r"registers.formal: no templates.formal.json"):
        locales.parse(path)


def test_every_shipped_locale_file_loads() -> None:
    for code, path in [(p.parent.name, p) for p in sorted(LANGUAGES_DIR.glob("*/locale.yaml"))]:
        assert locales.parse(path).code == code


def test_an_overlay_holds_only_the_languages_keys_with_their_placeholders() -> None:
    base = json.loads((LANGUAGES_DIR / "pt" / "templates.json").read_text(encoding="utf-8"))
    overlay = json.loads((LANGUAGES_DIR / "pt" / "templates.formal.json").read_text("utf-8"))
    fields = re.compile(r"{(\w+)}")
    for key, text in overlay.items():
        assert key in base and sorted(fields.findall(text)) == sorted(fields.findall(base[key]))
    # o senhor / a senhora: no "você", no informal "te" left in a key the overlay rewrites.
    formal = Templates.for_brand(DEMO_BRAND_DIR, register={"pt": "formal"})
    for key in overlay:
        assert not re.search(r"\b(você|te)\b", formal.render(key, "pt")), key
    informal = [k for k, v in base.items() if re.search(r"\b(você|te)\b", v)]
    assert informal and set(informal) <= set(overlay)


def test_the_shipped_templates_already_use_the_formal_address() -> None:
    """Italian Lei, Japanese です/ます and polite Arabic are how templates.json is written."""
    templates = Templates.for_brand(DEMO_BRAND_DIR)
    italian = " ".join(templates.by_language["it"].values())
    assert not re.search(r"\b(puoi|tuo|tua|tuoi|ti|vuoi|hai|sei|dimmi|scrivimi)\b", italian)
    assert re.search(r"aiutarLa|\bLe\b|\bSuo\b", italian)
    for key, text in templates.by_language["ja"].items():
        if key.startswith(("status.", "summary.")) or key in ("order_line", "kb_answer"):
            continue
        # No plain-form sentence endings (だ/である/だよ/してね) in any customer reply.
        assert not re.search(r"(だ|である|だよ|してね|じゃん)[。！？]", text), key
    arabic = " ".join(templates.by_language["ar"].values())
    assert "يُرجى" in arabic and "حضرتك" not in arabic  # polite MSA, no dialect honorific


async def test_the_pt_register_setting_changes_the_reply_wording() -> None:
    """Settings(registers={"pt": "formal"}) -> Deps -> the respond node's reply."""
    store = load_store_file(Settings().resolved_store_path())

    async def greeting(settings: Settings) -> str:
        deps = await Deps.from_settings(settings, InMemoryStore(store))
        state = ConversationState(
            thread_id="t1", turn=1, text="oi", intent="greeting", reply_language="pt"
        )
        update = await respond(state, Runtime(context=deps))
        return str(update["reply"])

    informal = await greeting(Settings())
    formal = await greeting(Settings(registers={"pt": "formal"}))
    assert "Como posso te ajudar?" in informal
    assert "o(a) senhor(a)" in formal and "te ajudar" not in formal
    with pytest.raises(locales.LocaleError, match="registers"):
        await greeting(Settings(registers={"pt": "tu"}))


def test_a_handoff_summary_is_written_in_the_agents_language() -> None:
    templates = Templates.for_brand(DEMO_BRAND_DIR)
    settings = Settings()
    summary = {
        "reason": "legal_or_fraud:chargeback+vip",
        "priority": "critical",
        "intent": "returns_refunds",
        "active_flow": None,
        "language": "ar",
        "sentiment": -0.72,
        "customer_id": None,
        "customer_segment": None,
        "slots": {"order_id": "SG-10002"},
        "last_tools": ["get_order_details"],
        "turn": 3,
    }
    german = summary_view(summary, templates, settings.reply_languages, "de")
    rows = {r["key"]: (r["label"], r["value"]) for r in german["rows"]}
    assert rows["reason"] == ("Grund", "Rechts- oder Betrugsbegriff: „chargeback“ · VIP-Kunde")
    assert rows["priority"] == ("Priorität", "kritisch")
    assert rows["intent"][1] == "Rücksendung und Erstattung"
    assert rows["language"] == ("Sprache des Kunden", "Arabisch")
    assert rows["details"][1] == "Bestellnummer: SG-10002"
    assert rows["sentiment"][1] == "negativ (-0,72)"
    assert german["customer_language"] == {
        "code": "ar",
        "name": "Arabisch",
        "own_name": "العربية",
        "dir": "rtl",
    }
    arabic = summary_view(summary, templates, settings.reply_languages, "ar")
    assert arabic["dir"] == "rtl" and arabic["title"] == "ملخص التحويل"
    assert summary_view(summary, templates, settings.reply_languages, "xx")["language"] == "en"
    assert {"en", "ar", "ja"} <= {lang["code"] for lang in german["languages"]}
    english = summary_view(summary, templates, settings.reply_languages, "en")
    for code in NINE:  # every language has its own summary wording
        view = summary_view(summary, templates, settings.reply_languages, code)
        assert view["language"] == code
        if code != "en":
            labels = [r["label"] for r in view["rows"]]
            assert not set(labels) & {r["label"] for r in english["rows"]} - {"Segment"}
