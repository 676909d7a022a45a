"""Parse ``<speak>`` markup (or plain text) into a :class:`~limelight.script.model.Script`.

The parser is a small state machine over the lexer's tokens with a stack of open elements. Each open
``<speak>``/``<line>`` carries the resolved context for the words inside it (speaker, language,
register, the action in effect), so every segment leaves here with plain values and later stages
never re-derive inheritance rules.

Scoping rules, chosen to match how people read a script:

- an ``<action>`` applies to the speech after it until the next ``<action>``; a new ``<speak>`` starts
  without one; a ``<line>`` starts with its ``<speak>``'s action, and an action inside a line ends with
  the line. An empty ``<action></action>`` clears the direction.
- a ``<line>`` inherits the attributes it leaves out from its ``<speak>``; ``name="…"`` identifies a
  speaker so that later lines can say ``<line name="anna">`` without repeating the voice.
- a scene persists until a later ``<speak>`` names another one (a :class:`SceneSegment` marks it).
- register: the action's ``register`` if it has one, else the line's, else the speak's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ScriptError
from ..text import inline
from . import schema
from .events import canonical_event, describe_known_events
from .lexer import Attr, EndTag, SourceText, StartTag, Text, decode_entities, starts_with_tag, tokenize
from .model import (
    EventSegment,
    Mark,
    Note,
    PauseSegment,
    SceneSegment,
    Script,
    Segment,
    SoundSegment,
    Speaker,
    TextSegment,
)

_INLINE_SSML = ("break", "emphasis", "say-as", "sub", "phoneme", "mark")
DEFAULT_LANGUAGE = "en"
DEFAULT_SPEAKER_ID = "speaker1"

# *word* (moderate) and **words** (strong): the light emphasis form of our markup and of plain text. A star
# must touch its word on the inside and not be inside a word on the outside, so "5 * 3" or "a*b" stay text;
# write &#42; for a literal star next to a word.
_STRONG = re.compile(r"(?<![\w*])\*\*(?=[^\s*])([^*\n\[\]]*?[^\s*])\*\*(?![\w*])")
_MODERATE = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n\[\]]*?[^\s*]|[^\s*])\*(?![\w*])")


_STRESS_VERB = re.compile(r"\b(?:stress(?:es|ing)?|emphasi[sz](?:e|es|ing)|accent(?:s|ing)?|lean(?:s|ing)? on|"
                          r"hit(?:s|ting)?|punch(?:es|ing)?)\s+(?:on\s+)?(?:the\s+word\s+)?"
                          r"[\"'“‘*]?([A-Za-z][\w'’-]*)", re.IGNORECASE)
_NOT_A_TARGET = frozenset("the a an every each all some his her their its my your our it this that these those "
                          "word words syllable syllables key important last first".split())
_STARRED = re.compile(r"\*([A-Za-z][\w'’-]*)\*")


def stressed_words(action: str | None) -> tuple[list[str], str]:
    """The words a free-text direction asks to stress (``stress *never*``, ``emphasise "mine"``, ``lean on
    'now'``) and the level: ``strong`` when it says hard/strongly/heavily, else ``moderate``."""
    if not action:
        return [], "moderate"
    found = [m.group(1) for m in _STARRED.finditer(action)]
    found += [m.group(1) for m in _STRESS_VERB.finditer(action) if m.group(1).lower() not in _NOT_A_TARGET]
    level = "strong" if re.search(r"\b(hard|strong(?:ly)?|heav(?:y|ily)|really)\b", action, re.I) else "moderate"
    return list(dict.fromkeys(found)), level


def stress_in(text: str, words: list[str], level: str) -> tuple[str, list[str]]:
    """``text`` with the first whole-word occurrence of each of ``words`` emphasised (not inside an existing
    annotation); returns the text and the words still waiting for an occurrence."""
    waiting = []
    for word in words:
        m = re.search(rf"(?<![\w\ue000-\ue2ff]){re.escape(word)}(?![\w\ue000-\ue2ff])", text, re.IGNORECASE)
        if m is None:
            waiting.append(word)
            continue
        text = text[: m.start()] + inline.emphasize(m.group(0), level) + text[m.end():]
    return text, waiting


def star_emphasis(raw: str) -> str:
    """``*word*``/``**word**`` → emphasis annotations (:mod:`limelight.text.inline`)."""
    if "*" not in raw:
        return raw
    raw = _STRONG.sub(lambda m: inline.emphasize(m.group(1), "strong"), raw)
    return _MODERATE.sub(lambda m: inline.emphasize(m.group(1), "moderate"), raw)


def parse(source: str, *, allow_audio_files: bool = False, base_dir: Path | None = None) -> Script:
    """Parse a script: SSML 1.1 (:mod:`.ssml`), our ``<speak>``/``<script>`` markup, or plain text spoken by
    one default voice.

    Raises :class:`~limelight.errors.ScriptError` (with 1-based ``line``/``col``) for anything that
    cannot be performed as written. ``allow_audio_files``/``base_dir``: whether SSML ``<audio>`` may read
    local files (not for server requests) and where relative paths start.
    """
    if not isinstance(source, str):
        raise ScriptError(f"a script must be text, not {type(source).__name__}")
    src = SourceText(source)
    if starts_with_tag(src):
        from .ssml import is_ssml, parse_ssml

        if is_ssml(src):
            return parse_ssml(src, allow_audio_files=allow_audio_files, base_dir=base_dir)
        return _MarkupParser(src).run()
    from .captions import expand_captions  # (woman, whispering): "…" lines, a shorthand for <speak> markup

    captions = expand_captions(source)
    if captions is not None:
        return _MarkupParser(SourceText(captions)).run()
    return _parse_plain(src)


@dataclass
class _Frame:
    """An open element and, for speak/line, the context of the words inside it."""

    tag: str
    pos: int
    attrs: dict[str, Attr]
    voice: str | None = None
    gender: str | None = None
    language: str = DEFAULT_LANGUAGE
    language_given: bool = False  # set by a language="…" attribute here or on what this frame inherits from
    register: str | None = None
    name: str | None = None
    action: str | None = None
    action_register: str | None = None
    speaker_id: str | None = None
    has_lines: bool = False
    parts: list[str] = field(default_factory=list)  # text of an <action>/<sound>
    stress: list[str] = field(default_factory=list)  # words the action in effect asks to stress, not yet met
    stress_level: str = "moderate"


@dataclass(frozen=True)
class _Declared:
    voice: str
    gender: str
    language: str
    pos: int
    language_given: bool = False


class _Segments:
    """Collects segments and speakers; shared by the markup and plain-text paths."""

    def __init__(self, src: SourceText) -> None:
        self.src = src
        self.segments: list[Segment] = []
        self.speakers: dict[str, Speaker] = {}
        self._ids_by_key: dict[tuple[str, ...], str] = {}
        self._pending: list[tuple[str, int]] = []  # buffered text pieces and their first-word offsets
        self._inline_words = False

    # -- speakers ---------------------------------------------------------------------------------
    def speaker_id(self, frame: _Frame, speech_pos: int) -> str:
        """The id of the speaker of ``frame``, registering the speaker on first speech."""
        if frame.speaker_id is not None:
            return frame.speaker_id
        for attr in ("voice", "gender"):
            if getattr(frame, attr) is None:
                raise self.src.error(frame.pos, f"<{frame.tag}> is missing the required attribute {attr} "
                                                f"(needed for the words at {self.src.where(speech_pos)})")
        assert frame.voice is not None and frame.gender is not None
        key = ("name", frame.name) if frame.name else ("voice", frame.voice, frame.gender)
        speaker_id = self._ids_by_key.get(key)
        if speaker_id is None:
            if frame.name:
                speaker_id = frame.name
                if speaker_id in self.speakers:
                    at = frame.attrs["name"].value_pos if "name" in frame.attrs else frame.pos
                    raise self.src.error(at, f"name \"{speaker_id}\" is already the id of another speaker")
            else:
                number = len(self.speakers) + 1
                while f"speaker{number}" in self.speakers:
                    number += 1
                speaker_id = f"speaker{number}"
            self._ids_by_key[key] = speaker_id
            self.speakers[speaker_id] = Speaker(speaker_id, frame.voice, frame.gender, frame.language,
                                                frame.name)
        frame.speaker_id = speaker_id
        return speaker_id

    # -- text and events --------------------------------------------------------------------------
    def speech(self, token: Text) -> None:
        """Buffer the words of a text token; emit its ``[events]`` in place; ``*word*`` is emphasis."""
        if token.literal:
            self._buffer(token.raw, token.pos)
            return
        raw = star_emphasis(token.raw)
        i = 0
        while True:
            open_at = raw.find("[", i)
            if open_at < 0:
                self._buffer(decode_entities(raw[i:]), token.pos + i, raw[i:])
                return
            self._buffer(decode_entities(raw[i:open_at]), token.pos + i, raw[i:open_at])
            close_at = raw.find("]", open_at + 1)
            if close_at < 0:
                raise self.src.error(token.pos + open_at,
                                     "'[' is not closed: events are written like [laugh]")
            self._event(decode_entities(raw[open_at + 1:close_at]), token.pos + open_at)
            i = close_at + 1

    def _buffer(self, text: str, pos: int, raw: str | None = None) -> None:
        raw = text if raw is None else raw
        stripped = raw.lstrip()
        first_word = pos + len(raw) - len(stripped) if stripped else -1
        self._pending.append((text, first_word))

    def _event(self, content: str, pos: int) -> None:
        self.flush()
        found = canonical_event(content)
        if found is None:
            shown = " ".join(content.split())
            raise self.src.error(pos, f"unknown event [{shown}]; known events: {describe_known_events()} "
                                      "(synonyms such as [laughter] or [sighs] work too; write &#91; for a "
                                      "literal '[')")
        event, manner = found
        frame = self.frame
        line, col = self.src.line_col(pos)
        self.segments.append(EventSegment(event, self.speaker_id(frame, pos), frame.action, line, col,
                                          spelled=" ".join(content.split()), manner=manner))

    def flush(self) -> None:
        """Turn buffered text into one :class:`TextSegment` (whitespace collapsed)."""
        if not self._pending:
            return
        text = schema.collapse("".join(piece for piece, _ in self._pending))
        if self._inline_words:  # " words " put in by an SSML element: no space before the next punctuation
            text = re.sub(r"\s+(?=[.,!?;:…](?:\s|$))", "", text)
            self._inline_words = False
        starts = [p for piece, p in self._pending if p >= 0 and piece.strip()]
        self._pending.clear()
        if not text:
            return
        pos = starts[0] if starts else 0
        frame = self.frame
        if frame.stress:  # "stress *never*" in the action: the next "never" is emphasised, in the model
            text, frame.stress = stress_in(text, frame.stress, frame.stress_level)
        line, col = self.src.line_col(pos)
        register = frame.action_register or frame.register
        self.segments.append(TextSegment(text, self.speaker_id(frame, pos), frame.action, register,
                                         frame.language, line, col,
                                         language_source="script" if frame.language_given else "default"))

    @property
    def frame(self) -> _Frame:
        raise NotImplementedError

    def has_speech(self) -> bool:
        return any(isinstance(s, TextSegment | EventSegment) for s in self.segments)


def _parse_plain(src: SourceText) -> Script:
    """Plain text: one default speaker (voice None = the default voice), no directions.

    ``[events]`` and entities (``&#91;`` for a literal bracket) work as in markup, so one rule covers both;
    comments are dropped; a ``<`` is literal unless it opens one of our tags, which is an error because
    markup needs a ``<speak>`` around it.
    """
    collector = _PlainSegments(src)
    for token in tokenize(src, markup=False, known_tags=schema.TAGS + schema.SSML_INLINE + ("prosody", "voice")):
        assert isinstance(token, Text)
        collector.speech(token)
    collector.flush()
    if not collector.has_speech():
        raise ScriptError("the script is empty: there is nothing to say")
    return Script(speakers=tuple(collector.speakers.values()), segments=tuple(collector.segments),
                  scene=None, shot=None, language=DEFAULT_LANGUAGE, source_is_markup=False)


class _PlainSegments(_Segments):
    def __init__(self, src: SourceText) -> None:
        super().__init__(src)
        self._frame = _Frame("speak", 0, {}, speaker_id=DEFAULT_SPEAKER_ID)
        self.speakers[DEFAULT_SPEAKER_ID] = Speaker(DEFAULT_SPEAKER_ID, None, None, DEFAULT_LANGUAGE)

    @property
    def frame(self) -> _Frame:
        return self._frame


class _MarkupParser(_Segments):
    def __init__(self, src: SourceText) -> None:
        super().__init__(src)
        self.stack: list[_Frame] = []
        self.declared: dict[str, _Declared] = {}
        self.seen_top_level = False
        self.root_language: str | None = None
        self.scene: str | None = None
        self.shot: str | None = None
        self.start_scene: str | None = None
        self.start_shot: str | None = None
        self.inline: list[_Frame] = []  # open SSML inline elements (emphasis, say-as, sub, phoneme …)
        self.marks: list[Mark] = []
        self.notes: list[Note] = []

    @property
    def frame(self) -> _Frame:
        return self.stack[-1]

    def run(self) -> Script:
        for token in tokenize(self.src, markup=True, known_tags=schema.TAGS):
            if isinstance(token, Text):
                self._text(token)
            elif isinstance(token, StartTag):
                self._start(token)
            else:
                self._end(token)
        self.flush()
        if self.stack:
            top = self.stack[-1]
            raise self.src.error(top.pos, f"<{top.tag}> is not closed: </{top.tag}> is missing")
        if not self.has_speech():
            raise ScriptError("the script has nothing to say: put the words inside <speak>", line=1, col=1)
        speakers = tuple(self.speakers.values())
        language = self.root_language or (speakers[0].language if speakers else DEFAULT_LANGUAGE)
        return Script(speakers=speakers, segments=tuple(self.segments), scene=self.start_scene,
                      shot=self.start_shot, language=language, source_is_markup=True, marks=tuple(self.marks),
                      notes=tuple(self.notes))

    # -- SSML elements inside our markup: inline, so they never cut a sentence (break aside) -------------------
    def note(self, pos: int, fld: str, reason: str) -> None:
        line, col = self.src.line_col(pos)
        if not any(n.field == fld and n.reason == reason for n in self.notes):
            self.notes.append(Note(fld, reason, line, col))

    def _inline_start(self, tag: StartTag) -> None:
        from . import ssml

        name = tag.name
        parent = self.stack[-1] if self.stack else None
        if parent is None or parent.tag not in schema.HOLDS_SPEECH:
            raise self.src.error(tag.pos, self._misplaced(name, parent))
        if self.inline and self.inline[-1].tag != "emphasis":
            raise self.src.error(tag.pos, f"<{self.inline[-1].tag}> holds text only, not <{name}>")
        attrs: dict[str, Attr] = {}
        allowed = ssml.ELEMENTS[name]
        for attr in tag.attrs:
            if attr.name not in allowed:
                raise self.src.error(attr.pos, f"<{name}> has no attribute {attr.name}; allowed attributes: "
                                               f"{', '.join(allowed) or 'none'}")
            attrs[attr.name] = attr
        frame = _Frame(name, tag.pos, attrs)
        if name == "break":
            seconds, comma = ssml.break_seconds(self.src, attrs)
            if comma and self._pending:
                self._pending.append((",", -1))
                self._inline_words = True
            elif seconds > 0:
                self.flush()
                line, col = self.src.line_col(tag.pos)
                self.segments.append(PauseSegment(seconds, line, col))
        elif name == "mark":
            if "name" not in attrs:
                raise self.src.error(tag.pos, "<mark> needs name=\"…\"")
            raw = inline.strip("".join(piece for piece, _ in self._pending))
            text = schema.collapse(raw)
            line, col = self.src.line_col(tag.pos)
            self.marks.append(Mark(schema.description(self.src, attrs["name"], "mark"), len(self.segments),
                                   len(text) + (1 if text and raw[-1:].isspace() else 0), line, col))
        elif name == "emphasis":
            level = ssml.emphasis_level(self.src, attrs)
            if level != "none" and not any(f.parts == ["*"] for f in self.inline):
                self._pending.append((inline.EMPH_OPEN[level], -1))
                frame.parts = ["*"]  # this frame opened an emphasis
        if not tag.self_closing and name not in ("break", "mark"):
            self.inline.append(frame)
        elif not tag.self_closing:  # <break></break>, <mark …></mark>: allowed, nothing inside
            self.inline.append(_Frame(name, tag.pos, attrs, parts=["/"]))

    def _inline_end(self, frame: _Frame) -> None:
        from . import ssml

        name = frame.tag
        parent = self.stack[-1]
        if name == "emphasis":
            if frame.parts == ["*"]:
                self._pending.append((inline.EMPH_CLOSE, -1))
            return
        if name in ("break", "mark"):
            return
        text = "".join(frame.parts)
        if name == "say-as":
            words = ssml.say_as_words(self, frame.pos, frame.attrs, text, parent.language)
        elif name == "sub":
            words = ssml.sub_words(self.src, frame.pos, frame.attrs)
        else:
            words = ssml.phoneme_words(self, frame.pos, frame.attrs, text)
        if words:
            self._buffer(f" {words} ", frame.pos)
            self._inline_words = True

    # -- tokens -----------------------------------------------------------------------------------
    def _text(self, token: Text) -> None:
        if self.inline and self.inline[-1].tag in ("say-as", "sub", "phoneme"):
            self.inline[-1].parts.append(token.raw if token.literal else decode_entities(token.raw))
            return
        parent = self.stack[-1].tag if self.stack else ""
        if parent in schema.HOLDS_SPEECH:
            self.speech(token)
            return
        if parent in schema.HOLDS_TEXT_ONLY:
            self.stack[-1].parts.append(token.raw if token.literal else decode_entities(token.raw))
            return
        stripped = token.raw.lstrip()
        if not stripped:
            return
        pos = token.pos + len(token.raw) - len(stripped)
        if parent == "pause":
            raise self.src.error(pos, "<pause> holds no text: write <pause seconds=\"1\"/>")
        raise self.src.error(pos, "text outside <speak>: put the words inside "
                                  "<speak voice=\"…\" gender=\"…\">…</speak>")

    def _start(self, tag: StartTag) -> None:
        if tag.name in _INLINE_SSML:
            self._inline_start(tag)
            return
        if self.inline:
            top = self.inline[-1]
            raise self.src.error(top.pos, f"<{top.tag}> is not closed before <{tag.name}> at "
                                          f"{self.src.where(tag.pos)}")
        self.flush()
        name = tag.name
        if name not in schema.TAGS:
            raise self.src.error(tag.pos, schema.unknown_tag_message(name))
        parent = self.stack[-1] if self.stack else None
        parent_tag = parent.tag if parent else ""
        if parent is not None and parent.tag in schema.HOLDS_TEXT_ONLY:
            raise self.src.error(parent.pos, f"<{parent.tag}> is not closed before <{name}> at "
                                             f"{self.src.where(tag.pos)}")
        if name == "script":
            if parent is not None or self.seen_top_level:
                raise self.src.error(tag.pos, "<script> must be the outermost element, around all "
                                              "<speak> blocks")
        elif name not in schema.CHILDREN[parent_tag]:
            raise self.src.error(tag.pos, self._misplaced(name, parent))
        self.seen_top_level = True
        attrs = schema.check_attributes(self.src, name, tag.attrs, tag.pos)
        frame = _Frame(name, tag.pos, attrs)
        if name == "script":
            self._open_script(frame)
        elif name == "speak":
            self._open_speak(frame)
        elif name == "line":
            self._open_line(frame, parent)
        elif name == "action":
            frame.register = schema.register(self.src, attrs["register"]) if "register" in attrs else None
        elif name == "pause":
            if "seconds" not in attrs:
                raise self.src.error(tag.pos, "<pause> needs seconds=\"…\", like <pause seconds=\"1.2\"/>")
            line, col = self.src.line_col(tag.pos)
            self.segments.append(PauseSegment(schema.seconds(self.src, attrs["seconds"]), line, col))
        if tag.self_closing:
            self._close(frame)
        else:
            self.stack.append(frame)

    def _misplaced(self, name: str, parent: _Frame | None) -> str:
        if parent is None or parent.tag == "script":
            where = "at the top level" if parent is None else "directly inside <script>"
            return f"<{name}> cannot be {where}: it must be inside a <speak> or <line>"
        allowed = ", ".join(f"<{t}>" for t in schema.CHILDREN[parent.tag])
        if parent.tag in schema.HOLDS_SPEECH:
            ssml = ", ".join(f"<{t}>" for t in schema.SSML_INLINE)
            holds = f"text, [events] and {allowed}, and the SSML elements {ssml}"
        else:
            holds = allowed or "nothing"
        hint = "; close the <speak> first, or use <line voice=\"…\" gender=\"…\">" if name == "speak" else ""
        return (f"<{name}> cannot be inside <{parent.tag}> ({self.src.where(parent.pos)}){hint}; "
                f"<{parent.tag}> may hold {holds}")

    def _end(self, tag: EndTag) -> None:
        if self.inline and tag.name == self.inline[-1].tag:
            self._inline_end(self.inline.pop())
            return
        if self.inline:
            top = self.inline[-1]
            raise self.src.error(top.pos, f"<{top.tag}> is not closed before </{tag.name}> at "
                                          f"{self.src.where(tag.pos)}")
        if tag.name in _INLINE_SSML:
            raise self.src.error(tag.pos, f"</{tag.name}> closes nothing: no <{tag.name}> is open")
        self.flush()
        name = tag.name
        if name not in schema.TAGS:
            raise self.src.error(tag.pos, schema.unknown_tag_message(name, closing=True))
        if not self.stack:
            raise self.src.error(tag.pos, f"</{name}> closes nothing: no <{name}> is open")
        top = self.stack[-1]
        if top.tag != name:
            if top.tag in schema.HOLDS_TEXT_ONLY or any(f.tag == name for f in self.stack):
                raise self.src.error(top.pos, f"<{top.tag}> is not closed before </{name}> at "
                                              f"{self.src.where(tag.pos)}")
            raise self.src.error(tag.pos, f"</{name}> does not match the open <{top.tag}> "
                                          f"({self.src.where(top.pos)})")
        self.stack.pop()
        self._close(top)

    def _close(self, frame: _Frame) -> None:
        """Finish an element: actions set the direction, sounds become segments, speak is checked."""
        if frame.tag == "action":
            parent = self.stack[-1]
            parent.action = schema.collapse("".join(frame.parts)) or None
            parent.action_register = frame.register
            parent.stress, parent.stress_level = stressed_words(parent.action)
        elif frame.tag == "sound":
            description = schema.collapse("".join(frame.parts))
            if not description:
                raise self.src.error(frame.pos, "<sound> needs a description, like "
                                                "<sound>A door slams</sound>")
            line, col = self.src.line_col(frame.pos)
            self.segments.append(SoundSegment(description, line, col))
        elif frame.tag == "speak" and not frame.has_lines:
            for attr in ("voice", "gender"):
                if getattr(frame, attr) is None:
                    raise self.src.error(frame.pos, f"<speak> is missing the required attribute {attr}")

    # -- opening elements -------------------------------------------------------------------------
    def _open_script(self, frame: _Frame) -> None:
        attrs = frame.attrs
        if "language" in attrs:
            self.root_language = schema.language(self.src, attrs["language"])
        scene, shot = schema.optional_text(attrs.get("scene")), schema.optional_text(attrs.get("shot"))
        self._set_scene(frame, scene, shot)

    def _open_speak(self, frame: _Frame) -> None:
        attrs = frame.attrs
        self._resolve_speaker(frame, inherit=None)
        scene = schema.optional_text(attrs.get("scene"))
        shot = schema.optional_text(attrs.get("shot"))
        if scene is not None or shot is not None:
            self._set_scene(frame, scene if scene is not None else self.scene, shot)

    def _open_line(self, frame: _Frame, parent: _Frame | None) -> None:
        speak = parent if parent is not None and parent.tag == "speak" else None
        if speak is not None:
            speak.has_lines = True
            frame.action, frame.action_register = speak.action, speak.action_register
        self._resolve_speaker(frame, inherit=speak)
        for attr in ("voice", "gender"):
            if getattr(frame, attr) is None:
                whose = "or give its <speak> one" if speak is not None else "or a name=\"…\" declared earlier"
                raise self.src.error(frame.pos, f"<line> has no {attr}: give it {attr}=\"…\" {whose}")

    def _resolve_speaker(self, frame: _Frame, inherit: _Frame | None) -> None:
        """Fill in voice, gender, language, register and name: own attributes first, then the declared
        named speaker, then the enclosing ``<speak>`` (for a line)."""
        attrs, src = frame.attrs, self.src
        name = schema.description(src, attrs["name"], frame.tag) if "name" in attrs else None
        declared = self.declared.get(name) if name else None
        voice = schema.description(src, attrs["voice"], frame.tag) if "voice" in attrs else None
        gender = schema.gender(src, attrs["gender"]) if "gender" in attrs else None
        if declared is not None:
            pairs = (("voice", voice, declared.voice), ("gender", gender, declared.gender))
            for attr, value, before in pairs:
                if value is not None and value != before:
                    raise src.error(attrs[attr].value_pos,
                                    f"speaker \"{name}\" was given {attr} \"{before}\" at "
                                    f"{src.where(declared.pos)}; a name keeps one {attr}")
        if inherit is not None and name is None and voice is None and gender is None:
            name = inherit.name
        frame.name = name
        for attr, own in (("voice", voice), ("gender", gender)):
            value = own or (getattr(declared, attr) if declared else None)
            setattr(frame, attr, value or (getattr(inherit, attr) if inherit else None))
        if "language" in attrs:
            frame.language, frame.language_given = schema.language(src, attrs["language"]), True
        elif declared is not None:
            frame.language, frame.language_given = declared.language, declared.language_given
        elif inherit is not None:
            frame.language, frame.language_given = inherit.language, inherit.language_given
        else:
            frame.language = self.root_language or DEFAULT_LANGUAGE
            frame.language_given = self.root_language is not None
        if "register" in attrs:
            frame.register = schema.register(src, attrs["register"])
        elif inherit is not None:
            frame.register = inherit.register
        if name and declared is None and frame.voice and frame.gender:
            self.declared[name] = _Declared(frame.voice, frame.gender, frame.language, frame.pos,
                                            frame.language_given)

    def _set_scene(self, frame: _Frame, scene: str | None, shot: str | None) -> None:
        shot = shot.lower() if shot else None
        if self.segments:
            if (scene, shot) != (self.scene, self.shot):
                line, col = self.src.line_col(frame.pos)
                self.segments.append(SceneSegment(scene, shot, line, col))
        else:
            self.start_scene, self.start_shot = scene, shot
        self.scene, self.shot = scene, shot
