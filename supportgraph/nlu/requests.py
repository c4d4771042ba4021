"""What exactly a customer asks for inside an intent (cancel vs change address...), and
addresses and countries written in a message. Multilingual keyword rules: small, explainable."""

from __future__ import annotations

import re

from supportgraph.nlu.text import normalize

KINDS: dict[str, list[str]] = {
    "cancel": [
        "cancel",
        "cancelar",
        "anular",
        "annuler",
        "annulation",
        "stornieren",
        "storno",
        "stornierung",
        "don't want it anymore",
        "ya no lo quiero",
    ],
    "address": [
        "address",
        "direccion",
        "adresse",
        "anschrift",
        "ship it to",
        "deliver it to",
        "enviar a",
        "envoyer a",
        "liefern an",
        "lieferadresse",
    ],
    "payment_method": [
        "payment method",
        "pay with",
        "pay by",
        "paypal",
        "klarna",
        "card instead",
        "metodo de pago",
        "pagar con",
        "tarjeta",
        "moyen de paiement",
        "payer avec",
        "payer par",
        "carte",
        "zahlungsart",
        "zahlungsmethode",
        "bezahlen mit",
        "karte",
    ],
    "item": [
        "size",
        "colour",
        "color",
        "talla",
        "taille",
        "couleur",
        "grosse",
        "farbe",
        "different size",
        "another size",
        "otra talla",
        "autre taille",
        "andere grosse",
    ],
    "exchange": [
        "exchange",
        "swap",
        "cambiar por",
        "cambio",
        "cambiarlo",
        "echanger",
        "echange",
        "umtauschen",
        "umtausch",
        "tauschen",
    ],
    "return": [
        "return",
        "send back",
        "devolver",
        "devolucion",
        "retourner",
        "renvoyer",
        "retour",
        "zuruckschicken",
        "zurucksenden",
        "retoure",
        "zuruckgeben",
    ],
    "refund_status": [
        "refund status",
        "where is my refund",
        "my refund",
        "mi reembolso",
        "mon remboursement",
        "meine erstattung",
        "rückerstattung",
        "ruckerstattung",
    ],
    "retry_payment": [
        "failed",
        "ha fallado",
        "fallo el pago",
        "a echoue",
        "declined",
        "didn't go through",
        "did not go through",
        "retry",
        "try again",
        "rechazado",
        "rechazada",
        "fallido",
        "fallo",
        "reintentar",
        "refuse",
        "echoue",
        "reessayer",
        "abgelehnt",
        "fehlgeschlagen",
        "nicht geklappt",
        "erneut versuchen",
        "payment status",
        "estado del pago",
        "statut du paiement",
        "zahlungsstatus",
    ],
    "store_credit": [
        "store credit",
        "credit",
        "credito",
        "saldo",
        "avoir",
        "bon d'achat",
        "guthaben",
        "gutschein",
    ],
    "restock": [
        "notify me",
        "let me know when",
        "tell me when",
        "back in stock",
        "avisame",
        "avisadme",
        "cuando vuelva",
        "prevenez-moi",
        "previens-moi",
        "quand il sera",
        "benachrichtigen",
        "bescheid",
        "wieder da",
        "wieder verfugbar",
    ],
    "password": ["password", "contrasena", "mot de passe", "passwort", "kennwort"],
    "preferences": [
        "contact me by",
        "contacted by",
        "contactenme por",
        "contacten por",
        "contactez-moi par",
        "contacte par",
        "kontaktieren sie mich",
        "kontaktiert werden",
        "contact preference",
        "preferencia de contacto",
        "preference de contact",
        "kontaktpraferenz",
        "contact me via",
        "prefer email",
        "prefer sms",
        "prefer phone",
        "contactarme por",
        "contactez-moi par",
        "kontaktieren sie mich per",
        "language to",
        "idioma",
        "langue",
        "sprache",
    ],
    "estimate": [
        "when would",
        "when will it arrive",
        "how long",
        "delivery time",
        "cuanto tarda",
        "cuando llega",
        "combien de temps",
        "delai",
        "quand vais-je",
        "wie lange",
        "wann kommt",
        "lieferzeit",
        "arrive by",
        "deliver to",
        "envio a",
        "livraison en",
        "livraison vers",
        "lieferung nach",
        "versand nach",
    ],
}
_KIND_RES = {
    kind: re.compile(r"(?<!\w)(" + "|".join(re.escape(normalize(w)) for w in words) + r")(?!\w)")
    for kind, words in KINDS.items()
}

