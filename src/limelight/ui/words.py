"""The take's words, highlighted as they are played: karaoke for checking timings and for read-along.

The words and their times come from the performance's metadata (``limelight.timing``); the page only follows
the take's ``<audio>`` element: every animation frame it marks the word whose span holds ``currentTime``, and a
click on a word seeks the take there. ``window.limelightWords`` exposes the current word for browser tests.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

TEMPLATE = "${value}"

SCRIPT = """
const st = window.limelightWords = {current: null, index: -1};
const audio = () => document.querySelector('#ll-take audio');
element.addEventListener('click', (e) => {
  const w = e.target.closest('.ll-word');
  const a = audio();
  if (w && a) { a.currentTime = parseFloat(w.dataset.start) + 0.001; }
});
const tick = () => {
  const a = audio();
  const words = element.querySelectorAll('.ll-word');
  let found = -1;
  if (a) {
    const t = a.currentTime;
    for (let i = 0; i < words.length; i++) {
      const s = parseFloat(words[i].dataset.start), e = parseFloat(words[i].dataset.end);
      if (t >= s && t < e) { found = i; break; }
    }
  }
  if (found !== st.index) {
    words.forEach((w, i) => w.classList.toggle('ll-now', i === found));
    st.index = found;
    st.current = found >= 0 ? words[found].textContent : null;
  }
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"""

CSS = (".ll-words{line-height:1.9;font-size:1.05em}.ll-word{padding:1px 2px;border-radius:3px;cursor:pointer}"
       ".ll-word.ll-now{background:#fde68a;color:#111}.ll-speaker{font-weight:600;margin-right:.3em;"
       "color:var(--body-text-color-subdued)}")


def words_html(words: Sequence[dict[str, Any]]) -> str:
    """The take's words as spans carrying their start and end; a speaker's name where the speaker changes."""
    if not words:
        return "<div class='ll-words'><em>No words in this take.</em></div>"
    parts: list[str] = []
    speaker = None
    for w in words:
        if w.get("speaker") != speaker:
            speaker = w.get("speaker")
            if parts:
                parts.append("<br>")
            parts.append(f"<span class='ll-speaker'>{html.escape(str(speaker))}:</span>")
        parts.append(f"<span class='ll-word' data-start='{float(w['start']):.3f}' data-end='{float(w['end']):.3f}' "
                     f"title='{float(w['start']):.2f}–{float(w['end']):.2f} s'>{html.escape(str(w['word']))}</span>")
    return "<div class='ll-words'>" + " ".join(parts) + "</div>"
