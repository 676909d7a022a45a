"""Language detection accuracy on short sentences (``limelight.text.language``), beside py3langid alone.

``bench/texts/langid_short.tsv``: 64 short sentences (2-7 words) of our own in 13 languages; also the held-out
TTS sentences of ``languages_test.tsv``. Each sentence is judged alone (no surrounding script as context).

    python bench/langid.py
"""

from __future__ import annotations

import time
from pathlib import Path

from limelight.text.language import LATIN_CANDIDATES, _identifier, _vote, detect_languages, script_counts

HERE = Path(__file__).resolve().parent


def main() -> None:
    t0 = time.perf_counter()
    ident = _identifier()
    load_s = time.perf_counter() - t0
    print(f"py3langid load: {load_s:.2f} s (once per process, only when a Latin segment needs it)")
    print(f"{'set':22} {'n':>4} {'limelight':>10} {'py3langid':>10} {'us/call':>8}")
    for name in ("langid_short", "languages_test"):
        lines = (HERE / "texts" / f"{name}.tsv").read_text(encoding="utf-8").splitlines()[1:]
        rows = [line.split("\t", 1) for line in lines if line.strip()]
        t = time.perf_counter()
        ours = [detect_languages([text])[0] for _, text in rows]
        per_call = (time.perf_counter() - t) / len(rows) * 1e6
        latin = [(lang, text) for lang, text in rows if lang in LATIN_CANDIDATES]
        plain = sum(ident.classify(text)[0] == lang for lang, text in latin)
        ok = sum(o == lang for o, (lang, _) in zip(ours, rows, strict=True))
        voted = sum(_vote(text) is not None for _, text in latin)
        print(f"{name:22} {len(rows):4d} {ok / len(rows):10.1%} {plain / max(len(latin), 1):10.1%} {per_call:8.0f}"
              f"   (py3langid on the {len(latin)} Latin-script ones; {voted} of them settled by function words)")
        for o, (lang, text) in zip(ours, rows, strict=True):
            if o != lang:
                print(f"   miss: {lang} → {o}: {text}  {dict(script_counts(text))}")


if __name__ == "__main__":
    main()
