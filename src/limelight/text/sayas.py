"""SSML ``<say-as>``: how a written token is read (spelled out, as a number, a date, a phone number …).

Each reader turns the element's text into the words to speak, so the rest of the pipeline (normalisation,
phonemes, Whisper validation) sees plain words. Readers raise :class:`SayAsError` with a message naming the
bad value; the SSML parser adds the line and column. English readings (num2words) only: other languages
speak the text unchanged and the caller reports that.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from num2words import num2words

from .inline import pronounce
from .normalize import _MONTHS, _year, normalize


class SayAsError(ValueError):
    """The text of a ``<say-as>`` cannot be read the way ``interpret-as`` asks."""


def _words(n: int, **kw: object) -> str:
    return num2words(n, lang="en", **kw).replace(",", "").replace("-", " ")


MAX_DIGITS = 15
_DIGIT = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_SYMBOLS = {"-": "dash", "_": "underscore", ".": "dot", "@": "at", "/": "slash", "+": "plus", "#": "hash",
            "&": "and", "*": "star", "%": "percent", ":": "colon", "'": "apostrophe", "$": "dollar"}


def characters(text: str, fmt: str | None = None) -> str:
    """Spell out: each letter as a capital (espeak reads a lone capital by its name), digits as words, with a
    comma's break between them (Whisper hears "N, A, S, A" as letters, "N A S A" as a word)."""
    out: list[str] = []
    for ch in text:
        if ch.isspace():
            continue
        if ch.isdigit():
            out.append(_DIGIT[int(ch)] if ch.isascii() else ch)
        elif ch.upper() == "A":  # a lone "A" is read as the article (ɐ) between other letters
            out.append(pronounce("A", ipa="ˈeɪ"))
        elif ch.isalpha():
            out.append(ch.upper())
        elif ch in _SYMBOLS:
            out.append(_SYMBOLS[ch])
    if not out:
        raise SayAsError(f"nothing to spell in \"{text}\"")
    # Commas: a short break between letters, so "N A S A" is not run together into a word.
    return ", ".join(out)


def _number(text: str) -> str:
    raw = text.strip().replace(",", "").replace(" ", "")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", raw):
        raise SayAsError(f"\"{text.strip()}\" is not a number")
    return raw


def cardinal(text: str, fmt: str | None = None) -> str:
    raw = _number(text)
    sign = "minus " if raw.startswith("-") else ""
    raw = raw.lstrip("+-")
    whole, _, frac = raw.partition(".")
    if len(whole) > MAX_DIGITS:  # nobody says a 16-digit number as one number (and num2words overflows)
        return sign + " point ".join(digits(part) for part in raw.split(".") if part)
    spoken = _words(int(whole))
    if frac:
        spoken += " point " + " ".join(_DIGIT[int(d)] for d in frac)
    return sign + spoken


def ordinal(text: str, fmt: str | None = None) -> str:
    raw = re.sub(r"(?i)(st|nd|rd|th|\.)$", "", text.strip())
    if not re.fullmatch(r"\d+", raw.replace(",", "")):
        raise SayAsError(f"\"{text.strip()}\" is not an ordinal number")
    if len(raw.replace(",", "")) > MAX_DIGITS:
        raise SayAsError(f"\"{text.strip()}\" is too long for an ordinal (at most {MAX_DIGITS} digits)")
    return _words(int(raw.replace(",", "")), to="ordinal")


def digits(text: str, fmt: str | None = None) -> str:
    found = [ch for ch in text if ch.isdigit()]
    if not found:
        raise SayAsError(f"\"{text.strip()}\" has no digits")
    return " ".join(_DIGIT[int(d)] for d in found)


def telephone(text: str, fmt: str | None = None) -> str:
    """Digit by digit, groups (split at spaces, dashes, dots, brackets) separated by a comma pause."""
    raw = text.strip()
    if not re.fullmatch(r"[+\d\s().\-/x]+", raw) or not re.search(r"\d", raw):
        raise SayAsError(f"\"{raw}\" is not a telephone number")
    groups = [g for g in re.split(r"[\s().\-/]+", raw) if g]
    spoken = []
    for g in groups:
        words = []
        for ch in g:
            if ch == "+":
                words.append("plus")
            elif ch == "x":
                words.append("extension")
            else:
                words.append(_DIGIT[int(ch)])
        spoken.append(" ".join(words))
    return ", ".join(spoken)


_DATE_FORMATS = ("mdy", "dmy", "ymd", "md", "dm", "ym", "my", "y", "m", "d")


