"""SSML 1.1 input (W3C Speech Synthesis Markup Language), mapped onto the same :class:`Script` model.

Detected by :func:`is_ssml`: the document's root is ``<speak>`` with the SSML namespace or a ``version``,
or a bare ``<speak>`` holding none of our own attributes and elements (Polly and Google write it that way).

How each element becomes the model (so directions, voices, timestamps and the Performer work unchanged):

=================  ==================================================================================
``speak``          the default speaker (voice and gender left to the caller); ``xml:lang`` sets language
``voice``          another speaker: ``name`` (a voice name or a free-text description), ``gender``, ``age``
``lang``/xml:lang  the language of the words inside
``p`` / ``s``      a paragraph pause after a paragraph; a sentence gets its full stop if it has none
``break``          a :class:`PauseSegment` (``time``, or ``strength``: weak ones are a comma instead)
``prosody``        :class:`Prosody` on the segments inside (rate, pitch, range, volume, contour)
``emphasis``       an emphasis annotation on the words (``strong``/``moderate``/``reduced``/``none``)
``say-as``         the words to speak (:mod:`limelight.text.sayas`)
``sub``            the ``alias`` is spoken
``phoneme``        a pronunciation annotation (``alphabet`` ipa or x-sampa)
``mark``           a :class:`Mark` on the script (no effect on the audio)
``audio``          an :class:`AudioSegment` for a local file; a URL or a missing file speaks the fallback
``desc``, ``lexicon``, ``meta``, ``metadata``: kept out of the audio; ``lexicon`` is reported (use --lexicon)
=================  ==================================================================================

Anything understood but not performed is a :class:`Note` (reported as ``not_applied``). Malformed markup
and bad values raise :class:`ScriptError` with the line and column of the element or value.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from ..errors import ScriptError
from ..text import inline
from ..text.lexicon import check_ipa, xsampa_to_ipa
from ..text.sayas import SayAsError, say_as
from ..text.sentences import split_sentences
from . import schema
from .lexer import Attr, EndTag, SourceText, StartTag, Text, decode_entities, tokenize
from .model import (
    AudioSegment,
    Mark,
    Note,
    PauseSegment,
    Prosody,
    Script,
    Segment,
    Speaker,
    TextSegment,
)

SSML_NAMESPACE = "http://www.w3.org/2001/10/synthesis"
# Voice names of other services (Azure, Google, Polly), which no description or library name here matches.
_VENDOR_GENDERS: dict[str, str] = {
    **dict.fromkeys(("jenny", "aria", "ava", "emma", "michelle", "nancy", "sara", "jane", "amber", "ashley",
                     "cora", "elizabeth", "monica", "sonia", "libby", "maisie", "natasha", "clara", "joanna", "salli",
                     "kendra", "kimberly", "ivy", "amy", "olivia", "ruth", "danielle", "nicole", "raveena",
                     "aditi", "celine", "lea", "vicki", "marlene", "conchita", "lucia", "mizuki", "seoyeon",
                     "zhiyu", "xiaoxiao", "nanami", "denise", "katja", "elvira"), "female"),
    **dict.fromkeys(("guy", "davis", "tony", "jason", "andrew", "brian", "christopher", "eric", "brandon",
                     "roger", "steffan", "ryan", "thomas", "william", "liam", "matthew", "joey", "justin",
                     "kevin", "stephen", "russell", "geraint", "mathieu", "hans", "enrique", "miguel",
                     "giorgio", "takumi", "henri", "conrad", "alvaro", "yunxi", "keita"), "male"),
}
_VENDOR_VOICE = re.compile(r"^[a-z]{2,3}-[A-Z]{2,4}-|Neural$|Wavenet|Standard-[A-Z]$|Studio-|Polyglot|Journey",
                           re.IGNORECASE)
DEFAULT_LANGUAGE = "en"
PARAGRAPH_PAUSE_S = 0.7

ELEMENTS: dict[str, tuple[str, ...]] = {
    "speak": ("version", "xmlns", "xml:lang", "lang", "xml:base", "onlangfailure"),
    "voice": ("name", "gender", "age", "variant", "languages", "xml:lang", "required", "ordering",
              "onvoicefailure"),
    "lang": ("xml:lang", "onlangfailure"),
    "p": ("xml:lang",),
    "paragraph": ("xml:lang",),
    "s": ("xml:lang",),
    "sentence": ("xml:lang",),
    "break": ("time", "strength"),
    "prosody": ("rate", "pitch", "volume", "range", "contour", "duration"),
    "emphasis": ("level",),
    "say-as": ("interpret-as", "format", "detail"),
    "sub": ("alias",),
    "phoneme": ("ph", "alphabet", "type"),
    "mark": ("name",),
    "audio": ("src", "fetchtimeout", "fetchhint", "maxage", "maxstale", "clipbegin", "clipend", "repeatcount",
              "repeatdur", "soundlevel", "speed"),
    "desc": ("xml:lang",),
    "lexicon": ("uri", "xml:id", "type", "fetchtimeout", "fetchhint", "maxage", "maxstale"),
    "lookup": ("ref",),
    "meta": ("name", "content", "http-equiv"),
    "metadata": (),
    "token": ("xml:lang",),
    "w": ("xml:lang", "role"),
}
# Attributes that are understood but have no effect here (reported once each).
_IGNORED_ATTRS = {"onlangfailure", "onvoicefailure", "required", "ordering", "variant", "languages", "detail",
                  "fetchtimeout", "fetchhint", "maxage", "maxstale", "xml:base", "role", "type"}
# Elements whose content is text only (collected, then turned into words at the end tag).
_FLUSHES = ("voice", "lang", "p", "paragraph", "prosody", "speak", "audio")
_COLLECTS = ("say-as", "sub", "phoneme", "desc", "meta", "metadata", "lexicon", "lookup")

BREAK_STRENGTH_S: dict[str, float] = {"none": 0.0, "x-weak": 0.1, "weak": 0.2, "medium": 0.4, "strong": 0.7,
                                      "x-strong": 1.2}
RATES: dict[str, float] = {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "default": 1.0, "fast": 1.25,
                           "x-fast": 1.5}
PITCHES: dict[str, float] = {"x-low": -4.0, "low": -2.0, "medium": 0.0, "default": 0.0, "high": 2.0,
                             "x-high": 4.0}
RANGES: dict[str, float] = {"x-low": 0.4, "low": 0.7, "medium": 1.0, "default": 1.0, "high": 1.4, "x-high": 1.8}
VOLUMES: dict[str, float] = {"silent": -60.0, "x-soft": -12.0, "soft": -6.0, "medium": 0.0, "default": 0.0,
                             "loud": 4.0, "x-loud": 8.0}
NOMINAL_F0_HZ = 160.0  # for pitch changes given in Hz (the voice's real F0 is not known at parse time)
MAX_BREAK_S = schema.MAX_PAUSE_SECONDS


def is_ssml(src: SourceText) -> bool:
    """Whether the source is an SSML document rather than our own ``<speak voice=… gender=…>`` markup."""
    text = src.text
    m = re.search(r"<\s*speak\b([^>]*)>", text[:4000], re.IGNORECASE)
    if m is None or text[: m.start()].strip() and not _only_prolog(text[: m.start()]):
        return False
    attrs = m.group(1)
    if SSML_NAMESPACE in attrs or re.search(r"\bversion\s*=", attrs):
        return True
    ours = re.search(r"\b(voice|gender|scene|shot|register|name|language)\s*=", attrs)
    return ours is None and not re.search(r"<\s*(line|action|sound|pause|script)\b", text, re.IGNORECASE)


def _only_prolog(text: str) -> bool:
    rest = re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "", text, flags=re.DOTALL)
    return not rest.strip()


@dataclass
class _Frame:
    tag: str
    pos: int
    speaker: tuple[str | None, str | None] = (None, None)  # voice, gender
    language: str = DEFAULT_LANGUAGE
    prosody: Prosody = field(default_factory=Prosody)
    attrs: dict[str, Attr] = field(default_factory=dict)
    parts: list[str] = field(default_factory=list)
    emphasis: bool = False


class _SsmlParser:
    def __init__(self, src: SourceText, *, allow_audio_files: bool, base_dir: Path | None) -> None:
        self.src = src
        self.stack: list[_Frame] = []
        self.segments: list[Segment] = []
        self.speakers: dict[tuple[str | None, str | None], Speaker] = {}
        self.marks: list[Mark] = []
        self.open_marks: list[Mark] = []
        self.notes: list[Note] = []
        self.pending: list[tuple[str, int]] = []  # text pieces and the offset of their first word
        self.pause = 0.0  # silence owed before the next speech
        self.pause_explicit = False
        self.root_language = DEFAULT_LANGUAGE
        self.allow_audio_files = allow_audio_files
        self.base_dir = base_dir
        self.seen_root = False

    # -- results ---------------------------------------------------------------------------------
    def run(self) -> Script:
        for token in tokenize(self.src, markup=True, known_tags=tuple(ELEMENTS)):
            if isinstance(token, Text):
                self._text(token)
            elif isinstance(token, StartTag):
                self._start(token)
            else:
                self._end(token)
        if self.stack:
            top = self.stack[-1]
            raise self.src.error(top.pos, f"<{top.tag}> is not closed: </{top.tag}> is missing")
        self._flush()
        if self.pause_explicit and self.pause > 0:
            line, col = self.src.line_col(len(self.src.text))
            self.segments.append(PauseSegment(self.pause, line, col))
        last = max((i for i, seg in enumerate(self.segments) if isinstance(seg, TextSegment)), default=-1)
        for m in self.open_marks:  # marks after the last words: at its end
            end = len(self.segments[last].written) if last >= 0 else 0  # type: ignore[union-attr]
            self.marks.append(replace(m, segment=max(last, 0), offset=end))
        if not any(isinstance(s, TextSegment | AudioSegment) for s in self.segments):
            raise ScriptError("the SSML document has nothing to say: put words inside <speak>", line=1, col=1)
        speakers = tuple(self.speakers.values())
        return Script(speakers=speakers, segments=tuple(self.segments), scene=None, shot=None,
                      language=self.root_language, source_is_markup=True, marks=tuple(self.marks),
                      notes=tuple(self.notes), ssml=True)

    def note(self, pos: int, fld: str, reason: str) -> None:
        line, col = self.src.line_col(pos)
        entry = Note(fld, reason, line, col)
        if not any(n.field == fld and n.reason == reason for n in self.notes):
            self.notes.append(entry)

    @property
    def frame(self) -> _Frame:
        return self.stack[-1]

    # -- tokens ----------------------------------------------------------------------------------
    def _text(self, token: Text) -> None:
        raw = token.raw if token.literal else decode_entities(token.raw)
        if not self.stack:
            stripped = token.raw.strip()
            if stripped:
                pos = token.pos + token.raw.index(stripped[0])
                raise self.src.error(pos, "text outside <speak>: an SSML document's words go inside <speak>")
            return
        top = self.frame
        if top.tag in _COLLECTS or top.tag == "audio":
            top.parts.append(raw)
            return
        if top.tag == "break" or top.tag == "mark":
            if raw.strip():
                raise self.src.error(token.pos, f"<{top.tag}> holds no text: write <{top.tag} …/>")
            return
        if not token.literal:  # *word* / **word**: our light emphasis, here too (&#42; is a literal star)
            from .parse import star_emphasis

            raw = decode_entities(star_emphasis(token.raw))
        self._speech(raw, token.pos + (len(token.raw) - len(token.raw.lstrip())))

    def _speech(self, text: str, pos: int) -> None:
        if text.strip():
            self._owe_pause(pos)
        self.pending.append((text, pos if text.strip() else -1))

    def _owe_pause(self, pos: int) -> None:
        """Emit the silence owed (a break, a paragraph end) before new speech."""
        if self.pause > 0:
            self._flush()
            line, col = self.src.line_col(pos)
            self.segments.append(PauseSegment(round(self.pause, 3), line, col))
        self.pause, self.pause_explicit = 0.0, False

    def _flush(self) -> None:
        if not self.pending:
            return
        text = re.sub(r"\s+(?=[.,!?;:…](?:\s|$))", "", schema.collapse("".join(p for p, _ in self.pending)))
        starts = [p for piece, p in self.pending if p >= 0]
        self.pending.clear()
        written = inline.strip(text).strip()
        if not written:
            return  # open marks wait for the next words
        if not any(ch.isalnum() for ch in written):  # "</prosody>." : the punctuation ends the words before it
            last = self.segments[-1] if self.segments else None
            if isinstance(last, TextSegment):
                self.segments[-1] = replace(last, text=last.text + written)
            return
        # The context is the innermost frame's at the time of flushing (every context change flushes first).
        frame = self.frame if self.stack else _Frame("speak", 0)
        line, col = self.src.line_col(starts[0] if starts else frame.pos)
        prosody = frame.prosody if not frame.prosody.is_neutral else None
        if prosody is not None and prosody.contour:
            # The contour rides in the text, per sentence (each sentence is synthesised on its own).
            # The closing marker goes before the sentence's final punctuation, so the sentence splitter still
            # sees where each sentence ends.
            text = " ".join(inline.contour(m.group(1), prosody.contour) + m.group(2)
                            for m in (re.fullmatch(r"(.*?)([.!?…]*[\"'”’)\]]*)", sentence, re.DOTALL)
                                      for sentence in split_sentences(text)) if m is not None)
        self.marks.extend(replace(m, segment=len(self.segments), offset=min(m.offset, len(inline.strip(text))))
                          for m in self.open_marks)
        self.open_marks.clear()
        self.segments.append(TextSegment(text, self._speaker_id(frame), None, None, frame.language, line, col,
                                         prosody=prosody))

    def _speaker_id(self, frame: _Frame) -> str:
        key = frame.speaker
        if key not in self.speakers:
            self.speakers[key] = Speaker(f"speaker{len(self.speakers) + 1}", key[0], key[1], frame.language)
        return self.speakers[key].id

    def _check_attrs(self, tag: StartTag) -> dict[str, Attr]:
        allowed = ELEMENTS[tag.name]
        found: dict[str, Attr] = {}
        for attr in tag.attrs:
            name = attr.name
            if name.startswith("xmlns") or name in ("xsi:schemalocation", "xmlns:xsi"):
                continue
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.75)
                if close:  # a typo of a real attribute: say so rather than ignore what the author meant
                    listed = ", ".join(a for a in allowed if a != "xmlns")
                    raise self.src.error(attr.pos, f"<{tag.name}> has no attribute {attr.name} (did you mean "
                                                   f"{close[0]}?); allowed attributes: {listed}")
                why = "vendor attribute" if ":" in name else "not an SSML 1.1 attribute of this element"
                self.note(attr.pos, f"{tag.name}@{name}", f"{why}; ignored")
                continue
            if name in found:
                raise self.src.error(attr.pos, f"attribute {name} is given twice in <{tag.name}>")
            if name in _IGNORED_ATTRS:
                self.note(attr.pos, f"{tag.name}@{name}", "understood but has no effect in this engine")
            found[name] = attr
        return found

    def _start(self, tag: StartTag) -> None:
        name = tag.name
        if name not in ELEMENTS:
            close = difflib.get_close_matches(name, tuple(ELEMENTS), n=1, cutoff=0.75) if ":" not in name else []
            if close or not self.stack:  # a typo of a real element: an error that names both
                known = ", ".join(f"<{t}>" for t in ELEMENTS)
                hint = f" (did you mean <{close[0]}>?)" if close else ""
                raise self.src.error(tag.pos, f"unknown SSML element <{name}>{hint}; known elements: {known}")
            # A vendor extension (amazon:effect, mstts:express-as) or another dialect's element (Google's
            # <par>, <seq>, <media>): reported, and its words are spoken in the surrounding context.
            why = "vendor SSML extension" if ":" in name else "not an SSML 1.1 element"
            self.note(tag.pos, name, f"{why}; its content is spoken plainly")
            if self.frame.tag in _COLLECTS:
                raise self.src.error(tag.pos, f"<{self.frame.tag}> holds text only, not <{name}>")
            if not tag.self_closing:
                self.stack.append(replace(self.frame, tag=name, pos=tag.pos, attrs={}, parts=[], emphasis=False))
            return
        if not self.stack:
            if name != "speak" or self.seen_root:
                raise self.src.error(tag.pos, f"an SSML document is one <speak> element, not <{name}>")
        elif name == "speak" and self.frame.tag not in ELEMENTS:  # Google's <media><speak>…</speak></media>
            self.stack.append(replace(self.frame, tag=name, pos=tag.pos, attrs={}, parts=[], emphasis=False))
            return
        elif name == "speak":
            raise self.src.error(tag.pos, f"<speak> cannot be inside <{self.frame.tag}> "
                                          f"({self.src.where(self.frame.pos)})")
        elif self.frame.tag in _COLLECTS:
            raise self.src.error(tag.pos, f"<{self.frame.tag}> holds text only, not <{name}>")
        self.seen_root = True
        attrs = self._check_attrs(tag)
        parent = self.stack[-1] if self.stack else _Frame("", 0)
        frame = replace(parent, tag=name, pos=tag.pos, attrs=attrs, parts=[], emphasis=False)
        handler = getattr(self, "_open_" + name.replace("-", "_"), None)
        if name in _FLUSHES:
            self._flush()
        if "xml:lang" in attrs or ("lang" in attrs and name == "speak"):
            frame.language = self._language(attrs.get("xml:lang") or attrs["lang"], parent.language,
                                            root=name == "speak")
            if name == "speak":
                self.root_language = frame.language
        if handler is not None:
            handler(frame)
        if tag.self_closing:
            self._close(frame)
        else:
            self.stack.append(frame)

    def _end(self, tag: EndTag) -> None:
        name = tag.name
        if not self.stack:
            raise self.src.error(tag.pos, f"</{name}> closes nothing: no <{name}> is open")
        top = self.stack[-1]
        if top.tag != name:
            raise self.src.error(tag.pos, f"</{name}> does not match the open <{top.tag}> "
                                          f"({self.src.where(top.pos)})")
        if name in _FLUSHES:
            self._flush()  # the words so far belong to this element's context
        self.stack.pop()
        self._close(top, tag.pos)

    def _close(self, frame: _Frame, end_pos: int | None = None) -> None:
        closer = getattr(self, "_close_" + frame.tag.replace("-", "_"), None)
        if closer is not None:
            closer(frame)

    # -- values ----------------------------------------------------------------------------------
    def _language(self, attr: Attr, parent: str, root: bool) -> str:
        from ..text.phonemes import ESPEAK_VOICES

        code = schema.language(self.src, attr)
        key = code.lower()
        if key in ESPEAK_VOICES:
            return key if key == "en-gb" else key.split("-")[0]
        primary = key.split("-")[0]
        if primary in ESPEAK_VOICES:
            return primary
        supported = ", ".join(sorted(ESPEAK_VOICES))
        if root:
            raise self.src.error(attr.value_pos, f"xml:lang \"{code}\" is not a supported language "
                                                 f"(supported: {supported})")
        self.note(attr.value_pos, "xml:lang", f"language \"{code}\" is not supported; spoken as \"{parent}\"")
        return parent

    def _bad(self, attr: Attr, tag: str, expected: str) -> ScriptError:
        return bad_value(self.src, attr, tag, expected)

    def _seconds(self, attr: Attr, tag: str) -> float:
        return time_seconds(self.src, attr, tag)

    def _rate(self, attr: Attr) -> float:
        raw = schema.collapse(attr.value).lower()
        if raw in RATES:
            return RATES[raw]
        m = re.fullmatch(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)\s*(%?)", raw)
        if m is None:
            raise self._bad(attr, "prosody", "x-slow, slow, medium, fast, x-fast, a percentage (\"80%\", "
                                             "\"+20%\") or a multiplier (\"1.2\")")
        value = float(m.group(2))
        if m.group(3):
            value = 1.0 + (value / 100.0 if m.group(1) == "+" else -value / 100.0) if m.group(1) else value / 100.0
        elif m.group(1):
            value = 1.0 + (value if m.group(1) == "+" else -value)
        if not (math.isfinite(value) and 0.2 <= value <= 5.0):
            raise self.src.error(attr.value_pos, f"rate=\"{raw}\" of <prosody> is out of range "
                                                 "(0.2 to 5 times the normal rate)")
        return value

    def _semitones(self, raw: str, attr: Attr, names: dict[str, float], what: str) -> float:
        if raw in names:
            return names[raw]
        m = re.fullmatch(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)\s*(st|hz|%)", raw)
        if m is None:
            raise self._bad(attr, "prosody", f"{what}: x-low, low, medium, high, x-high, or a change such as "
                                             "\"+2st\", \"-10%\", \"+20Hz\" (or an absolute \"180Hz\")")
        value, unit, sign = float(m.group(2)), m.group(3), m.group(1)
        if unit == "st":
            st = value if sign != "-" else -value
        elif unit == "%":
            ratio = 1.0 + (value / 100.0 if sign != "-" else -value / 100.0)
            if ratio <= 0:
                raise self.src.error(attr.value_pos, f"{what}=\"{raw}\" lowers the pitch below zero")
            st = 12.0 * math.log2(ratio)
        else:
            hz = NOMINAL_F0_HZ + (value if sign == "+" else -value) if sign else value
            if hz <= 0:
                raise self.src.error(attr.value_pos, f"{what}=\"{raw}\" lowers the pitch below zero")
            st = 12.0 * math.log2(hz / NOMINAL_F0_HZ)
            self.note(attr.value_pos, f"prosody@{attr.name}", f"Hz values are taken relative to "
                                                               f"{NOMINAL_F0_HZ:g} Hz, not the voice's own F0")
        return max(-12.0, min(12.0, st))

    def _volume(self, attr: Attr) -> float:
        raw = schema.collapse(attr.value).lower()
        if raw in VOLUMES:
            return VOLUMES[raw]
        m = re.fullmatch(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)\s*(db)?", raw)
        if m is None:
            raise self._bad(attr, "prosody", "silent, x-soft, soft, medium, loud, x-loud, \"+6dB\"/\"-3dB\" or "
                                             "a level 0–100")
        value = float(m.group(2))
        if m.group(3):
            return max(-40.0, min(12.0, value if m.group(1) != "-" else -value))
        if m.group(1):  # "+10" without a unit: SSML 1.0's relative level on 0–100
            value = 100.0 + (value if m.group(1) == "+" else -value)
        if not 0.0 <= value <= 100.0:
            raise self.src.error(attr.value_pos, f"volume=\"{raw}\" of <prosody> is outside 0–100")
        return -60.0 if value == 0 else 20.0 * math.log10(value / 100.0)

    # -- elements --------------------------------------------------------------------------------
    def _open_speak(self, frame: _Frame) -> None:
        version = frame.attrs.get("version")
        if version is not None and schema.collapse(version.value) not in ("1.0", "1.1"):
            self.note(version.value_pos, "speak@version", f"SSML version {version.value} read as 1.1")

    def _open_voice(self, frame: _Frame) -> None:
        attrs = frame.attrs
        name = schema.description(self.src, attrs["name"], "voice") if "name" in attrs else None
        gender = None
        if "gender" in attrs:
            value = schema.collapse(attrs["gender"].value).lower()
            if value not in ("male", "female", "neutral"):
                raise self._bad(attrs["gender"], "voice", "male, female or neutral")
            if value == "neutral":
                self.note(attrs["gender"].value_pos, "voice@gender", "no neutral voice; the default voice is used")
            else:
                gender = value
        if "age" in attrs:
            age = schema.collapse(attrs["age"].value)
            if not age.isdigit():
                raise self._bad(attrs["age"], "voice", "a whole number of years")
            who = {"male": "man", "female": "woman"}.get(gender or "", "person")
            described = f"a {age}-year-old {who}"
            name = f"{name}, {described}" if name else described
        if name is not None and not _VENDOR_VOICE.search(name) and name.lower() in _VENDOR_GENDERS:
            gender = gender or _VENDOR_GENDERS[name.lower()]  # "Joanna": a library voice of that name, else designed
        elif name is not None and _VENDOR_VOICE.search(name):
            # en-US-JennyNeural, Joanna, en-GB-Wavenet-A: another service's voice. Its gender is kept when the
            # name is a well-known one, so a dialogue written for that service keeps its men and women apart.
            first = re.sub(r"^[a-z]{2,3}-[a-z]{2,4}-", "", name.lower())
            first = re.sub(r"(multilingual)?neural$|-?(standard|wavenet|studio|journey|polyglot).*$", "", first)
            gender = gender or _VENDOR_GENDERS.get(first)
            self.note(attrs["name"].value_pos, "voice@name",
                      f"\"{name}\" is another service's voice; a shipped {gender or 'default'} voice is used")
            name = None
        if name is None and gender is None and "xml:lang" not in attrs:
            self.note(frame.pos, "voice", "<voice> names no voice, gender or age; the voice is unchanged")
            return
        frame.speaker = (name, gender)

    def _open_prosody(self, frame: _Frame) -> None:
        attrs = frame.attrs
        rate = self._rate(attrs["rate"]) if "rate" in attrs else 1.0
        pitch = 0.0
        if "pitch" in attrs:
            pitch = self._semitones(schema.collapse(attrs["pitch"].value).lower(), attrs["pitch"], PITCHES, "pitch")
        rng = 1.0
        if "range" in attrs:
            raw = schema.collapse(attrs["range"].value).lower()
            if raw in RANGES:
                rng = RANGES[raw]
            else:
                rng = max(0.2, min(3.0, 2.0 ** (self._semitones(raw, attrs["range"], {}, "range") / 6.0)))
        volume = self._volume(attrs["volume"]) if "volume" in attrs else 0.0
        if volume < -20.0:
            shown = schema.collapse(attrs["volume"].value)
            self.note(attrs["volume"].value_pos, "prosody@volume",
                      f"{shown} is rendered 20 dB down (the quietest a direction goes)")
        contour: tuple[tuple[float, float], ...] = ()
        if "contour" in attrs:
            contour = self._contour(attrs["contour"])  # applied per sentence on the model's F0 (see _flush)
        if "duration" in attrs:
            self._seconds(attrs["duration"], "prosody")
            self.note(attrs["duration"].value_pos, "prosody@duration",
                      "a target duration is not applied; use rate instead")
        frame.prosody = frame.prosody.combine(Prosody(rate, pitch, rng, volume, contour))

    def _contour(self, attr: Attr) -> tuple[tuple[float, float], ...]:
        raw = schema.collapse(attr.value).lower()
        points = re.findall(r"\(\s*([^,()]+?)\s*,\s*([^()]+?)\s*\)", raw)
        if not points or re.sub(r"\(\s*[^,()]+?\s*,\s*[^()]+?\s*\)", "", raw).strip():
            raise self._bad(attr, "prosody", "points like \"(0%,+20Hz) (50%,+2st) (100%,-10%)\"")
        out = []
        for where, value in points:
            m = re.fullmatch(r"(\d+(?:\.\d*)?)%", where)
            if m is None or float(m.group(1)) > 100:
                raise self._bad(attr, "prosody", "positions between 0% and 100%")
            out.append((float(m.group(1)) / 100.0, self._semitones(value, attr, PITCHES, "contour")))
        return tuple(sorted(out))

    def _open_emphasis(self, frame: _Frame) -> None:
        level = emphasis_level(self.src, frame.attrs)
        inside = any(f.emphasis for f in self.stack)
        if level != "none" and not inside:
            self.pending.append((inline.EMPH_OPEN[level], -1))
            frame.emphasis = True

    def _close_emphasis(self, frame: _Frame) -> None:
        if frame.emphasis:
            self.pending.append((inline.EMPH_CLOSE, -1))

    def _open_break(self, frame: _Frame) -> None:
        seconds, comma = break_seconds(self.src, frame.attrs)
        if comma and self.pending:
            self.pending.append((",", -1))  # a prosodic phrase break inside the sentence, no cut
            return
        self.pause, self.pause_explicit = seconds, True  # a break replaces the default pause here
        if seconds > 0:
            self._flush()

    def _close_p(self, frame: _Frame) -> None:
        self._flush()
        if not self.pause_explicit:
            self.pause = max(self.pause, PARAGRAPH_PAUSE_S)

    _close_paragraph = _close_p

    def _close_s(self, frame: _Frame) -> None:
        text = inline.strip("".join(p for p, _ in self.pending)).rstrip()
        if text and text[-1] not in ".!?…;:。！？":
            self.pending.append((".", -1))
        self.pending.append((" ", -1))

    _close_sentence = _close_s

    def _close_say_as(self, frame: _Frame) -> None:
        words = say_as_words(self, frame.pos, frame.attrs, "".join(frame.parts), frame.language)
        if words:
            self._speech(f" {words} ", frame.pos)

    def _close_sub(self, frame: _Frame) -> None:
        self._speech(f" {sub_words(self.src, frame.pos, frame.attrs)} ", frame.pos)

    def _close_phoneme(self, frame: _Frame) -> None:
        self._speech(f" {phoneme_words(self, frame.pos, frame.attrs, ''.join(frame.parts))} ", frame.pos)

    def _open_mark(self, frame: _Frame) -> None:
        if "name" not in frame.attrs:
            raise self.src.error(frame.pos, "<mark> needs name=\"…\"")
        name = schema.description(self.src, frame.attrs["name"], "mark")
        raw = inline.strip("".join(p for p, _ in self.pending))
        text = schema.collapse(raw)
        offset = len(text) + (1 if text and raw[-1:].isspace() else 0)
        line, col = self.src.line_col(frame.pos)
        self.open_marks.append(Mark(name, -1, offset, line, col))  # its segment is known when the text is

    def _close_audio(self, frame: _Frame) -> None:
        attrs = frame.attrs
        fallback = schema.collapse("".join(frame.parts))
        if "src" not in attrs:
            raise self.src.error(frame.pos, "<audio> needs src=\"…\"")
        src = schema.collapse(attrs["src"].value)
        reason = None
        path: Path | None = None
        if re.match(r"[a-z][a-z0-9+.\-]*://", src, re.IGNORECASE) and not src.lower().startswith("file://"):
            reason = "audio is not fetched from URLs"
        elif not self.allow_audio_files:
            reason = "local audio files are not read here (server requests)"
        else:
            path = Path(src[7:] if src.lower().startswith("file://") else src).expanduser()
            if not path.is_absolute() and self.base_dir is not None:
                path = self.base_dir / path
            if not path.is_file():
                reason = f"audio file {src} does not exist"
        if reason is not None:
            self.note(attrs["src"].value_pos, "audio", reason + ("; its fallback text is spoken" if fallback else ""))
            if fallback:
                self._speech(f" {fallback} ", frame.pos)
            return
        assert path is not None
        self._owe_pause(frame.pos)
        self._flush()
        line, col = self.src.line_col(frame.pos)
        self.segments.append(AudioSegment(str(path), fallback, self._speaker_id(frame), line, col))

    def _open_lexicon(self, frame: _Frame) -> None:
        self.note(frame.pos, "lexicon", "<lexicon> is not fetched; pass the file with --lexicon or the "
                                        "request's lexicon field")

    def _open_lookup(self, frame: _Frame) -> None:
        self.note(frame.pos, "lookup", "<lookup> has no effect (lexicons apply to the whole request)")

    def _close_lookup(self, frame: _Frame) -> None:
        self._speech(" " + "".join(frame.parts) + " ", frame.pos)


def parse_ssml(source: str | SourceText, *, allow_audio_files: bool = False, base_dir: Path | None = None) -> Script:
    """Parse an SSML document (see the module docstring for the mapping)."""
    src = source if isinstance(source, SourceText) else SourceText(source)
    return _SsmlParser(src, allow_audio_files=allow_audio_files, base_dir=base_dir).run()


# -- elements shared with our own <speak> markup (parse.py) ------------------------------------------------
class Host(Protocol):
    """What the element readers below need from a parser: the source (for errors) and a way to note."""

    src: SourceText

    def note(self, pos: int, fld: str, reason: str) -> None: ...


def bad_value(src: SourceText, attr: Attr, tag: str, expected: str) -> ScriptError:
    return src.error(attr.value_pos, f"{attr.name}=\"{schema.collapse(attr.value)}\" of <{tag}> is not "
                                     f"valid: expected {expected}")


def time_seconds(src: SourceText, attr: Attr, tag: str) -> float:
    raw = schema.collapse(attr.value).lower()
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)", raw)
    if m is None:
        raise bad_value(src, attr, tag, "a time such as \"500ms\" or \"1.5s\"")
    value = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
    if value > MAX_BREAK_S:
        raise src.error(attr.value_pos, f"time=\"{raw}\" of <{tag}> is longer than the "
                                        f"{MAX_BREAK_S:g} s a pause may last")
    return value


def break_seconds(src: SourceText, attrs: dict[str, Attr]) -> tuple[float, bool]:
    """(seconds of silence, whether a comma inside the sentence does instead: the weak strengths)."""
    if "time" in attrs:
        return time_seconds(src, attrs["time"], "break"), False
    strength = schema.collapse(attrs["strength"].value).lower() if "strength" in attrs else "medium"
    if strength not in BREAK_STRENGTH_S:
        raise bad_value(src, attrs["strength"], "break", ", ".join(BREAK_STRENGTH_S))
    return BREAK_STRENGTH_S[strength], strength in ("x-weak", "weak")


def emphasis_level(src: SourceText, attrs: dict[str, Attr]) -> str:
    level = "moderate"
    if "level" in attrs:
        level = schema.collapse(attrs["level"].value).lower()
        if level not in ("strong", "moderate", "reduced", "none"):
            raise bad_value(src, attrs["level"], "emphasis", "strong, moderate, reduced or none")
    return level


def say_as_words(host: Host, pos: int, attrs: dict[str, Attr], text: str, language: str) -> str:
    """The words to speak for a ``<say-as>``; an unknown reading is noted and the text read as written."""
    src = host.src
    text = schema.collapse(text)
    if "interpret-as" not in attrs:
        raise src.error(pos, "<say-as> needs interpret-as=\"…\" (characters, cardinal, ordinal, digits, date, "
                             "time, telephone, currency …)")
    kind = schema.collapse(attrs["interpret-as"].value).lower()
    fmt = schema.collapse(attrs["format"].value) if "format" in attrs else None
    if not text:
        return ""
    if not language.startswith("en"):
        host.note(pos, "say-as", f"say-as readings are English only; \"{text}\" is read as written")
        return text
    try:
        return say_as(text, kind, fmt)
    except KeyError:
        host.note(attrs["interpret-as"].value_pos, f"say-as@interpret-as={kind}",
                  "not a reading this engine knows; the text is read as written")
        return text
    except SayAsError as exc:
        raise src.error(pos, f"<say-as interpret-as=\"{kind}\">: {exc}") from None


def sub_words(src: SourceText, pos: int, attrs: dict[str, Attr]) -> str:
    if "alias" not in attrs:
        raise src.error(pos, "<sub> needs alias=\"…\", the words to say instead")
    alias = schema.collapse(attrs["alias"].value)
    if not alias:
        raise src.error(attrs["alias"].value_pos, "alias of <sub> is empty")
    return alias


def phoneme_words(host: Host, pos: int, attrs: dict[str, Attr], written: str) -> str:
    """A pronunciation annotation for ``<phoneme ph="…">written</phoneme>`` (IPA or X-SAMPA, checked against
    Kokoro's symbols: an unknown symbol is an error naming it)."""
    src = host.src
    written = schema.collapse(written)
    if "ph" not in attrs:
        raise src.error(pos, "<phoneme> needs ph=\"…\" (the pronunciation)")
    alphabet = schema.collapse(attrs["alphabet"].value).lower() if "alphabet" in attrs else "ipa"
    ph = schema.collapse(attrs["ph"].value)
    if alphabet in ("x-sampa", "xsampa", "sampa"):
        ph = xsampa_to_ipa(ph)
    elif alphabet != "ipa":
        host.note(attrs["alphabet"].value_pos, f"phoneme@alphabet={alphabet}",
                  "only ipa and x-sampa are supported; the written word is spoken")
        return written
    ipa, bad = check_ipa(ph)
    if bad:
        raise src.error(attrs["ph"].value_pos, f"ph=\"{ph}\" of <phoneme> has symbol(s) {' '.join(bad)} that "
                                               "Kokoro does not know")
    if not ipa.strip():
        raise src.error(attrs["ph"].value_pos, "ph of <phoneme> is empty")
    return inline.pronounce(written or ipa, ipa=ipa)
