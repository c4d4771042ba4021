"""Sentiment in -1..1 from per-language lexicons (en, es, fr, de).

No offline multilingual sentiment model ships in a pip package (see shared/research), and
English-only VADER scores Spanish or German complaints as neutral. A lexicon with negation,
intensifiers, shouting and repeated punctuation is small, fast and explainable.
"""

from __future__ import annotations

import re

from supportgraph.domain.text import normalize

# word/phrase -> valence in -3..3. Stems end with '*'.
LEXICON_TEXT = {
    "en": """
furious -3; outraged -3; worst -3; disgusting -3; scam -3; pathetic -3; horrible -3;
unacceptable -3; ridiculous -2.5; terrible -2.5; awful -2.5; angry -2.5; useless -2.5;
hate -2.5; fed up -2.5; sick of -2.5; incompetent -2.5; disappointed -2; disappointing -2;
annoyed -2; frustrated -2; frustrating -2; upset -2; bad -1.5; poor -1.5; broken -1;
damaged -1; late -1; still not -1.5; never arrived -2; nobody -1; waste -2; rubbish -2.5;
joke -1.5; wtf -2.5; damn -2; fuck* -3; shit* -3; crap -2.5; unhappy -2; sad -1.5; worried -1;
problem -0.5; wrong -1; again -0.5; lost -1; slow -1; rude -2.5;
thanks 1.5; thank you 1.5; great 2; excellent 2.5; amazing 2.5; love 2.5; perfect 2;
awesome 2.5; good 1.5; nice 1.5; happy 2; helpful 2; appreciate 2; wonderful 2.5; fantastic 2.5;
brilliant 2.5; fine 0.5; cool 1; glad 1.5; pleased 2; satisfied 1.5; fast 1;
""",
    "es": """
furioso -3; furiosa -3; indignado -3; indignada -3; peor -2.5; asco -3; estafa -3;
estafadores -3; patetico -3; horrible -3; inaceptable -3; ridiculo -2.5; terrible -2.5;
fatal -2.5; enfadado -2.5; enfadada -2.5; enojado -2.5; inutil -2.5; odio -2.5; harto -2.5;
harta -2.5; incompetentes -2.5; decepcionado -2; decepcionada -2; decepcion -2; molesto -2;
molesta -2; frustrado -2; frustrada -2; mal -1.5; malo -1.5; mala -1.5; roto -1; rota -1;
danado -1; tarde -0.5; todavia no -1.5; nunca llego -2; nadie -1; verguenza -2.5; mierda -3;
joder -2.5; vergonzoso -2.5; triste -1.5; preocupado -1; problema -0.5; otra vez -0.5;
perdido -1; lento -1; grosero -2.5; una broma -1.5;
gracias 1.5; genial 2; excelente 2.5; increible 2; encanta 2.5; perfecto 2; bueno 1.5;
buena 1.5; contento 2; contenta 2; util 1.5; agradezco 2; maravilloso 2.5; estupendo 2.5;
fantastico 2.5; bien 1; rapido 1; amable 2;
""",
    "fr": """
furieux -3; furieuse -3; scandaleux -3; pire -2.5; degoutant -3; arnaque -3; pathetique -3;
horrible -3; inacceptable -3; ridicule -2.5; nul -2.5; nulle -2.5; lamentable -2.5;
en colere -2.5; enerve -2.5; enervee -2.5; inutile -2.5; deteste -2.5; marre -2.5;
incompetents -2.5; decu -2; decue -2; decevant -2; agace -2; frustre -2; frustree -2;
mauvais -1.5; mauvaise -1.5; casse -1; endommage -1; en retard -1; toujours pas -1.5;
jamais arrive -2; personne -1; honte -2.5; merde -3; putain -3; triste -1.5; inquiet -1;
inquiete -1; probleme -0.5; encore -0.5; perdu -1; lent -1; impoli -2.5;
merci 1.5; genial 2; excellent 2.5; incroyable 2; adore 2.5; parfait 2; bien 1; bon 1;
bonne 1; content 2; contente 2; ravi 2; ravie 2; utile 1.5; super 2; formidable 2.5;
fantastique 2.5; rapide 1; aimable 2;
""",
    "de": """
wutend -3; stinksauer -3; emport -3; schlechteste -3; ekelhaft -3; betrug -3; betruger -3;
erbarmlich -3; schrecklich -3; inakzeptabel -3; unverschamt -3; lacherlich -2.5;
furchtbar -2.5; katastrophe -2.5; sauer -2.5; verargert -2.5; nutzlos -2.5; hasse -2.5;
satt -2; inkompetent -2.5; enttauscht -2; enttauschend -2; genervt -2; frustriert -2;
schlecht -1.5; kaputt -1; beschadigt -1; zu spat -1; verspatet -1; immer noch nicht -1.5;
nie angekommen -2; niemand -1; frechheit -2.5; scheisse -3; mist -2; traurig -1.5;
besorgt -1; problem -0.5; schon wieder -1; verloren -1; langsam -1; unfreundlich -2.5;
danke 1.5; toll 2; ausgezeichnet 2.5; super 2; perfekt 2; gut 1.5; prima 2; zufrieden 1.5;
froh 1.5; hilfreich 1.5; fantastisch 2.5; wunderbar 2.5; klasse 2; schnell 1; nett 1.5;
freundlich 2; liebe 2;
""",
}

