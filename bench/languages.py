"""Intelligibility per language: Whisper-base CER for a shipped, a designed and a cloned voice, beside the
espeak-only baseline (the same voice through plain espeak-ng phonemes: the front end before misaki's Chinese,
the tie mapping and the nasal-vowel fix).

Scoring: reference and transcript are folded to one script first (`limelight.check.wer.fold_script`: Chinese
to simplified characters, Hindi's Urdu-script transcripts transliterated to Devanagari), then compared as
characters after the usual word normalisation (punctuation dropped, case folded, spaces removed).

The sentences are our own; ``bench/texts/languages_test.tsv`` is held out (nothing was tuned on it), the
default; ``--set dev`` uses ``languages_dev.tsv``, the one the front end was looked at with.

    python bench/languages.py                      # held-out set, all 13 languages, shipped voice + baseline
    python bench/languages.py --voices shipped,designed,clone --langs fr,zh,hi
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from limelight.check.asr import shared_transcriber
from limelight.check.wer import cer
from limelight.engine import load_engine

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("LIMELIGHT_SHARED", HERE.parents[1] / "shared"))
SHIPPED = "jf_alpha"
DESIGNED = "a warm middle-aged woman, calm and clear"
CLONE_SPEAKER = "1688"  # a LibriSpeech dev speaker in shared/voices


def _rows(which: str, langs: set[str] | None) -> list[tuple[str, str]]:
    lines = (HERE / "texts" / f"languages_{which}.tsv").read_text(encoding="utf-8").splitlines()[1:]
    rows = [tuple(line.split("\t", 1)) for line in lines if line.strip()]
    return [(lang, text) for lang, text in rows if not langs or lang in langs]  # type: ignore[misc]


def _voice(kind: str, engine, shipped: str = SHIPPED):  # -> Voice
    if kind == "shipped":
        return engine.voices()[shipped]
    if kind == "designed":
        from limelight.voice.design import design_voice

        return design_voice(DESIGNED)
    if kind == "clone":
        import soundfile as sf

        from limelight.voice.clone import clone_voice

        files = sorted((SHARED / "voices" / "dev" / CLONE_SPEAKER).glob("*.flac"))[:2]
        audio = np.concatenate([sf.read(f, dtype="float32")[0] for f in files])[: 25 * 16_000]
        return clone_voice(audio, 16_000, "clone", engine=engine)
    raise SystemExit(f"unknown voice kind {kind!r}")


def _baseline_phonemes(text: str, language: str) -> str:
    """The old front end: espeak-ng's own IPA, NFC, no tie mapping (Chinese as espeak's cmn)."""
    import re
    import unicodedata

    from piper import espeakbridge

    from limelight.text import phonemes as ph

    voice = ph.espeak_voice(language)
    if voice == "ja":
        return ph.phonemize(text, language)  # Japanese already had its own front end
    with ph._LOCK:
        ph._init()
        espeakbridge.set_voice("fr" if voice == "fr-fr" else voice)
        clauses = espeakbridge.get_phonemes(text)
    ipa = " ".join(re.sub(r"\([^)]+\)", "", p) + t for p, t, _ in clauses)
    return unicodedata.normalize("NFC", ipa).strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="test", choices=["test", "dev"])
    ap.add_argument("--langs", help="comma-separated codes (default: all in the set)")
    ap.add_argument("--voices", default="shipped", help="comma-separated: shipped, designed, clone")
    ap.add_argument("--no-baseline", action="store_true", help="skip the espeak-only column")
    ap.add_argument("--shipped", default=SHIPPED, help=f"the shipped voice to score (default {SHIPPED})")
    ap.add_argument("--per-lang", type=int, default=0, help="at most N sentences per language (0: all)")
    ap.add_argument("--show", action="store_true", help="print each transcript")
    args = ap.parse_args()
    from limelight.text.normalize import normalize

    langs = set(args.langs.split(",")) if args.langs else None
    rows = _rows(args.set, langs)
    if args.per_lang:
        seen: dict[str, int] = defaultdict(int)
        rows = [r for r in rows if (seen.__setitem__(r[0], seen[r[0]] + 1) or seen[r[0]]) <= args.per_lang]
    engine = load_engine("kokoro")
    asr = shared_transcriber()
    kinds = args.voices.split(",")
    voices = {k: _voice(k, engine, args.shipped) for k in kinds}
    columns = list(kinds) + ([] if args.no_baseline else [f"espeak-only ({kinds[0]})"])
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    t0 = time.perf_counter()
    for lang, text in rows:
        spoken = normalize(text, lang)
        for col in columns:
            kind = col if col in voices else kinds[0]
            if col in voices:
                audio = engine.synthesize(spoken, voices[kind], language=lang)
            else:
                audio = engine.synthesize_phonemes(_baseline_phonemes(spoken, lang), voices[kind])
            heard = asr.transcribe(audio, engine.sample_rate, lang)
            rate = cer(text, heard, lang)
            scores[lang][col].append(rate)
            if args.show:
                print(f"  {lang} {col:22} {rate:.3f}  {heard}", flush=True)
    print(f"\nCER by Whisper base, {args.set} set ({len(rows)} sentences, {time.perf_counter() - t0:.0f} s)")
    print(f"{'lang':5} {'n':>2} " + " ".join(f"{c:>22}" for c in columns))
    for lang in dict.fromkeys(lang for lang, _ in rows):
        cells = " ".join(f"{np.mean(scores[lang][c]):22.3f}" for c in columns)
        print(f"{lang:5} {len(scores[lang][columns[0]]):>2} {cells}")


if __name__ == "__main__":
    main()
