"""Conformance with the W3C SSML 1.1 recommendation: one document per section, written for this repository
after the recommendation's examples (``tests/data/ssml/*.xml``), parsed and reported.

For each document: whether it parses, the segments it becomes, the words that will be spoken, and what is
reported in ``not_applied`` (understood but not performed). With ``--render`` each is also performed and
transcribed (slower: about 2 s a document on two cores).

    python bench/ssml_conformance.py [--render]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from limelight.errors import LimelightError
from limelight.script import parse
from limelight.text.inline import spoken

DOCS = Path(__file__).resolve().parents[1] / "tests" / "data" / "ssml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--render", action="store_true", help="also perform and transcribe each document")
    args = ap.parse_args()
    performer = None
    if args.render:
        from limelight.perform import Performer

        performer = Performer()
    print("| document | parses | segments | spoken | not applied |")
    print("|---|---|---|---|---|")
    for path in sorted(DOCS.glob("*.xml")):
        source = path.read_text(encoding="utf-8")
        try:
            script = parse(source, base_dir=DOCS, allow_audio_files=True)
        except LimelightError as exc:
            print(f"| {path.stem} | **error**: {exc} | | | |")
            continue
        kinds = Counter(type(s).__name__.replace("Segment", "") for s in script.segments)
        said = " ".join(spoken(s.text) for s in script.text_segments())
        notes = "; ".join(f"{n.field}: {n.reason}" for n in script.notes) or "—"
        if performer is not None:
            perf = performer.perform(source, validate=False, seed=1)
            heard = performer.transcriber.transcribe(perf.audio, perf.sample_rate, "en")
            said = f"{said} → heard: {heard}"
        print(f"| {path.stem} | yes | {', '.join(f'{k}×{v}' for k, v in kinds.items())} | {said} | {notes} |")


if __name__ == "__main__":
    main()
