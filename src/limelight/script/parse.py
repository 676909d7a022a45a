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

from dataclasses import dataclass, field

from ..errors import ScriptError
from . import schema
from .events import canonical_event, describe_known_events
from .lexer import Attr, EndTag, SourceText, StartTag, Text, decode_entities, starts_with_tag, tokenize
from .model import (
    EventSegment,
    PauseSegment,
    SceneSegment,
    Script,
    Segment,
    SoundSegment,
    Speaker,
    TextSegment,
)

DEFAULT_LANGUAGE = "en"
DEFAULT_SPEAKER_ID = "speaker1"


def parse(source: str) -> Script:
    """Parse a script: ``<speak>``/``<script>`` markup, or plain text spoken by one default voice.

    Raises :class:`~limelight.errors.ScriptError` (with 1-based ``line``/``col``) for anything that
    cannot be performed as written.
    """
    if not isinstance(source, str):
        raise ScriptError(f"a script must be text, not {type(source).__name__}")
    src = SourceText(source)
    if starts_with_tag(src):
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
    register: str | None = None
    name: str | None = None
    action: str | None = None
    action_register: str | None = None
    speaker_id: str | None = None
    has_lines: bool = False
    parts: list[str] = field(default_factory=list)  # text of an <action>/<sound>


@dataclass(frozen=True)
class _Declared:
    voice: str
    gender: str
    language: str
    pos: int


class _Segments:
    """Collects segments and speakers; shared by the markup and plain-text paths."""

    def __init__(self, src: SourceText) -> None:
        self.src = src
        self.segments: list[Segment] = []
        self.speakers: dict[str, Speaker] = {}
        self._ids_by_key: dict[tuple[str, ...], str] = {}
        self._pending: list[tuple[str, int]] = []  # buffered text pieces and their first-word offsets

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
        """Buffer the words of a text token; emit its ``[events]`` in place."""
        if token.literal:
            self._buffer(token.raw, token.pos)
            return
        raw = token.raw
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
        starts = [p for piece, p in self._pending if p >= 0 and piece.strip()]
        self._pending.clear()
        if not text:
            return
        pos = starts[0] if starts else 0
        frame = self.frame
        line, col = self.src.line_col(pos)
        register = frame.action_register or frame.register
        self.segments.append(TextSegment(text, self.speaker_id(frame, pos), frame.action, register,
                                         frame.language, line, col))

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
    for token in tokenize(src, markup=False, known_tags=schema.TAGS):
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
                      shot=self.start_shot, language=language, source_is_markup=True)

    # -- tokens -----------------------------------------------------------------------------------
    def _text(self, token: Text) -> None:
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
            holds = f"text, [events] and {allowed}"
        else:
            holds = allowed or "nothing"
        hint = "; close the <speak> first, or use <line voice=\"…\" gender=\"…\">" if name == "speak" else ""
        return (f"<{name}> cannot be inside <{parent.tag}> ({self.src.where(parent.pos)}){hint}; "
                f"<{parent.tag}> may hold {holds}")

    def _end(self, tag: EndTag) -> None:
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
            frame.language = schema.language(src, attrs["language"])
        elif declared is not None:
            frame.language = declared.language
        else:
            frame.language = inherit.language if inherit else (self.root_language or DEFAULT_LANGUAGE)
        if "register" in attrs:
            frame.register = schema.register(src, attrs["register"])
        elif inherit is not None:
            frame.register = inherit.register
        if name and declared is None and frame.voice and frame.gender:
            self.declared[name] = _Declared(frame.voice, frame.gender, frame.language, frame.pos)

    def _set_scene(self, frame: _Frame, scene: str | None, shot: str | None) -> None:
        shot = shot.lower() if shot else None
        if self.segments:
            if (scene, shot) != (self.scene, self.shot):
                line, col = self.src.line_col(frame.pos)
                self.segments.append(SceneSegment(scene, shot, line, col))
        else:
            self.start_scene, self.start_shot = scene, shot
        self.scene, self.shot = scene, shot
