"""Turn script source into tokens (text, start tags, end tags), forgiving what people type.

A hand-written scanner instead of an XML library, for two reasons: errors must point at the exact
line and column of the problem in the user's own text, and real scripts are not well-formed XML
(an unescaped ``&``, smart quotes around attribute values, ``3 < 5`` in a sentence, unquoted
``seconds=1.2``). Comments, processing instructions (``<?xml …?>``) and ``<!DOCTYPE …>`` are skipped;
``<![CDATA[…]]>`` becomes literal text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from html.entities import html5

from ..errors import ScriptError

_NAME = re.compile(r"[A-Za-z_][\w:.\-]*")
_RUNS_INTO = re.compile(r"\s([A-Za-z_][\w:.\-]*)\s*=\s*$")
_ENTITY = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});")

# Quote characters accepted around attribute values: a value opened with any double-ish quote closes
# with any double-ish quote (word processors turn "…" into “…”), likewise for single quotes.
_DOUBLE_QUOTES = "\"“”„‟«»"
_SINGLE_QUOTES = "'‘’‚‛"
_DOUBLE_END = re.compile(f"[{_DOUBLE_QUOTES}<]")
_SINGLE_END = re.compile(f"[{_SINGLE_QUOTES}<]")
_BARE_VALUE = re.compile(r"(?:(?!/>)[^\s<>])+")
_SPACE = re.compile(r"\s+")


class SourceText:
    """The source with newlines normalised, and a way to turn an offset into line and column."""

    def __init__(self, raw: str) -> None:
        text = raw.replace("\r\n", "\n").replace("\r", "\n")
        if text.startswith("\ufeff"):
            text = text[1:]
        self.text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_col(self, pos: int) -> tuple[int, int]:
        """1-based line and column (in characters) of offset ``pos``."""
        index = bisect_right(self._line_starts, pos) - 1
        return index + 1, pos - self._line_starts[index] + 1

    def where(self, pos: int) -> str:
        line, col = self.line_col(pos)
        return f"line {line}, col {col}"

    def error(self, pos: int, message: str) -> ScriptError:
        line, col = self.line_col(pos)
        return ScriptError(message, line=line, col=col)


@dataclass(frozen=True)
class Text:
    """Raw text between tags; ``literal`` text (CDATA) gets no entity decoding and no events."""

    raw: str
    pos: int
    literal: bool = False


@dataclass(frozen=True)
class Attr:
    name: str  # lower-cased
    value: str  # entities decoded, not yet stripped
    pos: int  # of the attribute name
    value_pos: int  # of the first character of the value


@dataclass(frozen=True)
class StartTag:
    name: str  # lower-cased
    attrs: tuple[Attr, ...]
    self_closing: bool
    pos: int  # of the "<"


@dataclass(frozen=True)
class EndTag:
    name: str
    pos: int


Token = Text | StartTag | EndTag


def decode_entities(text: str) -> str:
    """Decode ``&amp;``, ``&#233;`` and friends; leave a bare ``&`` (as in "Tom & Jerry") alone."""
    if "&" not in text:
        return text

    def replace(m: re.Match[str]) -> str:
        body = m.group(1)
        if body.startswith("#"):
            code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
            if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                return m.group(0)
            return chr(code)
        return html5.get(body + ";", m.group(0))

    return _ENTITY.sub(replace, text)


def starts_with_tag(src: SourceText) -> bool:
    """Whether the first significant thing in the source is an element: the mark of markup input.

    Leading whitespace, comments, ``<?xml …?>`` and ``<!DOCTYPE …>`` are skipped. An unclosed comment
    or instruction at the start counts as markup, so that the markup scanner reports it.
    """
    text = src.text
    i = 0
    while True:
        i = _skip_space(text, i)
        kind = _classify(text, i)
        if kind in ("comment", "declaration", "instruction"):
            end = text.find(_CLOSERS[kind], i + 2)
            if end < 0:
                return True
            i = end + len(_CLOSERS[kind])
            continue
        return kind == "start"


def _classify(text: str, lt: int) -> str | None:
    """What the ``<`` at ``lt`` opens, or None when it is just a less-than sign in the text."""
    if lt >= len(text) or text[lt] != "<":
        return None
    nxt = text[lt + 1: lt + 2]
    if nxt and (nxt.isascii() and nxt.isalpha() or nxt == "_"):
        return "start"
    if nxt == "/" and _NAME.match(text, lt + 2):
        return "end"
    if text.startswith("<!--", lt):
        return "comment"
    if text.startswith("<![CDATA[", lt):
        return "cdata"
    if nxt == "!" and text[lt + 2: lt + 3].isalpha():
        return "declaration"
    if nxt == "?":
        return "instruction"
    return None


_CLOSERS = {"comment": "-->", "cdata": "]]>", "declaration": ">", "instruction": "?>"}
_WHAT = {"comment": "comment <!--", "cdata": "<![CDATA[ section", "declaration": "declaration <!",
         "instruction": "<? instruction"}


