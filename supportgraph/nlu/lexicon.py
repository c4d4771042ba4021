"""Small multilingual keyword lists: confirmations, refusals, legal/fraud terms."""

from __future__ import annotations

import re

from supportgraph.domain.text import normalize

YES = set(
    [
        "yes",
        "y",
        "yeah",
        "yep",
        "yup",
        "sure",
        "ok",
        "okay",
        "okey",
        "confirm",
        "confirmed",
        "correct",
        "right",
        "please",
        "do",
        "go",
        "ahead",
        "absolutely",
        "definitely",
        "si",
        "claro",
        "vale",
        "confirmo",
        "correcto",
        "de",
        "acuerdo",
        "adelante",
        "por",
        "supuesto",
        "perfecto",
        "oui",
        "ouais",
        "d'accord",
        "daccord",
        "je",
        "confirme",
        "confirme",
        "exact",
        "exactement",
        "bien",
        "sur",
        "allez-y",
        "volontiers",
        "ja",
        "jawohl",
        "genau",
        "klar",
        "bestatige",
        "bestatigt",
        "richtig",
        "einverstanden",
        "gerne",
        "sicher",
        "natürlich",
        "naturlich",
        "👍",
        "✅",
    ]
)
YES_PHRASES = [
    "go ahead",
    "do it",
    "please do",
    "de acuerdo",
    "bien sur",
    "allez y",
    "mach das",
    "ja bitte",
    "si por favor",
    "oui merci",
    "yes please",
    "that's right",
    "thats right",
    "sounds good",
]
NO = set(
    [
        "no",
        "nope",
        "nah",
        "non",
        "nein",
        "cancel",
        "stop",
        "dont",
        "don't",
        "never",
        "nunca",
        "jamais",
        "nicht",
        "keine",
        "lieber",
        "not",
        "wait",
        "espera",
        "attendez",
        "warte",
    ]
)

# Legal threats and fraud: always a critical handoff, in every supported language.
LEGAL_TERMS = [
    # en
    "legal action",
    "lawsuit",
    "sue you",
    "sue your",
    "i will sue",
    "lawyer",
    "attorney",
    "court",
    "fraud",
    "fraudulent",
    "stolen",
    "identity theft",
    "chargeback",
    "police",
    "consumer protection",
    # es
    "demanda",
    "demandar",
    "denunciar",
    "denuncia",
    "abogado",
    "abogada",
    "tribunal",
    "fraude",
    "robado",
    "robada",
    "robo",
    "estafa",
    "policia",
    "accion legal",
    # fr
    "avocat",
    "avocate",
    "poursuite",
    "poursuivre en justice",
    "plainte",
    "tribunal",
    "fraude",
    "vole",
    "volee",
    "escroquerie",
    "arnaque",
    "police",
    "action en justice",
    # de
    "anwalt",
    "anwaltin",
    "rechtsanwalt",
    "klage",
    "verklagen",
    "gericht",
    "betrug",
    "gestohlen",
    "diebstahl",
    "polizei",
    "anzeige",
    "rechtliche schritte",
    # pt / it / nl
    "advogado",
    "processo",
    "avvocato",
    "denuncia",
    "advocaat",
    "rechtszaak",
    "fraude",
]

HUMAN_TERMS = [
    "human",
    "real person",
    "agent",
    "operator",
    "representative",
    "someone real",
    "talk to a person",
    "speak to a person",
    "manager",
    "supervisor",
    "humano",
    "persona real",
    "agente",
    "operador",
    "hablar con alguien",
    "encargado",
    "humain",
    "vraie personne",
    "conseiller",
    "conseillere",
    "un agent",
    "operateur",
    "parler a quelqu'un",
    "responsable",
    "mensch",
    "echte person",
    "mitarbeiter",
    "mitarbeiterin",
    "berater",
    "menschen",
    "kundenberater",
    "vorgesetzten",
]


def _phrase_re(terms: list[str]) -> re.Pattern[str]:
    alternatives = sorted({normalize(t) for t in terms}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(a) for a in alternatives) + r")(?!\w)")


LEGAL_RE = _phrase_re(LEGAL_TERMS)
HUMAN_RE = _phrase_re(HUMAN_TERMS)


def legal_term(text: str) -> str | None:
    match = LEGAL_RE.search(normalize(text))
    return match.group(1) if match else None


def asks_for_human(text: str) -> bool:
    return HUMAN_RE.search(normalize(text)) is not None


def confirmation(text: str) -> bool | None:
    """True for a clear yes, False for a clear no, None for anything else."""
    norm = normalize(text).strip(" .!¡¿?")
    if not norm:
        return None
    tokens = re.findall(r"[\w']+|👍|✅", norm)
    if any(p in norm for p in YES_PHRASES) and not any(t in NO for t in tokens):
        return True
    if (
        len(tokens) <= 4
        and tokens
        and all(
            t in YES
            or t
            in {
                "please",
                "thanks",
                "thank",
                "you",
                "merci",
                "gracias",
                "danke",
                "bitte",
                "por",
                "favor",
                "s'il",
                "vous",
                "plait",
                "it",
                "that",
                "is",
                "es",
                "c'est",
                "das",
                "ist",
                "do",
                "so",
            }
            for t in tokens
        )
        and any(t in YES for t in tokens)
    ):
        return True
    if tokens and (tokens[0] in NO or (len(tokens) <= 4 and any(t in NO for t in tokens))):
        return False
    return None