COUNTRIES = {
    "DE": "germany alemania allemagne deutschland",
    "FR": "france francia frankreich",
    "ES": "spain espana espagne spanien",
    "AT": "austria autriche osterreich",
    "IT": "italy italia italie italien",
    "NL": "netherlands holland paises bajos pays-bas niederlande",
    "BE": "belgium belgica belgique belgien",
    "PT": "portugal",
    "GB": "uk england united kingdom reino unido royaume-uni grossbritannien",
    "CH": "switzerland suiza suisse schweiz",
    "US": "usa united states estados unidos etats-unis",
    "CA": "canada kanada",
    "JP": "japan japon",
    "AU": "australia australie australien",
}
_COUNTRY_WORDS = {w: code for code, words in COUNTRIES.items() for w in words.split()}
_COUNTRY_PHRASES = {
    p: code
    for p, code in [
        ("united kingdom", "GB"),
        ("united states", "US"),
        ("reino unido", "GB"),
        ("estados unidos", "US"),
        ("paises bajos", "NL"),
    ]
}

CHANNELS = {
    "email": ["email", "e-mail", "correo", "courriel", "mail"],
    "sms": ["sms", "text message", "mensaje de texto", "texto"],
    "phone": ["phone", "call", "telefono", "llamada", "telephone", "telefon", "anruf"],
}
LANGUAGE_WORDS = {
    "en": ["english", "ingles", "anglais", "englisch"],
    "es": ["spanish", "espanol", "espagnol", "spanisch"],
    "fr": ["french", "frances", "francais", "franzosisch"],
    "de": ["german", "aleman", "allemand", "deutsch"],
}


def kinds(text: str) -> set[str]:
    norm = normalize(text)
    return {kind for kind, pattern in _KIND_RES.items() if pattern.search(norm)}


def country(text: str) -> str | None:
    norm = normalize(text)
    for phrase, code in _COUNTRY_PHRASES.items():
        if phrase in norm:
            return code
    for word in re.findall(r"[\w-]+", norm):
        if word in _COUNTRY_WORDS:
            return _COUNTRY_WORDS[word]
    return None


def channel(text: str) -> str | None:
    norm = normalize(text)
    for name, words in CHANNELS.items():
        if any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", norm) for w in words):
            return name
    return None


def preferred_language(text: str) -> str | None:
    norm = normalize(text)
    for code, words in LANGUAGE_WORDS.items():
        if any(w in norm.split() for w in words):
            return code
    return None


ZIP_CITY_RE = re.compile(
    r",?\s*(?P<zip>\d{4,5})\s+(?P<city>[A-ZÀ-Ý][\w'’-]+(?:[ -][A-ZÀ-Ý][\w'’-]+)*)"
    r"(?:\s*,\s*(?P<country>[A-Za-zÀ-ÿ -]+?))?\s*(?:[.!?]|$|\s)"
)
LEAD_WORDS = set(
    """please bitte por favor new nueva nuevo nouvelle neue address adresse direccion anschrift
    an to a nach pour vers la el the is es est ist my mi ma mon meine mein change cambiar
    changer andern liefern deliver send enviar envoyer it lo le es""".split()
)


def parse_address(text: str) -> dict[str, str] | None:
    """An address written as 'street and number, zip city' inside a sentence, or None."""
    match = ZIP_CITY_RE.search(text)
    if not match:
        return None
    before = text[: match.start()].rsplit(":", 1)[-1]
    tokens = before.replace(",", " ").split()
    # "12 rue de Rivoli" / "221B Baker Street": the house number starts the street line.
    first_number = next((i for i, t in enumerate(tokens) if t[0].isdigit()), None)
    if first_number is not None and first_number < len(tokens) - 1:
        tokens = tokens[first_number:]
    else:  # "Calle Mayor 5": drop lead-in words before the street name
        while tokens and (normalize(tokens[0]) in LEAD_WORDS or tokens[0][0].islower()):
            tokens = tokens[1:]
    if not tokens or not any(ch.isdigit() for ch in "".join(tokens)):
        return None
    result = {
        "line1": " ".join(tokens).strip(" ."),
        "zip": match.group("zip"),
        "city": match.group("city").strip(),
    }
    if match.group("country"):
        code = country(match.group("country"))
        if code:
            result["country"] = code
    return result