def tokenize(src: SourceText, *, markup: bool, known_tags: tuple[str, ...]) -> Iterator[Token]:
    """Yield tokens in order.

    With ``markup=False`` (plain-text input) only comments, instructions and CDATA are recognised; a
    ``<`` is otherwise literal text, except that one of ``known_tags`` raises an error saying that
    markup needs a ``<speak>`` around it.
    """
    text = src.text
    n = len(text)
    text_start = 0
    i = 0
    while True:
        lt = text.find("<", i)
        if lt < 0:
            break
        kind = _classify(text, lt)
        if kind is None:
            i = lt + 1
            continue
        if kind in ("start", "end"):
            if not markup:
                m = _NAME.match(text, lt + (1 if kind == "start" else 2))
                name = m.group(0).lower() if m else ""
                if name in known_tags:
                    raise src.error(lt, f"<{name}> is markup, and markup must be inside "
                                        f"<speak voice=\"…\" gender=\"…\">…</speak> (or an SSML "
                                        f"<speak version=\"1.1\">…</speak>)")
                i = lt + 1
                continue
            if lt > text_start:
                yield Text(text[text_start:lt], text_start)
            token, i = _read_start_tag(src, lt) if kind == "start" else _read_end_tag(src, lt)
            yield token
            text_start = i
            continue
        closer = _CLOSERS[kind]
        opener_len = 9 if kind == "cdata" else 2
        end = text.find(closer, lt + opener_len)
        if end < 0:
            if not markup:  # plain text: "<?" or "<!--" without an end is just text
                i = lt + 1
                continue
            raise src.error(lt, f"{_WHAT[kind]} is not closed: {closer} is missing")
        if lt > text_start:
            yield Text(text[text_start:lt], text_start)
        if kind == "cdata":
            yield Text(text[lt + opener_len:end], lt + opener_len, literal=True)
        i = text_start = end + len(closer)
    if text_start < n:
        yield Text(text[text_start:], text_start)


def _skip_space(text: str, i: int) -> int:
    m = _SPACE.match(text, i)
    return m.end() if m else i


def _read_end_tag(src: SourceText, lt: int) -> tuple[EndTag, int]:
    text = src.text
    m = _NAME.match(text, lt + 2)
    assert m is not None  # _classify checked
    name = m.group(0).lower()
    i = _skip_space(text, m.end())
    if i >= len(text) or text[i] != ">":
        raise src.error(lt, f"</{name}> is missing its closing '>'")
    return EndTag(name, lt), i + 1


def _read_start_tag(src: SourceText, lt: int) -> tuple[StartTag, int]:
    text = src.text
    n = len(text)
    m = _NAME.match(text, lt + 1)
    assert m is not None  # _classify checked
    name = m.group(0).lower()
    i = m.end()
    attrs: list[Attr] = []
    while True:
        i = _skip_space(text, i)
        if i >= n:
            raise src.error(lt, f"<{name}> tag is not closed: '>' is missing")
        c = text[i]
        if c == ">":
            return StartTag(name, tuple(attrs), False, lt), i + 1
        if c == "/":
            j = _skip_space(text, i + 1)
            if j < n and text[j] == ">":
                return StartTag(name, tuple(attrs), True, lt), j + 1
            raise src.error(i, f"unexpected '/' in <{name}> tag")
        if c == "<":
            raise src.error(lt, f"<{name}> tag is not closed: '>' is missing before {src.where(i)}")
        am = _NAME.match(text, i)
        if am is None:
            hint = " (is a quote missing before it?)" if c in _DOUBLE_QUOTES + _SINGLE_QUOTES else ""
            raise src.error(i, f"unexpected {c!r} in <{name}> tag{hint}")
        attr_name = am.group(0).lower()
        i = _skip_space(text, am.end())
        if i >= n or text[i] != "=":
            raise src.error(am.start(), f"attribute {attr_name} of <{name}> needs a value, "
                                        f"like {attr_name}=\"…\"")
        i = _skip_space(text, i + 1)
        value, value_pos, i = _read_value(src, i, name, attr_name)
        attrs.append(Attr(attr_name, decode_entities(value), am.start(), value_pos))


def _read_value(src: SourceText, i: int, tag: str, attr: str) -> tuple[str, int, int]:
    """Read a quoted (straight or smart quotes) or bare attribute value; return (value, pos, next)."""
    text = src.text
    n = len(text)
    if i >= n:
        raise src.error(i, f"attribute {attr} of <{tag}> needs a value")
    c = text[i]
    if c in _DOUBLE_QUOTES or c in _SINGLE_QUOTES:
        # A value never holds a tag, so reaching "<" means the closing quote was forgotten.
        end = (_DOUBLE_END if c in _DOUBLE_QUOTES else _SINGLE_END).search(text, i + 1)
        j = end.start() if end else n
        if j >= n or text[j] == "<":
            raise src.error(i, f"the quote that starts the value of {attr} in <{tag}> is not closed")
        value = text[i + 1: j]
        runs_into = _RUNS_INTO.search(value)
        if runs_into:  # voice="Old man gender="male": the value swallowed the next attribute's name
            raise src.error(i, f"the value of {attr} in <{tag}> is missing its closing quote "
                               f"(it runs into {runs_into.group(1)}=)")
        return value, i + 1, j + 1
    bare = _BARE_VALUE.match(text, i)
    j = bare.end() if bare else i
    if j == i:
        raise src.error(i, f"attribute {attr} of <{tag}> needs a value, like {attr}=\"…\"")
    return text[i:j], i, j
