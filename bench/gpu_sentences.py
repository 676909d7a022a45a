"""Make ``bench/gpu_tokens.json``: phoneme token ids of the GPU benchmark's sentences, computed here.

The GPU machine has no espeak-ng, so ``bench/gpu.py`` reads token ids instead of text. They are made with the
engine's own front end (``KokoroEngine.phonemize`` + ``tokens``), so they are what the engines would feed
the model. Run from the repository root after changing SENTENCES:

    PYTHONPATH=src python bench/gpu_sentences.py
"""

from __future__ import annotations

import json
from pathlib import Path

# 40 sentences written for this benchmark: a spread of lengths (1 to ~12 s of speech), plain English words.
SENTENCES = [
    "Yes.",
    "Thank you.",
    "Good morning, everyone.",
    "Where did you put the keys?",
    "The train leaves at seven.",
    "She laughed and closed the book.",
    "Nobody answered the door that night.",
    "We should leave before it gets dark.",
    "The coffee was cold by the time he noticed it.",
    "Please speak a little more slowly, I am taking notes.",
    "A small boat drifted past the harbor lights.",
    "He had never seen so many stars above the desert.",
    "The library stays open late on Thursdays and Fridays.",
    "If the weather holds, we will reach the summit tomorrow morning.",
    "My grandmother kept every letter she ever received in a wooden box.",
    "The engineers tested the bridge for three weeks before it opened to traffic.",
    "When the music stopped, the whole room turned to look at the stage.",
    "It is easier to build a habit than to break one, or so they say.",
    "The old lighthouse keeper climbed the spiral stairs and lit the lamp once more.",
    "After the storm, the streets were covered with leaves and broken branches.",
    "Our neighbors planted tomatoes, beans and sunflowers along the garden fence.",
    "The museum will close for renovation at the end of the month.",
    "Could you tell me which platform the northbound train departs from?",
    "She trained for months, and on the day of the race she ran faster than ever.",
    "Every morning the baker opens his shop before the sun comes up, and the smell of fresh bread fills "
    "the whole street.",
    "The committee discussed the proposal for nearly two hours but could not reach an agreement.",
    "Scientists believe the glacier has lost almost a third of its ice over the past fifty years.",
    "He wrote the first chapter in a single night, then spent a year rewriting it.",
    "The children built a castle out of cardboard boxes and defended it all afternoon.",
    "At the edge of the forest there is a narrow path that leads down to a quiet lake, where herons wait "
    "motionless in the shallow water.",
    "The pilot announced that we would land twenty minutes early because of a strong tail wind.",
    "I remember the sound of the rain on the roof of my first apartment, and the way the windows rattled "
    "whenever a truck drove past.",
    "When you travel by night train, you fall asleep in one country and wake up in another, which still "
    "feels like a small miracle to me.",
    "The recipe calls for two cups of flour, a pinch of salt, three eggs and a little warm milk.",
    "Most of the town had gathered in the square to watch the fireworks over the river.",
    "Learning a new language as an adult takes patience, but every small conversation feels like a victory.",
    "The violinist paused, took a deep breath, and began the slow movement again from the beginning.",
    "Although the road was long and the maps were old, the travelers never once doubted that they would "
    "find the village before winter, because the stars had guided them faithfully for many nights.",
    "The report recommends more trees in the city center, wider sidewalks, and fewer cars during the "
    "morning rush.",
    "Somewhere below the window a dog was barking, a door slammed, and then everything was silent again.",
]


def main() -> None:
    from limelight.engine.kokoro import kokoro_vocab
    from limelight.text.phonemes import phonemize

    vocab = kokoro_vocab()
    rows = []
    for text in SENTENCES:
        ids = [vocab[c] for c in phonemize(text, "en") if c in vocab]
        if len(ids) > 510:
            raise SystemExit(f"too long for one Kokoro call ({len(ids)} tokens): {text}")
        rows.append({"text": text, "ids": ids})
    out = Path(__file__).with_name("gpu_tokens.json")
    out.write_text(json.dumps({"language": "en", "sentences": rows}, indent=None) + "\n", encoding="utf-8")
    print(f"wrote {out}: {len(rows)} sentences, {sum(len(r['ids']) for r in rows)} tokens")


if __name__ == "__main__":
    main()
