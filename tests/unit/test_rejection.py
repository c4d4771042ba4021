"""Out-of-scope rejection: a background class plus calibrated per-language thresholds."""

from __future__ import annotations

import json

import pytest

from supportgraph.nlu.intents import REJECTION_FILE, IntentClassifier, Rejection, data_hash


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return IntentClassifier.load_or_train(None)


def test_the_thresholds_were_calibrated_on_the_bundled_training_data() -> None:
    calibrated = json.loads(REJECTION_FILE.read_text(encoding="utf-8"))
    assert calibrated["data_hash"] == data_hash(), (
        "the training data changed since the rejection thresholds were calibrated: "
        "run `python -m supportgraph.nlu.calibration`"
    )
    assert set(calibrated["thresholds"]) >= {"en", "es", "fr", "de"}
    assert all(0.0 <= t <= 0.8 for t in calibrated["thresholds"].values())


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("can you book me a hotel in lisbon for friday", "en"),
        ("turn off the kitchen lights", "en"),
        ("what's the exchange rate from euro to yen today", "en"),
        ("¿me recomiendas una receta de lentejas?", "es"),
        ("quel temps fera-t-il demain à Lyon ?", "fr"),
        ("Wie kündige ich meinen Handyvertrag?", "de"),
    ],
)
def test_everyday_requests_a_shop_does_not_handle_are_rejected(
    classifier: IntentClassifier, text: str, language: str
) -> None:
    assert classifier.classify(text, language).intent == "out_of_scope"


@pytest.mark.parametrize(
    ("text", "language", "intent"),
    [
        ("hey where's my package, ordered last week", "en", "order_tracking"),
        ("i want my money back for the jacket", "en", "returns_refunds"),
        ("pls cancel my order", "en", "order_modification"),
        ("¿aceptan pago con paypal?", "es", "payment"),
        ("je voudrais changer mon mot de passe", "fr", "account"),
        ("Wie lange dauert der Versand nach Österreich?", "de", "shipping"),
    ],
)
def test_shop_requests_are_kept(
    classifier: IntentClassifier, text: str, language: str, intent: str
) -> None:
    assert classifier.classify(text, language).intent == intent


def test_a_guess_below_its_languages_threshold_reads_as_out_of_scope(
    classifier: IntentClassifier,
) -> None:
    text = "hey where's my package, ordered last week"
    guess = classifier.classify(text, "en")
    strict = IntentClassifier(classifier.pipeline, Rejection({"en": guess.confidence + 0.01}))
    rejected = strict.classify(text, "en")
    assert rejected.intent == "out_of_scope"
    # The model's own reading stays in the ranking (what the bot may offer instead).
    assert rejected.ranking[0][0] == guess.intent
    # Another language keeps its own (default) threshold.
    assert strict.classify(text, "fr").intent == guess.intent


def test_the_fast_reader_gives_scikit_learns_probabilities(classifier: IntentClassifier) -> None:
    import numpy as np

    from supportgraph.nlu.fraud import FraudModel
    from supportgraph.nlu.intents import prepare

    fraud = FraudModel.load_or_train(None)
    assert fraud is not None
    for text in ["where is my order SG-10002?", "someone used my card", "hola"]:
        prepared = prepare(text)
        expected = classifier.pipeline.predict_proba([prepared])[0]
        assert np.allclose(classifier.reader.probabilities(prepared), expected)
        fraud_expected = fraud.pipeline.predict_proba([prepared])[0][1]
        assert abs(fraud.probability(text) - fraud_expected) < 1e-9


def test_every_training_example_ships_its_e5_vector() -> None:
    # A fresh data dir fits the full intent model without embedding 15k examples (~4 minutes
    # of e5); changing the examples without `python -m supportgraph.nlu.embedded` fails here.
    # The fraud reports too: the full fraud model reads e5 as well.
    from supportgraph.embedding.keyed import text_key
    from supportgraph.nlu.embedded import MODEL_ID, shipped, training_texts

    known = shipped().known
    texts = training_texts()
    assert any("fraud" in t.lower() for t in texts)  # the reports are among them
    missing = [t[:40] for t in texts if text_key(t, MODEL_ID) not in known]
    assert missing == []


@pytest.mark.parametrize(
    ("text", "language", "intent"),
    [
        ("مرحبا، أين طلبي؟", "ar", "order_tracking"),
        ("Ciao! Vorrei restituire le scarpe", "it", "returns_refunds"),
        ("你好，我想取消订单", "zh", "order_modification"),
        ("Hallo, goedemorgen!", "nl", "greeting"),
    ],
)
def test_a_greeting_that_opens_a_request_has_the_requests_intent(
    classifier: IntentClassifier, text: str, language: str, intent: str
) -> None:
    assert classifier.classify(text, language).intent == intent
