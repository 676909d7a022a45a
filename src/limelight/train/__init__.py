"""Training and export of limelight's own models (run by maintainers; the runtime only loads their outputs).

- :mod:`.speaker_weights`: Resemblyzer's encoder → ``check/data/resemblyzer.npz``.
- :mod:`.voice_encoder`: speaker embedding → Kokoro style (data generation, fitting, export).
"""
