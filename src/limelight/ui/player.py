"""Live playback while a take is being made: a tiny Web Audio player inside a `gr.HTML`.

Why not gradio's own streaming `gr.Audio`: it re-encodes every chunk to AAC through an ffmpeg process, and
ffmpeg is not something a pip install brings. Here each finished chunk is sent as a small base64 WAV (a
numbered *piece*); the browser decodes it and schedules it right after the previous one, so playback is
gapless and needs nothing but the browser. The finished take still arrives as a normal audio player with
a download button; this one is only for listening while the rest is made.

``window.limelightStream`` exposes what the player did (pieces, seconds scheduled, gaps) so a browser test
can check that streaming really happened.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..audio.wav import wav_base64

TEMPLATE = ("<div class='ll-player'><span class='ll-player-state'>Live playback starts with the first chunk."
            "</span> <button class='ll-stop' type='button'>stop</button></div>")

SCRIPT = """
const st = window.limelightStream = {take: null, pieces: 0, seconds: 0, gaps: 0, errors: 0};
let ctx = null, next = 0, seq = 0, chain = Promise.resolve();
const show = () => {
  const s = element.querySelector('.ll-player-state');
  if (s && st.take) s.textContent = `Live: ${st.pieces} piece(s), ${st.seconds.toFixed(1)} s scheduled`;
};
element.addEventListener('click', (e) => {
  if (e.target.closest('.ll-stop') && ctx) { ctx.close(); ctx = null; next = 0; }
});
const play = async (v) => {
  if (v.take !== st.take) {
    st.take = v.take; st.pieces = 0; st.seconds = 0; seq = 0;
    if (ctx) next = ctx.currentTime;
  }
  if (v.seq <= seq) return;  // a re-render repeats the last value: never play a piece twice
  if (v.seq !== seq + 1) st.gaps += 1;
  seq = v.seq;
  if (!ctx) ctx = new (window.AudioContext || window.webkitAudioContext)();
  if (ctx.state === 'suspended') await ctx.resume();
  const bin = atob(v.wav);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const buf = await ctx.decodeAudioData(bytes.buffer);
  const src = ctx.createBufferSource();
  src.buffer = buf;
  src.connect(ctx.destination);
  next = Math.max(next, ctx.currentTime + 0.05);
  src.start(next);
  next += buf.duration;
  st.pieces += 1; st.seconds += buf.duration;
  show();
};
watch('value', () => {
  const v = props.value;
  if (!v || !v.wav) { show(); return; }
  chain = chain.then(() => play(v)).catch((e) => { st.errors += 1; console.error('limelight live playback', e); });
});
"""

CSS = ".ll-player{display:flex;gap:.75em;align-items:center;font-size:.9em;color:var(--body-text-color-subdued)}" \
      ".ll-stop{border:1px solid var(--border-color-primary);border-radius:4px;padding:0 .5em}"


def piece(take: str, seq: int, audio: np.ndarray, sr: int) -> dict[str, Any]:
    """The player's value for the ``seq``-th piece (1-based) of take ``take``."""
    return {"take": take, "seq": seq, "wav": wav_base64(np.asarray(audio, np.float32), sr)}
