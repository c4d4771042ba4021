"""The word lists are data, one file per language: a language is added without touching Python,
and a file that lacks a list is refused with a message that names the file and the list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from supportgraph.config import Settings
from supportgraph.nlu.entities import extract_entities
from supportgraph.nlu.language import LanguageDetector
from supportgraph.nlu.lexicon import asks_for_human, confirmation, legal_term
from supportgraph.nlu.requests import kinds, preferred_language
from supportgraph.nlu.sentiment import score_sentiment
from supportgraph.nlu.vocab import (
    GROUPS,
    PAIRS,
    SCHEMA,
    SCORES,
    TEXT,
    VOCAB_DIR,
    VocabError,
    Vocabulary,
    brand_reply_languages,
    load_vocab,
    parse,
    read_language,
)

SHIPPED = load_vocab()
REPLY_FILES = [VOCAB_DIR / f"{code}.yaml" for code in SHIPPED.reply_languages]


def raw(path: Path) -> dict[str, Any]:
    return parse(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_shipped_languages_are_the_ones_the_demo_brand_replies_in() -> None:
    assert SHIPPED.reply_languages == ["en", "es", "fr", "de"]
    assert set(SHIPPED.codes) >= {"pt", "it", "nl", "ar", "zh", "ja", "ru", "pl", "tr"}
    assert Settings().reply_languages == ["en", "es", "fr", "de"]


@pytest.mark.parametrize("path", REPLY_FILES, ids=lambda p: p.name)
def test_every_reply_language_file_has_the_same_sections_and_keys(path: Path) -> None:
    reference = raw(VOCAB_DIR / "en.yaml")
    data = raw(path)
    for section in SCHEMA:
        assert set(data[section]) == set(reference[section]), f"{path.name}: {section}"
    # Groups name the same things in every language (a request kind with no words in German
    # would silently never match there).
    for section, keys in SCHEMA.items():
        for key, kind in keys.items():
            if kind == GROUPS:
                missing = set(reference[section][key]) - set(data[section][key])
                assert not missing, f"{path.name}: {section}.{key} lacks {sorted(missing)}"


def test_a_reply_language_without_a_list_is_refused_with_the_file_and_the_list(
    tmp_path: Path,
) -> None:
    data = raw(VOCAB_DIR / "es.yaml")
    del data["confirmation"]["no_words"]
    broken = tmp_path / "es.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(VocabError, match=r"es\.yaml: missing confirmation\.no_words"):
        read_language(broken)


def test_a_wrong_type_or_an_unknown_key_is_refused(tmp_path: Path) -> None:
    data = raw(VOCAB_DIR / "fr.yaml")
    data["sentiment"]["valence"]["nul"] = "very bad"
    data["entities"]["colurs"] = {}
    path = tmp_path / "fr.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(VocabError, match=r"fr\.yaml: sentiment\.valence must be"):
        read_language(path)
    del data["sentiment"]["valence"]["nul"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(VocabError, match=r"unknown key\(s\) \['colurs'\] in entities"):
        read_language(path)


def test_yes_and_no_are_words_not_booleans() -> None:
    # Plain YAML reads `no` as False; the vocab loader keeps it a word.
    assert "no" in SHIPPED.words("confirmation", "no_words")
    assert parse("[no, yes, on]") == ["no", "yes", "on"]
    assert confirmation("no") is False
    assert confirmation("yes") is True


def test_a_word_two_languages_share_goes_to_the_lower_rank() -> None:
    detector = LanguageDetector()
    assert detector.short_lexicon["super"] == "fr"  # fr (rank 30) before de (rank 40)


def empty_language(name: str, rank: int) -> dict[str, Any]:
    """A complete language file with every list empty: what a new language starts from."""

    def empty(kind: str) -> Any:
        return "" if kind == TEXT else {} if kind in (GROUPS, SCORES, PAIRS) else []

    data: dict[str, Any] = {"name": name, "rank": rank}
    for section, keys in SCHEMA.items():
        data[section] = {key: empty(kind) for key, kind in keys.items()}
    return data


@pytest.fixture
def with_italian(tmp_path: Path) -> Vocabulary:
    """The shipped files plus Italian as a reply language: a data file, no code."""
    vocab_dir = tmp_path / "vocab"
    shutil.copytree(VOCAB_DIR, vocab_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    italian = empty_language("Italian", 60)
    italian["detection"]["short_words"] = ["ciao", "grazie", "salve", "buongiorno"]
    italian["detection"]["called"] = ["italian", "italiano", "italien", "italienisch"]
    italian["confirmation"].update(
        yes_words=["si", "certo", "va", "bene"], no_words=["no", "aspetta"]
    )
    italian["confirmation"]["fillers"] = ["grazie"]
    italian["escalation"].update(legal_terms=["querela"], human_terms=["operatore"])
    italian["requests"]["kinds"]["cancel"] = ["annullare"]
    italian["sentiment"]["valence"] = {"pessimo": -2.5}
    italian["entities"].update(order_words=["ordine"], colours={"red": ["rosso", "rossa"]})
    (vocab_dir / "it.yaml").write_text(
        yaml.safe_dump(italian, allow_unicode=True), encoding="utf-8"
    )
    return load_vocab(vocab_dir)


def test_a_language_added_as_a_data_file_is_a_reply_language(with_italian: Vocabulary) -> None:
    assert with_italian.reply_languages == ["en", "es", "fr", "de", "it"]
    assert with_italian.names["it"] == "Italian"
    assert "it" not in SHIPPED.reply_languages  # the shipped files are untouched


def test_the_nlu_understands_the_added_language(with_italian: Vocabulary) -> None:
    v = with_italian
    # Each assertion fails with the shipped vocabulary: the words come from the new file only.
    assert confirmation("Sì, grazie", vocab=v) is True
    assert confirmation("Sì, grazie") is None
    assert legal_term("Faccio una querela", vocab=v) == "querela"
    assert legal_term("Faccio una querela") is None
    assert asks_for_human("Voglio parlare con un operatore", vocab=v)
    assert not asks_for_human("Voglio parlare con un operatore")
    assert kinds("Vorrei annullare l'ordine", vocab=v) == {"cancel"}
    assert kinds("Vorrei annullare l'ordine") == set()
    assert score_sentiment("Servizio pessimo", "it", vocab=v) < -0.5
    assert score_sentiment("Servizio pessimo", "it") == 0.0
    assert preferred_language("Rispondimi in italiano", vocab=v) == "it"
    assert preferred_language("Rispondimi in italiano") is None
    found = extract_entities("Il mio ordine 552301, quello rosso", vocab=v)
    assert (found["order_id"], found["colour"]) == ("552301", "red")
    assert extract_entities("Il mio ordine 552301, quello rosso") == {}


def test_the_detector_knows_the_added_language(with_italian: Vocabulary) -> None:
    detector = LanguageDetector(vocab=with_italian)
    guess = detector.detect("Salve")
    assert (guess.language, guess.method) == ("it", "lexicon")
    assert "salve" not in LanguageDetector().short_lexicon  # the word is the new file's
    # A close call between Italian and another language now goes to Italian.
    assert "it" in detector.preferred


def test_a_brand_replies_in_the_languages_it_has_templates_for(
    tmp_path: Path, with_italian: Vocabulary
) -> None:
    templates = tmp_path / "brand" / "templates"
    templates.mkdir(parents=True)
    for code in ("en", "it", "pt"):
        (templates / f"{code}.json").write_text(json.dumps({"greeting": "…"}), encoding="utf-8")
    # pt has templates but only detection words: no replies in it until its lists exist.
    assert brand_reply_languages(templates, with_italian) == ["en", "it"]
    assert brand_reply_languages(templates) == ["en"]
