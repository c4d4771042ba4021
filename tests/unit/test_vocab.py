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
from supportgraph.languages import LANGUAGES_DIR
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
REPLY_FILES = [LANGUAGES_DIR / code / "vocab.yaml" for code in SHIPPED.reply_languages]
NINE = ["en", "es", "fr", "de", "it", "pt", "zh", "ja", "ar"]


def raw(path: Path) -> dict[str, Any]:
    return parse(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_shipped_languages_are_the_ones_the_demo_brand_replies_in() -> None:
    # Every language with a folder is served; the rest are detected only.
    assert set(SHIPPED.reply_languages) >= set(NINE)
    assert set(SHIPPED.reply_languages) == {
        p.parent.name for p in LANGUAGES_DIR.glob("*/vocab.yaml")
    }
    assert set(SHIPPED.codes) >= {"nl", "ru", "pl", "tr", "sv", "ko", "hi"}
    assert Settings().reply_languages == SHIPPED.reply_languages


@pytest.mark.parametrize("path", REPLY_FILES, ids=lambda p: p.parent.name)
def test_every_reply_language_file_has_the_same_sections_and_keys(path: Path) -> None:
    reference = raw(LANGUAGES_DIR / "en" / "vocab.yaml")
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
    data = raw(LANGUAGES_DIR / "es" / "vocab.yaml")
    del data["confirmation"]["no_words"]
    broken = tmp_path / "es.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(VocabError, match=r"es\.yaml: missing confirmation\.no_words"):
        read_language(broken)


def test_a_wrong_type_or_an_unknown_key_is_refused(tmp_path: Path) -> None:
    data = raw(LANGUAGES_DIR / "fr" / "vocab.yaml")
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
    assert detector.short_lexicon["super"][:2] == ("fr", "de")  # fr (rank 30) before de (40)
    assert detector.detect("super").language == "fr"
    # ... unless the conversation is in the other: "Sì" in Italian, "ja" in Dutch.
    assert detector.detect("super", previous="de").language == "de"
    assert detector.detect("Sì", previous="it").language == "it"
    assert detector.detect("ja", previous="nl").language == "nl"


def test_a_short_first_message_is_read_by_the_shops_own_words() -> None:
    # Two words are too few for the detector; "stivali" and "laarzen" are product words.
    detector = LanguageDetector()
    assert detector.detect("Stivali neri?").language == "it"
    assert detector.detect("zwarte laarzen").language == "nl"
    # Mid-conversation a product word does not switch: "boots" in a Spanish chat.
    assert detector.detect("boots?", previous="es").language == "es"


def empty_language(name: str, rank: int) -> dict[str, Any]:
    """A complete language file with every list empty: what a new language starts from."""

    def empty(kind: str) -> Any:
        return "" if kind == TEXT else {} if kind in (GROUPS, SCORES, PAIRS) else []

    data: dict[str, Any] = {"name": name, "rank": rank}
    for section, keys in SCHEMA.items():
        data[section] = {key: empty(kind) for key, kind in keys.items()}
    return data


@pytest.fixture
def with_swedish(tmp_path: Path) -> Vocabulary:
    """The shipped files plus Swedish as a reply language: a folder of data, no code."""
    vocab_dir = tmp_path / "vocab"
    shutil.copytree(VOCAB_DIR, vocab_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for path in LANGUAGES_DIR.glob("*/vocab.yaml"):
        (vocab_dir / path.parent.name).mkdir()
        shutil.copy(path, vocab_dir / path.parent.name / "vocab.yaml")
    swedish = empty_language("Swedish", 205)
    swedish["detection"]["short_words"] = ["hej", "hejsan", "tjena"]
    swedish["detection"]["called"] = ["swedish", "svenska"]
    swedish["confirmation"].update(yes_words=["visst", "självklart"], no_words=["nej", "vänta"])
    swedish["confirmation"]["fillers"] = ["tack"]
    swedish["escalation"].update(legal_terms=["stämning"], human_terms=["handläggare"])
    swedish["requests"]["kinds"]["cancel"] = ["avbeställa"]
    swedish["sentiment"]["valence"] = {"usel": -2.5}
    swedish["entities"].update(order_words=["beställning"], colours={"red": ["röd", "röda"]})
    (vocab_dir / "sv").mkdir()
    (vocab_dir / "sv" / "vocab.yaml").write_text(
        yaml.safe_dump(swedish, allow_unicode=True), encoding="utf-8"
    )
    return load_vocab(vocab_dir)


def test_a_language_added_as_a_data_file_is_a_reply_language(with_swedish: Vocabulary) -> None:
    assert with_swedish.reply_languages == [*SHIPPED.reply_languages, "sv"]
    assert with_swedish.names["sv"] == "Swedish"
    assert "sv" not in SHIPPED.reply_languages  # the shipped files are untouched


def test_the_nlu_understands_the_added_language(with_swedish: Vocabulary) -> None:
    v = with_swedish
    # Each assertion fails with the shipped vocabulary: the words come from the new file only.
    assert confirmation("Visst, tack", vocab=v) is True
    assert confirmation("Visst, tack") is None
    assert legal_term("Jag skickar en stämning", vocab=v) == "stamning"  # normalized
    assert legal_term("Jag skickar en stämning") is None
    assert asks_for_human("Kan jag få prata med en handläggare", vocab=v)
    assert not asks_for_human("Kan jag få prata med en handläggare")
    assert kinds("Jag vill avbeställa", vocab=v) == {"cancel"}
    assert kinds("Jag vill avbeställa") == set()
    assert score_sentiment("Usel service", "sv", vocab=v) < -0.5
    assert score_sentiment("Usel service", "sv") == 0.0
    assert preferred_language("Svara på svenska", vocab=v) == "sv"
    assert preferred_language("Svara på svenska") is None
    found = extract_entities("Min beställning 552301, den röda", vocab=v)
    assert (found["order_id"], found["colour"]) == ("552301", "red")
    assert extract_entities("Min beställning 552301, den röda") == {}


def test_the_detector_knows_the_added_language(with_swedish: Vocabulary) -> None:
    detector = LanguageDetector(vocab=with_swedish)
    guess = detector.detect("Tjena")
    assert (guess.language, guess.method) == ("sv", "lexicon")
    assert "tjena" not in LanguageDetector().short_lexicon  # the word is the new file's
    # A close call between Swedish and another language now goes to Swedish.
    assert "sv" in detector.preferred


def test_a_brand_replies_in_the_languages_it_has_templates_for(
    tmp_path: Path, with_swedish: Vocabulary
) -> None:
    templates = tmp_path / "brand" / "templates"
    templates.mkdir(parents=True)
    for code in ("en", "sv", "ru"):
        (templates / f"{code}.json").write_text(json.dumps({"greeting": "…"}), encoding="utf-8")
    # ru has templates but only detection words: no replies in it until its lists exist. The
    # served languages' templates come from their folders.
    assert brand_reply_languages(templates, with_swedish) == [*SHIPPED.reply_languages, "sv"]
    assert brand_reply_languages(templates) == SHIPPED.reply_languages
