"""SSML elements, measured: does each one do to the audio what it says?

Every row renders a short document twice, with the element and without it (same voice, same seed), through
the real path (``Performer`` for whole-document elements, the engine for word emphasis) and measures:

* ``break``        → the longest silence (frames 40 dB under the peak) with vs without;
* ``prosody rate`` → the speech duration ratio;
* ``prosody pitch``→ the median F0 difference in semitones (YIN, ``limelight.direct.dsp.track_f0``);
* ``prosody volume`` → the integrated loudness difference (LUFS);
* ``prosody contour`` → the median F0 of the last third minus the first (semitones);
* ``emphasis``     → the stressed word's duration ratio, median-F0 and peak-F0 change (semitones, YIN over the
  word) and level change (dB re the sentence), the word's span from the model's alignment; and whether Whisper
  still hears the same words;
* ``say-as``/``sub``/``phoneme`` → what Whisper hears, and whether it holds the expected words.

The sentences are written for this bench (not the dev set). Short by default (one voice, ~1 minute on two
cores); ``--voices N`` adds shipped voices, ``--all-emphasis`` more sentences.

    python bench/ssml.py [--voices 1] [--all-emphasis]
"""

from __future__ import annotations

import argparse
import re

import numpy as np

from limelight.audio.loudness import integrated_lufs
from limelight.check.asr import shared_transcriber
from limelight.check.wer import words
from limelight.direct.dsp import track_f0
from limelight.perform import Performer
from limelight.text.inline import emphasize

SR = 24_000
NS = 'version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US"'
EMPHASIS = [
    ("I never said she stole the money.", "never"),
    ("Please put the red box on the table.", "red"),
    ("We are leaving tomorrow morning, not tonight.", "tomorrow"),
    ("The meeting moved to Thursday afternoon.", "Thursday"),
    ("She bought three apples at the market.", "three"),
    ("You should always check the weather first.", "always"),
]


def doc(body: str) -> str:
    return f"<speak {NS}>{body}</speak>"


def longest_silence(audio: np.ndarray, floor_db: float = -40.0) -> float:
    frame = int(0.01 * SR)
    n = len(audio) // frame
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    quiet = 20 * np.log10(rms / rms.max()) < floor_db
    best = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        best = max(best, run)
    return best * 0.01


def speech_seconds(audio: np.ndarray) -> float:
    frame = int(0.01 * SR)
    n = len(audio) // frame
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    return float(np.sum(20 * np.log10(rms / rms.max()) > -40.0) * 0.01)


def median_st(audio: np.ndarray, start: float = 0.0, end: float | None = None) -> tuple[float, float]:
    """(median, 95th percentile) F0 in semitones re 100 Hz over [start, end), voiced frames only."""
    track = track_f0(audio, SR)
    t = np.arange(track.f0.size) * track.hop_s
    sel = (t >= start) & (t < (end if end is not None else t[-1] + 1)) & (track.f0 > 0)
    if not np.any(sel):
        return float("nan"), float("nan")
    st = 12 * np.log2(track.f0[sel] / 100.0)
    return float(np.median(st)), float(np.percentile(st, 95))


def emphasis_render(engine, voice, sentence: str, word: str, level: str | None):  # noqa: ANN001, ANN201
    """Render ``sentence`` with ``word`` at emphasis ``level`` (None: unmarked, through the same cut graphs) and
    measure the word: (seconds, median F0 st, peak F0 st, level dB re the sentence, audio). The word's frames
    come from the model's alignment (80 per second; the audio is not trimmed here, so they line up)."""
    from limelight.engine.fastdec.prosody import token_levels
    from limelight.text.inline import emphasis_levels

    marked = sentence.replace(word, emphasize(word, level or "moderate"), 1)
    clean, levels = emphasis_levels(engine.phonemize(marked))
    per_token = token_levels(clean, levels, engine._vocab)  # noqa: SLF001
    ids = engine.tokens(clean)
    feeds = {"tokens": np.array([[0, *ids, 0]], np.int64), "style": voice.row(len(ids)).astype(np.float32),
             "speed": np.array([1.0], np.float32)}
    front = engine._word_prosody()  # noqa: SLF001
    x, f0, durations = front.render(feeds, per_token if level else [lv and "none" for lv in per_token])
    audio = engine._fast.decode(x, f0, feeds["style"])  # noqa: SLF001
    inside = [i + 1 for i, lv in enumerate(per_token) if lv]
    frames = durations * 2
    start, end = frames[: inside[0]].sum() / 80.0, frames[: inside[-1] + 1].sum() / 80.0
    med, peak = median_st(audio, start, end)
    return end - start, med, peak, level_db(audio, start, end) - level_db(audio, 0, len(audio) / SR), audio


def level_db(audio: np.ndarray, start: float, end: float) -> float:
    seg = audio[int(start * SR): int(end * SR)]
    return float(20 * np.log10(np.sqrt(np.mean(seg ** 2)) + 1e-9))


