"""English written form → spoken form, before phonemisation.

espeak-ng reads digits itself, but badly for money, dates, ordinals and times ("$12.50" becomes "dollar twelve
point five zero"), and Whisper-based validation compares words, so both sides must agree on one spoken form.
Number words come from num2words (a maintained library) rather than hand tables; only the *patterns* (which
digits form a date, a price, a time) live here. Each rule is a (regex, replacement) pair applied in order,
most specific first, so a date is not first eaten by the plain-number rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from num2words import num2words

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_MONTH_RE = "|".join(_MONTHS + [m[:3] for m in _MONTHS] + ["Sept"])

# Abbreviations that are unambiguous when followed by a period (titles) or standing alone (units).
_TITLES = {
    "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Dr": "Doctor", "Prof": "Professor",
    "Jr": "Junior", "Sr": "Senior", "Capt": "Captain", "Gen": "General", "Lt": "Lieutenant", "Sgt": "Sergeant",
    "Mt": "Mount", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard", "Dept": "Department", "Co": "Company",
    "Inc": "Incorporated", "Ltd": "Limited", "vs": "versus", "etc": "et cetera", "approx": "approximately",
    "No": "number",
}
_PHRASES = {"e.g.": "for example", "i.e.": "that is", "a.m.": "a m", "p.m.": "p m", "U.S.": "U S",
            "U.K.": "U K", "w/": "with "}
_UNITS = {
    "km": ("kilometer", "kilometers"), "m": ("meter", "meters"), "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"), "kg": ("kilogram", "kilograms"), "g": ("gram", "grams"),
    "mg": ("milligram", "milligrams"), "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "mi": ("mile", "miles"), "ft": ("foot", "feet"), "in": ("inch", "inches"), "mph": ("mile per hour",
    "miles per hour"), "kmh": ("kilometer per hour", "kilometers per hour"), "km/h": ("kilometer per hour",
    "kilometers per hour"), "h": ("hour", "hours"), "hr": ("hour", "hours"), "hrs": ("hour", "hours"),
    "min": ("minute", "minutes"), "s": ("second", "seconds"), "sec": ("second", "seconds"),
    "ms": ("millisecond", "milliseconds"), "GB": ("gigabyte", "gigabytes"), "MB": ("megabyte", "megabytes"),
    "KB": ("kilobyte", "kilobytes"), "TB": ("terabyte", "terabytes"), "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"), "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"), "L": ("liter", "liters"), "ml": ("milliliter", "milliliters"),
}
# Technical words espeak-ng spells or splits wrongly ("stdin" came out as "SD then"); matched as whole words,
# case-insensitively. Words people read as letters stay as letters (spaced so espeak spells them).
_LEXICON = {
    "stdin": "standard in", "stdout": "standard out", "stderr": "standard error", "sudo": "sue doo",
    "regex": "rej ex", "nginx": "engine x", "wifi": "why fye", "wi-fi": "why fye", "json": "jay son",
    "yaml": "yam el", "sql": "S Q L", "mkdir": "make dir", "readme": "read me", "cli": "C L I", "gui": "gooey",
    "ascii": "ask ee", "github": "git hub", "url": "U R L", "urls": "U R Ls", "api": "A P I", "apis": "A P Is",
}
_LEXICON_RE = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in sorted(_LEXICON, key=len, reverse=True))
                         + r")(?![\w-])", re.IGNORECASE)

_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
               "£": ("pound", "pounds", "penny", "pence"), "¥": ("yen", "yen", "sen", "sen")}


# Longer digit runs (IDs, card numbers, a 308-digit "number") are read digit by digit: num2words overflows
# past ~10^300 and Python refuses int() of more than 4,300 digits, and nobody says them as one number anyway.
MAX_NUMBER_DIGITS = 15
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_LONG_RUN = re.compile(rf"\d{{{MAX_NUMBER_DIGITS + 1},}}")


def _words(n: int | float, **kw: object) -> str:
    return num2words(n, lang="en", **kw).replace(",", "")


def spell_digits(text: str) -> str:
    """Every digit as its own word ("4 2" for "42"); a dot between digits is "point"; other characters stay."""
    text = re.sub(r"(?<=\d),(?=\d)", "", text)
    text = re.sub(r"(?<=\d)\.(?=\d)", " point ", text)
    return re.sub(r"\d", lambda m: f" {_DIGIT_WORDS[int(m.group(0))]} ", text)


def _total(fn: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
    """A rule that cannot fail: a match holding a very long digit run, or one the rule cannot read (a number
    num2words refuses), is read digit by digit instead of raising."""

    def apply(m: re.Match[str]) -> str:
        whole = m.group(0)
        if _LONG_RUN.search(whole.replace(",", "")):
            return spell_digits(whole)
        try:
            return fn(m)
        except (ArithmeticError, ValueError, TypeError, NotImplementedError, IndexError, KeyError):
            return spell_digits(whole)

    return apply


def _cardinal(s: str) -> str:
    s = s.replace(",", "")
    if len(s.split(".", 1)[0]) > MAX_NUMBER_DIGITS:
        return spell_digits(s)
    if "." in s:
        whole, frac = s.split(".", 1)
        head = _words(int(whole)) if whole else "zero"
        return f"{head} point {' '.join(_words(int(d)) for d in frac)}"
    return _words(int(s))


def _year(y: int) -> str:
    """Years are read in pairs ("nineteen ninety-nine"), except 2000–2009 ("two thousand five")."""
    if 2000 <= y <= 2009 or y < 1000 or y % 1000 == 0:
        return _words(y)
    return _words(y, to="year")


def _money(m: re.Match[str]) -> str:
    sym, amount, scale = m.group("sym"), m.group("amt").replace(",", ""), m.group("scale")
    one, many, sub_one, sub_many = _CURRENCIES[sym]
    if scale:
        return f"{_cardinal(amount)} {scale.lower()} {many}"
    whole, _, frac = amount.partition(".")
    w = int(whole or 0)
    parts = [f"{_words(w)} {one if w == 1 else many}"] if w or not frac else []
    if frac:
        c = int((frac + "0")[:2])
        if c:
            parts.append(f"{_words(c)} {sub_one if c == 1 else sub_many}")
    return " and ".join(parts) if parts else f"zero {many}"


def _time(m: re.Match[str]) -> str:
    h, mi, ampm = int(m.group("h")), int(m.group("m")), (m.group("ampm") or "").lower().replace(".", "")
    head = _words(h)
    tail = "" if mi == 0 and ampm else (" o'clock" if mi == 0 else
                                       f" oh {_words(mi)}" if mi < 10 else f" {_words(mi)}")
    suffix = f" {' '.join(ampm)}" if ampm else ""
    return f"{head}{tail}{suffix}"


def _date_mdy(m: re.Match[str]) -> str:
    month = _full_month(m.group("mon"))
    day = _words(int(m.group("d")), to="ordinal")
    year = m.group("y")
    return f"{month} {day}" + (f", {_year(int(year))}" if year else "")


def _date_dmy(m: re.Match[str]) -> str:
    month = _full_month(m.group("mon"))
    day = _words(int(m.group("d")), to="ordinal")
    year = m.group("y")
    the = m.group("the") or "the "  # "The 14th of March" keeps its own article
    return f"{the}{day} of {month}" + (f" {_year(int(year))}" if year else "")


def _shillings(m: re.Match[str]) -> str:
    """Pre-decimal British money, "£14 10s 6d": pounds, shillings and pence (the "s" is not seconds)."""
    pounds, shillings, pence = int(m.group("l")), int(m.group("s")), m.group("d")
    parts = [f"{_words(pounds)} {'pound' if pounds == 1 else 'pounds'}",
             f"{_words(shillings)} {'shilling' if shillings == 1 else 'shillings'}"]
    if pence:
        parts.append(f"{_words(int(pence))} {'penny' if int(pence) == 1 else 'pence'}")
    return ", ".join(parts[:-1]) + " and " + parts[-1] if pence else " ".join(parts)


def _decade(m: re.Match[str]) -> str:
    """"the 1960s" → "the nineteen sixties", "the '80s" → "the eighties" (not "seconds")."""
    spoken = _year(int(m.group("y"))) if m.group("y") else _words(int(m.group("yy")))
    return spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"


def _date_iso(m: re.Match[str]) -> str:
    y, mo, d = int(m.group("y")), int(m.group("mo")), int(m.group("d"))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group(0)
    return f"{_MONTHS[mo - 1]} {_words(d, to='ordinal')}, {_year(y)}"


def _date_slash(m: re.Match[str]) -> str:
    """US order (month/day/year), the common reading for English text."""
    mo, d, y = int(m.group("mo")), int(m.group("d")), m.group("y")
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group(0)
    year = int(y) + (2000 if len(y) == 2 else 0)
    return f"{_MONTHS[mo - 1]} {_words(d, to='ordinal')}, {_year(year)}"


def _full_month(name: str) -> str:
    key = name[:3].lower()
    return next(m for m in _MONTHS if m[:3].lower() == key)


def _unit(m: re.Match[str]) -> str:
    num, unit = m.group("n"), m.group("u")
    one, many = _UNITS[unit]
    return f"{_cardinal(num)} {one if num in ('1', '1.0') else many}"


_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"

_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"£\s?(?P<l>\d+)\s+(?P<s>1?\d)s\b(?:\s+(?P<d>1?\d)d\b)?"), _shillings),
    (re.compile(r"(?P<sym>[$€£¥])\s?(?P<amt>" + _NUM + r")(?:\s?(?P<scale>million|billion|thousand|trillion))?\b",
                re.I), _money),
    (re.compile(r"\b(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})\b"), _date_iso),
    (re.compile(r"\b(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}|\d{2})\b"), _date_slash),
    (re.compile(r"\b(?P<mon>" + _MONTH_RE + r")\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{4})\b)?"),
     _date_mdy),
    (re.compile(r"(?P<the>\b[Tt]he\s+)?\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>" + _MONTH_RE
                + r")\b\.?(?:,?\s+(?P<y>\d{4})\b)?"),
     _date_dmy),
    (re.compile(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?:\s?(?P<ampm>[ap]\.?m\.?))?(?![\w:])", re.I), _time),
    (re.compile(r"\b(?P<h>1[0-2]|[1-9])\s?(?P<ampm>[ap]\.?m\.?)(?!\w)", re.I),
     lambda m: f"{_words(int(m.group('h')))} {' '.join(m.group('ampm').lower().replace('.', ''))}"),
    (re.compile(r"(?<![\w.])(?P<n>" + _NUM + r")\s?%"), lambda m: f"{_cardinal(m.group('n'))} percent"),
    (re.compile(r"\b(?P<n>\d+)(?P<suf>st|nd|rd|th)\b", re.I),
     lambda m: _words(int(m.group("n")), to="ordinal")),
    (re.compile(r"\b(?:in|since|by|from|until|of|year|circa|around)\s+(?P<y>1[1-9]\d\d|20\d\d)\b", re.I),
     lambda m: m.group(0)[: m.start("y") - m.start(0)] + _year(int(m.group("y")))),
    # A year right after a month name: "the fourteenth of March 1987", "in June, 2004".
    (re.compile(r"\b(?:" + _MONTH_RE + r")\.?,?\s+(?P<y>1[1-9]\d\d|20\d\d)\b"),
     lambda m: m.group(0)[: m.start("y") - m.start(0)] + _year(int(m.group("y")))),
    # Decades: "the 1960s", "the '80s" (a bare "80s" stays a duration: "80 s" is eighty seconds).
    (re.compile(r"\b(?P<y>1[1-9]\d0|20\d0)s\b|(?<!\w)'(?P<yy>[1-9]0)s\b"), _decade),
    (re.compile(r"(?<![\w.])(?P<n>" + _NUM + r")\s?(?P<u>" + _UNIT_RE + r")(?![\w/])"), _unit),
    (re.compile(r"(?<![\w.])-(?P<n>\d+(?:\.\d+)?)\b"), lambda m: f"minus {_cardinal(m.group('n'))}"),
    (re.compile(r"(?<![\w.])(?P<n>" + _NUM + r")(?![\w])"), lambda m: _cardinal(m.group("n"))),
    (re.compile(r"(?P<n>\d+)"), lambda m: _cardinal(m.group("n"))),
]


def _abbreviations(text: str) -> str:
    for k, v in _PHRASES.items():
        text = text.replace(k, v)
    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in _TITLES) + r")\.(?=\s|$)")
    text = pattern.sub(lambda m: _TITLES[m.group(1)], text)
    # "St." is "Street" after a name ("Baker St.") and "Saint" before one ("St. Louis").
    text = re.sub(r"\b([A-Z][a-z]+\s+)St\.", r"\1Street", text)
    text = re.sub(r"\bSt\.(?=\s+[A-Z])", "Saint", text)
    text = re.sub(r"\s&\s", " and ", text)
    return _LEXICON_RE.sub(lambda m: _LEXICON[m.group(1).lower()], text)


def normalize(text: str, language: str = "en") -> str:
    """Return ``text`` with numbers, money, dates, times, units and abbreviations written as words.

    Only English has rules today; other languages are passed through unchanged (espeak-ng reads their digits),
    so callers can use one code path for every language.
    """
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text)  # control characters crash espeak-ng
    text = re.sub(r"[\u2018\u2019]", "'", text)
    text = re.sub(r"[\u201c\u201d]", '"', text)
    text = re.sub(r"[\u2013\u2014]", " — ", text)
    if not language.lower().startswith("en"):
        return re.sub(r"\s+", " ", _other_language(text, language.split("-")[0].lower())).strip()
    text = _abbreviations(text)
    if re.search(r"\d", text):
        for pattern, fn in _RULES:
            text = pattern.sub(_total(fn), text)
    return re.sub(r"\s+", " ", text).strip()


# Other languages: espeak-ng (and cn2an for Chinese, pyopenjtalk for Japanese) read plain numbers, years and
# most dates well in their own language (measured: "el 8 de octubre de 2023", "le 1er mai", "às 10:30" come
# out right). These rules fix the forms they misread.
_DE_MONTHS = ("Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember")


def _de_date(m: re.Match[str]) -> str:
    """German "am 1. Mai" → "am ersten Mai" (espeak says "eins. Mai"): the ending follows the word before."""
    word = num2words(int(m.group("d")), lang="de", to="ordinal")
    pre = m.group("pre")
    if pre:  # "der dritte Oktober"; "am/vom/den dritten Oktober"
        return f"{pre}{word}{'' if pre.strip().lower() == 'der' else 'n'} {m.group('mon')}"
    # Capitalised: after "… 2024." a lower-case word would make espeak read the year as an ordinal.
    return f"{word.capitalize()}r {m.group('mon')}"


def _zh_time(m: re.Match[str]) -> str:
    """Chinese "10:30" → "10点30分" (cn2an then reads the digits; a bare colon is read as nothing)."""
    h, mi = int(m.group("h")), int(m.group("m"))
    return f"{h}点" + (f"{mi}分" if mi else "")


_OTHER_RULES: dict[str, list[tuple[re.Pattern[str], Callable[[re.Match[str]], str] | str]]] = {
    "de": [
        (re.compile(r"(?P<pre>\b(?i:am|vom|zum|bis zum|dem|den|seit dem|der)\s+)?\b(?P<d>[1-9]|[12]\d|3[01])\.\s+"
                    r"(?P<mon>" + _DE_MONTHS + r")\b"), _de_date),
        (re.compile(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)\s*Uhr\b"),
         lambda m: f"{int(m.group('h'))} Uhr" + (f" {int(m.group('m'))}" if int(m.group("m")) else "")),
    ],
    "it": [(re.compile(r"\b1\s?°(?=\s+[a-z])"), "primo")],
    "zh": [(re.compile(r"(?<!\d)(?P<h>[01]?\d|2[0-3])[:：](?P<m>[0-5]\d)(?!\d)"), _zh_time)],
}


def _other_language(text: str, language: str) -> str:
    for pattern, repl in _OTHER_RULES.get(language, []):
        text = pattern.sub(repl, text)
    return text