NEGATORS = set(
    [
        "not",
        "no",
        "never",
        "dont",
        "don't",
        "isnt",
        "isn't",
        "wasnt",
        "nothing",
        "no",
        "nunca",
        "nada",
        "ne",
        "pas",
        "jamais",
        "rien",
        "nicht",
        "kein",
        "keine",
        "keinen",
        "nie",
    ]
)
INTENSIFIERS = {
    "very": 1.3,
    "really": 1.3,
    "so": 1.2,
    "extremely": 1.5,
    "totally": 1.3,
    "muy": 1.3,
    "muchisimo": 1.5,
    "super": 1.2,
    "tres": 1.3,
    "vraiment": 1.3,
    "totalement": 1.3,
    "sehr": 1.3,
    "wirklich": 1.3,
    "total": 1.3,
    "absolut": 1.5,
    "absolutely": 1.5,
}


def _parse(text: str) -> dict[str, float]:
    table: dict[str, float] = {}
    for entry in text.replace("\n", " ").split(";"):
        entry = entry.strip()
        if not entry:
            continue
        word, _, value = entry.rpartition(" ")
        table[normalize(word)] = float(value)
    return table


LEXICONS = {lang: _parse(text) for lang, text in LEXICON_TEXT.items()}
ALL_WORDS: dict[str, float] = {}
for _table in LEXICONS.values():
    for _w, _v in _table.items():
        ALL_WORDS.setdefault(_w, _v)
TOKEN_RE = re.compile(r"[\w']+")


def score_sentiment(text: str, language: str | None = None) -> float:
    """-1 (very negative) .. 1 (very positive)."""
    norm = normalize(text)
    tokens = TOKEN_RE.findall(norm)
    if not tokens:
        return 0.0
    table = dict(ALL_WORDS)
    if language in LEXICONS:
        table.update(LEXICONS[language])
    total = 0.0
    hits = 0
    joined = " " + " ".join(tokens) + " "
    for phrase, phrase_value in table.items():
        if " " in phrase and f" {phrase} " in joined:
            total += phrase_value
            hits += 1
    for i, tok in enumerate(tokens):
        value = table.get(tok)
        if value is None:
            for stem, v in table.items():
                if stem.endswith("*") and tok.startswith(stem[:-1]):
                    value = v
                    break
        if value is None:
            continue
        window = tokens[max(0, i - 3) : i]
        if any(w in NEGATORS for w in window):
            value = -value * 0.6
        for w in tokens[max(0, i - 2) : i]:
            value *= INTENSIFIERS.get(w, 1.0)
        total += value
        hits += 1
    if hits == 0:
        return 0.0
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    emphasis = 1.0 + 0.15 * min(text.count("!") + text.count("?") // 2, 4)
    if shouting:
        emphasis += 0.3
    total *= emphasis
    # Squash to -1..1 like VADER's normalisation, so one strong word gives about -0.65.
    return max(-1.0, min(1.0, total / (abs(total) ** 2 + 12) ** 0.5))