def hear(audio: np.ndarray) -> str:
    return shared_transcriber().transcribe(audio, SR, "en")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voices", type=int, default=1, help="how many shipped voices (default 1: the default voice)")
    ap.add_argument("--all-emphasis", action="store_true", help=f"all {len(EMPHASIS)} emphasis sentences (else 3)")
    args = ap.parse_args()
    performer = Performer()
    engine = performer.engine
    names = [engine.default_voice] + [n for n in engine.voices() if n != engine.default_voice]
    rows: list[tuple[str, str, str, str, str, str]] = []

    def render(source: str, voice: str) -> np.ndarray:
        return performer.perform(source, validate=False, seed=7, voice=voice).audio

    for voice in names[: args.voices]:
        plain = "The train leaves at noon. Bring your ticket and a coat."
        base = render(doc(plain), voice)
        # break
        for attr, expect in (('time="1.2s"', 1.2), ('strength="x-strong"', 1.2), ('time="400ms"', 0.4)):
            body = plain.replace(". ", f". <break {attr}/>")
            got = longest_silence(render(doc(body), voice))
            rows.append((voice, f"break {attr}", "longest silence (s)", f"{longest_silence(base):.2f}",
                         f"{got:.2f}", f"≥ {expect:.2f}"))
        # prosody rate / pitch / volume
        base_s, base_st, base_lufs = speech_seconds(base), median_st(base)[0], integrated_lufs(base, SR)
        for rate, expect in (("slow", 1 / 0.8), ("x-fast", 1 / 1.5), ("+20%", 1 / 1.2)):
            a = render(doc(f'<prosody rate="{rate}">{plain}</prosody>'), voice)
            rows.append((voice, f"prosody rate={rate}", "speech duration ratio", "1.00",
                         f"{speech_seconds(a) / base_s:.2f}", f"{expect:.2f}"))
        for pitch, expect in (("+3st", 3.0), ("low", -2.0), ("-10%", 12 * np.log2(0.9))):
            a = render(doc(f'<prosody pitch="{pitch}">{plain}</prosody>'), voice)
            rows.append((voice, f"prosody pitch={pitch}", "median F0 change (st)", "0.00",
                         f"{median_st(a)[0] - base_st:+.2f}", f"{expect:+.2f}"))
        for vol, expect in (("loud", 4.0), ("-6dB", -6.0), ("x-soft", -12.0)):
            a = render(doc(f'<prosody volume="{vol}">{plain}</prosody>'), voice)
            rows.append((voice, f"prosody volume={vol}", "loudness change (LU)", "0.00",
                         f"{integrated_lufs(a, SR) - base_lufs:+.2f}", f"{expect:+.2f}"))
        for contour, expect in (("(0%,-4st) (100%,+4st)", "> 0"), ("(0%,+4st) (100%,-4st)", "< 0")):
            a = render(doc(f'<prosody contour="{contour}">{plain}</prosody>'), voice)
            third0, third1 = len(base) / SR / 3, len(a) / SR / 3
            slope0 = median_st(base, 2 * third0)[0] - median_st(base, 0, third0)[0]
            slope1 = median_st(a, 2 * third1)[0] - median_st(a, 0, third1)[0]
            rows.append((voice, f"prosody contour={contour}", "F0 last − first third (st)", f"{slope0:+.2f}",
                         f"{slope1:+.2f}", f"{expect} vs without"))
        # emphasis, in the engine (word level): the word's span comes from the model's own alignment
        v = engine.voices()[voice]
        for sentence, word in EMPHASIS[: len(EMPHASIS) if args.all_emphasis else 3]:
            d0, m0, p0, l0, _ = emphasis_render(engine, v, sentence, word, None)
            for level in ("moderate", "strong", "reduced"):
                d1, m1, p1, l1, audio = emphasis_render(engine, v, sentence, word, level)
                heard = hear(audio)
                ok = words(heard) == words(sentence)
                rows.append((voice, f"emphasis {level} '{word}'",
                             "word dur × / median F0 Δst / peak F0 Δst / level Δ dB / words",
                             f"{d0:.2f}s", f"×{d1 / d0:.2f} / {m1 - m0:+.1f} / {p1 - p0:+.1f} / {l1 - l0:+.1f} / "
                                           f"{'same' if ok else heard}", ""))
        # what Whisper hears
        for body, expect in (
            ('It is <say-as interpret-as="characters">NASA</say-as>.', "n a s a"),
            ('Room <say-as interpret-as="ordinal">3</say-as> please.', "third"),
            ('Dial <say-as interpret-as="telephone">555-0142</say-as> now.', "555-0142"),
            ('Born <say-as interpret-as="date" format="dmy">14/03/1999</say-as>.', "march"),
            ('Meet at <say-as interpret-as="time">14:30</say-as>.', "thirty"),
            ('It costs <say-as interpret-as="currency">$42.50</say-as>.', "$42.50"),
            ('The <sub alias="World Wide Web Consortium">W3C</sub> met.', "world wide web"),
            ('I say <phoneme alphabet="ipa" ph="pɪˈkɑːn">pecan</phoneme> pie.', "pecan"),
            ('Call <phoneme alphabet="x-sampa" ph="\'dZ{k">Jack</phoneme> now.', "jack"),
            ('I ate an <phoneme alphabet="ipa" ph="bəˈnænə">apple</phoneme> today.', "banana"),
        ):
            heard = hear(render(doc(body), voice))
            got = " ".join(words(heard))
            ok = " ".join(words(expect)) in got or expect.replace(" ", "") in got.replace(" ", "")
            rows.append((voice, re.sub(r"\s+", " ", body)[:72], "Whisper hears", "",
                         heard, "ok" if ok else f"expected '{expect}'"))

    widths = [max(len(str(r[i])) for r in rows + [("voice", "element", "measure", "without", "with", "expected")])
              for i in range(6)]
    header = ("voice", "element", "measure", "without", "with", "expected")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
