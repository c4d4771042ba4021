"""What exactly a customer asks for inside an intent (cancel vs change address...), and
addresses and countries written in a message. Multilingual keyword rules: small, explainable."""

from __future__ import annotations

import re

from supportgraph.domain.text import normalize

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


# Where an address ends: "zip City[, country]" (most of Europe), "City, ST 12345" (US) or
# "City POSTCODE" (UK). The street line is read backwards from there.
ZIP_CITY_RE = re.compile(
    r",?\s*(?P<zip>\d{4,5})\s+(?P<city>[A-ZÀ-Ý][\w'’-]+(?:[ -][A-ZÀ-Ý][\w'’-]+)*)"
    r"(?:\s*,\s*(?P<country>[A-Za-zÀ-ÿ -]+?))?\s*(?:[.!?]|$|\s)"
)
US_CITY_RE = re.compile(
    r",\s*(?P<city>[A-Z][\w'’.-]+(?:[ -][A-Z][\w'’.-]+)*)\s*,\s*(?P<state>[A-Z]{2})"
    r"\s+(?P<zip>\d{5}(?:-\d{4})?)(?![\w-])"
)
UK_CITY_RE = re.compile(
    r",\s*(?P<city>[A-Z][\w'’-]+(?:[ -][A-Z][\w'’-]+)*)"
    r"\s+(?P<zip>[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})(?![\w-])"
)
ADDRESS_ENDS = ((US_CITY_RE, "US"), (UK_CITY_RE, "GB"), (ZIP_CITY_RE, None))
# Words that lead up to an address ("please change my address to ..."): never part of it.
LEAD_WORDS = set(
    """please bitte por favor new nueva nuevo nouvelle neue address adresse direccion anschrift
    an to a nach pour vers la el the is es est ist my mi ma mon meine mein change cambiar
    changer andern liefern deliver send enviar envoyer it lo le es now ahora maintenant jetzt
    hello hi hallo hola bonjour lieferadresse domicilio i je yo ich sie wir we nous vous
    yes ja si oui ok okay thanks danke gracias merci here hier aqui voici""".split()
)
# Small words inside street names ("Calle de la Paz", "Unter den Linden", "rue des Lilas").
STREET_PARTICLES = set(
    """de del la las los el y du des le l' d' der die das den dem am an im auf zum zur zu von
    van of""".split()
)
# Street types written in lower case after the house number ("12 rue de la Paix").
STREET_TYPES = set(
    """rue avenue av bd boulevard place allee chemin impasse quai cours route square passage
    calle avenida paseo plaza camino carrer ronda via street st road rd lane ln drive dr way
    strasse str weg gasse platz allee ring""".split()
)


def _bare(token: str) -> str:
    return token.strip(",.;:()\"'«»")


def _is_number(token: str) -> bool:
    bare = _bare(token)
    return bool(bare) and bare[0].isdigit()


def _is_name(token: str, *, after_number: bool) -> bool:
    """A word of a street name: capitalised, a particle, or (after the house number) a street
    type written in lower case."""
    bare = _bare(token)
    if not bare or bare[0].isdigit():
        return False
    norm = normalize(bare)
    if bare[0].isupper():  # "Am Hof", "An der Alster": a capitalised particle starts a name
        return norm not in LEAD_WORDS or norm in STREET_PARTICLES
    if norm in STREET_PARTICLES or norm.startswith(("l'", "d'")):
        return True
    return after_number and norm in STREET_TYPES


def street_line(before: str) -> str | None:
    """The street line at the end of `before` (the text up to the zip/city), or None.

    'Rosenweg 77' / 'Calle de la Paz, 4' (name, then house number) and '12 rue de la Paix' /
    '221B Baker Street' (house number first) are read backwards from the end, stopping at the
    first word that cannot be part of a street name ('to', 'a', 'ist', 'pour', 'Adresse')."""
    before = before.rsplit(":", 1)[-1]
    spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", before)]
    while spans and not _bare(spans[-1][2]):
        spans.pop()
    if not spans:
        return None
    if _is_number(spans[-1][2]):  # name, then house number
        first = len(spans) - 1
        while first > 0 and _is_name(spans[first - 1][2], after_number=False):
            first -= 1
    else:  # house number, then name
        first = len(spans)
        while first > 0 and _is_name(spans[first - 1][2], after_number=True):
            first -= 1
        if first == 0 or not _is_number(spans[first - 1][2]):
            return None
        first -= 1
    street = spans[first:]
    # "a la Calle Mayor 5": a particle in lower case does not start a street line.
    while street and street[0][2][0].islower():
        street = street[1:]
    if not any(_bare(t)[:1].isalpha() for _, _, t in street):
        return None
    return before[street[0][0] : street[-1][1]].strip(" ,.;") or None


def parse_address(text: str) -> dict[str, str] | None:
    """An address written inside a sentence ('please update my address to Rosenweg 77, 10117
    Berlin'), or None: the street line only, never the words that lead up to it."""
    for pattern, default_country in ADDRESS_ENDS:
        for match in pattern.finditer(text):
            line1 = street_line(text[: match.start()])
            if line1 is None:
                continue
            result = {
                "line1": line1,
                "zip": match.group("zip"),
                "city": match.group("city").strip(),
            }
            groups = match.groupdict()
            if groups.get("state"):
                result["state"] = groups["state"]
            code = country(groups["country"]) if groups.get("country") else default_country
            if code:
                result["country"] = code
            return result
    return None