def date(text: str, fmt: str | None = None) -> str:
    """A date in the order ``format`` names (``mdy``, ``dmy``, ``ymd``, ``md``, ``dm``, ``ym``, ``my``, ``y``, ``m``,
    ``d``; default ``ymd`` for ``2024-03-14`` and ``mdy`` otherwise). Fields may be numbers or month names."""
    raw = text.strip()
    fields = [f for f in re.split(r"[\s/.\-,]+", raw) if f]
    order = (fmt or "").lower()
    if order and order not in _DATE_FORMATS and set(order) <= set("ymd-/. "):  # Google style: "yyyy-mm-dd"
        order = "".join(dict.fromkeys(c for c in order if c in "ymd"))
    order = order or ("ymd" if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", raw) else "mdy"[:len(fields)])
    if order not in _DATE_FORMATS:
        raise SayAsError(f"date format must be one of {', '.join(_DATE_FORMATS)}, not \"{fmt}\"")
    if len(fields) != len(order):
        raise SayAsError(f"\"{raw}\" does not have the {len(order)} field(s) of format \"{order}\"")
    parts: dict[str, str] = {}
    for key, value in zip(order, fields, strict=True):
        if key == "m":
            month = _month(value)
            if month is None:
                raise SayAsError(f"\"{value}\" is not a month in \"{raw}\"")
            parts["m"] = month
        elif not value.isdigit() or len(value) > 4:
            raise SayAsError(f"\"{value}\" is not a day or year in \"{raw}\"")
        elif key == "d":
            if not 1 <= int(value) <= 31:
                raise SayAsError(f"day {value} is out of range in \"{raw}\"")
            parts["d"] = _words(int(value), to="ordinal")
        else:
            year = int(value) + (2000 if len(value) == 2 else 0)
            parts["y"] = _year(year).replace("-", " ")
    if "m" in parts and "d" in parts:
        head = f"the {parts['d']} of {parts['m']}" if order.index("d") < order.index("m") else \
            f"{parts['m']} {parts['d']}"
    else:
        head = parts.get("m") or (f"the {parts['d']}" if "d" in parts else "")
    return f"{head} {parts['y']}".strip() if "y" in parts else head


def _month(value: str) -> str | None:
    if value.isdigit():
        return _MONTHS[int(value) - 1] if 1 <= int(value) <= 12 else None
    key = value[:3].lower()
    return next((m for m in _MONTHS if m[:3].lower() == key), None)


def time(text: str, fmt: str | None = None) -> str:
    """``14:30``, ``2:30pm``, ``9:05:10``, ``1430`` (with format ``hms24``) → words."""
    raw = text.strip()
    m = re.fullmatch(r"(\d{1,2})(?::?(\d{2}))?(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?", raw)
    if m is None:
        raise SayAsError(f"\"{raw}\" is not a time like 14:30 or 2:30pm")
    h, mi, sec = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if h > 24 or mi > 59 or (sec is not None and int(sec) > 59):
        raise SayAsError(f"\"{raw}\" is not a valid time")
    ampm = (m.group(4) or "").lower().replace(".", "")
    if not ampm and (fmt or "").lower().endswith("12") and h > 12:
        h, ampm = h - 12, "pm"
    spoken = _words(h)
    if mi:
        spoken += f" oh {_words(mi)}" if mi < 10 else f" {_words(mi)}"
    elif not ampm:
        spoken += " hundred" if h >= 13 or (fmt or "").lower().endswith("24") else " o'clock"
    if sec is not None and int(sec):
        spoken += f" and {_words(int(sec))} seconds"
    if ampm:
        spoken += " " + " ".join(ampm.upper())
    return spoken


_CODES = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "US$": "$"}


def currency(text: str, fmt: str | None = None) -> str:
    """``$42.50``, ``42.50 USD``, ``EUR 12`` → words (dollars, euros, pounds, yen)."""
    raw = text.strip()
    m = re.fullmatch(r"([A-Za-z]{3}|US\$)?\s*([$€£¥])?\s*([\d,]+(?:\.\d+)?)\s*([A-Za-z]{3})?", raw)
    if m is None:
        raise SayAsError(f"\"{raw}\" is not an amount like $42.50 or 42.50 USD")
    code = (m.group(1) or m.group(4) or fmt or "").upper()
    symbol = m.group(2) or _CODES.get(code)
    if symbol is None:
        raise SayAsError(f"unknown currency in \"{raw}\" (known: $, €, £, ¥, {', '.join(_CODES)})")
    return normalize(f"{symbol}{m.group(3)}", "en")


def fraction(text: str, fmt: str | None = None) -> str:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if m is None:
        raise SayAsError(f"\"{text.strip()}\" is not a fraction like 3/4")
    if len(m.group(1)) > MAX_DIGITS or len(m.group(2)) > MAX_DIGITS:
        raise SayAsError(f"a fraction's numbers have at most {MAX_DIGITS} digits")
    num, den = int(m.group(1)), int(m.group(2))
    if den == 2:
        return f"{_words(num)} {'half' if num == 1 else 'halves'}"
    tail = _words(den, to="ordinal")
    return f"{_words(num)} {tail}{'' if num == 1 else 's'}"


READERS: dict[str, Callable[[str, str | None], str]] = {
    "characters": characters, "spell-out": characters, "letters": characters, "verbatim": characters,
    "cardinal": cardinal, "number": cardinal, "ordinal": ordinal, "digits": digits, "telephone": telephone,
    "date": date, "time": time, "currency": currency, "fraction": fraction,
}


def _shown(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def say_as(text: str, interpret_as: str, fmt: str | None = None) -> str:
    """The words for ``text`` read as ``interpret_as`` (a key of :data:`READERS`; ``number`` with format
    ``ordinal``/``digits``/``cardinal``/``telephone`` picks that reader, as some SSML dialects write it)."""
    kind = interpret_as.lower()
    if kind == "number" and fmt and fmt.lower() in READERS:
        kind, fmt = fmt.lower(), None
    reader = READERS.get(kind)
    if reader is None:
        raise KeyError(kind)
    try:
        words = reader(text, fmt)
    except SayAsError as exc:  # keep messages short when the text is huge
        raise SayAsError(re.sub(r'"([^"]{40,})"', lambda m: f'"{_shown(m.group(1))}"', str(exc))) from None
    if reader in (digits, telephone):
        # Whisper writes digit strings as digits: keep them as the written form that validation compares,
        # and speak the words.
        return pronounce(" ".join(text.split()), say=words)
    return words
