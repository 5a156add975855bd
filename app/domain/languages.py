"""Which language a message is written in: one of the six the marketing check was trained on, or another.

The marketing model reads English, Spanish, Portuguese, French, German and Italian. A message in any
other language must not be judged as if it were one of them (a Dutch promotion shares few words with
the training data and would read as "no marketing found"), so the policy needs to know when the text
is outside the six — and to name the language for the person or system it tells.

The identification is deliberately small and deterministic: common function words per language
(articles, pronouns, prepositions, auxiliaries — the words every sentence uses, whatever it is about)
counted on a folded copy of the text, a few letters only one language uses, and the script for
languages not written in Latin letters. Short texts carry little evidence, so a language outside the
six is named only when its words clearly outnumber those of the six; a text with no evidence at all
("OK", "482913", a link) is left to the caller's hints and counts as checked, because there is nothing
in it a different language could hide.

Pure Python: no I/O, nothing of Herald's imported.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

CHECKED: tuple[str, ...] = ("en", "es", "pt", "fr", "de", "it")
OTHER = "other"

NAMES: dict[str, str] = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German", "it": "Italian",
    "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "ro": "Romanian",
    "tr": "Turkish", "id": "Indonesian or Malay", "cs": "Czech or Slovak", "fi": "Finnish", "hu": "Hungarian",
    "ca": "Catalan", "ru": "Russian", "uk": "Ukrainian", "el": "Greek", "ar": "Arabic", "he": "Hebrew",
    "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "th": "Thai", "hi": "Hindi", "bg": "Bulgarian",
}

# Function words, folded (lower case, no accents). Words shared by several languages are listed in
# each: the count decides, and shared words cancel out.
_WORDS: dict[str, frozenset[str]] = {code: frozenset(words.split()) for code, words in {
    "en": "the and you your is are was were be been has have had will would can could to of for with on "
          "at from this that these it its our we us my me not no if or by an as please thanks thank here "
          "there what when which who today tomorrow now just all any get got been has hi hello dear",
    "es": "el la los las un una unos unas de del al y o que en con por para su sus tu tus te se es son "
          "esta este esto estan ha han hemos muy mas pero como cuando hola gracias hoy manana usted ustedes "
          "nuestro nuestra le les lo ya ahora puedes puede tienes tiene hay fue nos mi",
    "pt": "o a os as um uma uns umas de do da dos das e ou que em no na nos nas com por para pelo pela seu "
          "sua seus suas voce te se e sao esta este isso estao foi ja agora ola obrigado obrigada hoje "
          "amanha nosso nossa lhe pode tem ha muito mais mas como quando ao aos nao sim meu minha",
    "fr": "le la les un une des de du au aux et ou que qui en dans avec par pour sur votre vos ton ta tes "
          "vous nous est sont a ont ete ce cet cette ces il elle ne pas plus mais comme quand bonjour merci "
          "aujourd'hui demain notre nos leur y se sa son mon ma bien tres",
    "de": "der die das den dem des ein eine einen einem einer und oder dass in im mit von zu zum zur fur "
          "auf an am ist sind war wurde wird werden hat haben ihr ihre ihren ihnen sie du dein deine dich dir "
          "wir uns unser unsere nicht kein keine auch bitte danke hallo heute morgen jetzt noch schon bei "
          "nach aus es ich mein",
    "it": "il lo la i gli le un uno una di del della dei degli delle e o che in nel nella con per su sul "
          "tuo tua tuoi tue ti si e sono stato stata ha hanno abbiamo non piu ma come quando ciao grazie "
          "oggi domani nostro nostra vostro vostra suo sua al alla ai anche gia ora puoi puo c'e mio",
    "nl": "de het een en of dat die in op met van voor naar je jouw jij uw u wij we ons onze is zijn was "
          "werd wordt worden heeft hebben niet geen ook maar als wanneer hallo bedankt dank vandaag morgen "
          "nu nog al er bij uit aan door deze dit",
    "pl": "i w z na do od dla nie jest sa byl byla bedzie twoj twoja twoje pan pani panstwo prosimy "
          "dziekujemy dzisiaj jutro juz teraz oraz ale jak gdy czy sie to ten ta tego przez po przy",
    "sv": "och att det som en ett den du din ditt dina er ert era vi oss var ar har hade inte ingen men om "
          "nar hej tack idag imorgon nu pa for med till fran av",
    "da": "og at det som en et den du din dit dine jer vi os vores er har havde ikke ingen men hvis nar hej "
          "tak idag imorgen nu pa for med til fra af",
    "no": "og at det som en et den du din ditt dine dere vi oss var er har hadde ikke ingen men hvis nar "
          "hei takk idag imorgen na pa for med til fra av",
    "ro": "si sau ca care in pe cu de la din pentru este sunt a fost va fi ai aveti nu dar cand buna "
          "multumim astazi maine acum deja dumneavoastra tau ta noastra nostru",
    "tr": "ve veya bir bu su da de ile icin gibi ama degil cok daha sizin senin bizim siparisiniz "
          "merhaba tesekkurler bugun yarin simdi hesabiniz lutfen",
    "id": "dan atau yang di ke dari untuk dengan ini itu anda kamu kami kita adalah tidak bukan akan sudah "
          "belum sedang terima kasih hari besok sekarang silakan mohon",
    "cs": "a nebo ze v ve na do od pro s se je jsou byl byla bude vas vase tvuj nas nase ne ale kdyz "
          "dobry den dekujeme dnes zitra uz ted",
    "fi": "ja tai etta on ovat oli ei mutta kun hei kiitos tanaan huomenna nyt jo sinun teidan meidan "
          "tilauksesi",
    "hu": "es vagy hogy a az egy van vannak volt nem de ha szia koszonjuk ma holnap most mar on onok "
          "rendelese",
    "ca": "el la els les un una i o que en amb per per a es son ha han teva teu vostre nostra avui dema ara "
          "gracies hola no pero com quan",
}.items()}

# Letters that only one of the six writes (folded text loses them, so they are read before folding).
_LETTERS: dict[str, str] = {"ñ": "es", "ã": "pt", "õ": "pt", "ß": "de", "œ": "fr", "ę": "pl", "ą": "pl",
                            "ł": "pl", "ő": "hu", "ű": "hu", "ğ": "tr", "ı": "tr", "ş": "tr", "ř": "cs",
                            "ů": "cs", "ě": "cs", "ø": "da", "å": "sv", "ț": "ro", "ș": "ro", "ă": "ro"}

_SCRIPTS = (  # (unicode name prefix, language)
    ("HANGUL", "ko"), ("HIRAGANA", "ja"), ("KATAKANA", "ja"), ("CJK", "zh"), ("ARABIC", "ar"),
    ("HEBREW", "he"), ("GREEK", "el"), ("THAI", "th"), ("DEVANAGARI", "hi"), ("CYRILLIC", "ru"),
)
_UKRAINIAN = set("іїєґІЇЄҐ")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True)
class Language:
    """The language of a text: ``code`` is one of :data:`CHECKED` or ``"other"``; ``name`` says which."""

    code: str
    name: str
    evidence: int = 0  # how many words (or letters) spoke for it; 0: nothing in the text to go on

    @property
    def checked(self) -> bool:
        return self.code in CHECKED


def base_language(code: str) -> str:
    """"pt_BR", "en-US", "DE" → "pt", "en", "de"."""
    return (code or "").strip().lower().replace("-", "_").split("_")[0]


def identify(text: str, hints: Iterable[str] = ()) -> Language:
    """The text's language. ``hints`` (the template's or the workspace's languages) settle ties."""
    hinted = [base_language(h) for h in ([hints] if isinstance(hints, str) else hints)]
    script = _script(text or "")
    if script is not None:
        return Language(OTHER, NAMES[script], evidence=len(text))
    counts: dict[str, int] = dict.fromkeys(_WORDS, 0)
    for char in text or "":
        language = _LETTERS.get(char.lower())
        if language:
            counts[language] += 2
    for word in _WORD.findall(_fold(text or "")):
        for language, words in _WORDS.items():
            if word in words:
                counts[language] += 1
    order = {code: i for i, code in enumerate([*hinted, *CHECKED, *_WORDS])}
    ranked = sorted(counts, key=lambda code: (-counts[code], order[code]))
    best_checked = next(code for code in ranked if code in CHECKED)
    best = ranked[0]
    if counts[best] == 0:
        fallback = next((h for h in hinted if h in CHECKED), "en")
        return Language(fallback, NAMES[fallback], evidence=0)
    # Another language is named only on clear evidence: more words than the best of the six, and a
    # few of them, so a stray "de" or "en" does not turn Spanish into Dutch.
    if best not in CHECKED and counts[best] >= max(3, counts[best_checked] + 2):
        return Language(OTHER, NAMES.get(best, best), evidence=counts[best])
    return Language(best_checked, NAMES[best_checked], evidence=counts[best_checked])


def _script(text: str) -> str | None:
    """The language a non-Latin script implies, when most letters are in it."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    tally: dict[str, int] = {}
    latin = 0
    for char in letters:
        if char < "\u0250":
            latin += 1
            continue
        name = unicodedata.name(char, "")
        for prefix, language in _SCRIPTS:
            if name.startswith(prefix):
                tally[language] = tally.get(language, 0) + 1
                break
    if not tally:
        return None
    language = max(tally, key=lambda code: (tally[code], code))
    if tally[language] < latin:
        return None
    if language == "zh" and ("ja" in tally):
        return "ja"
    if language == "ru" and any(c in _UKRAINIAN for c in text):
        return "uk"
    return language


def _fold(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
