"""Word timings and subtitles: when each written word is heard in the output (see `words`), as SRT/VTT cues."""

from .subtitles import Cue, make_cues, to_srt, to_vtt, write_subtitles
from .words import SpokenWord, WordTiming, written_timings

__all__ = ["Cue", "SpokenWord", "WordTiming", "make_cues", "to_srt", "to_vtt", "write_subtitles", "written_timings"]
