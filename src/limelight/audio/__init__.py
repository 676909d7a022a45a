"""Shared audio helpers: WAV I/O and encoding, resampling, loudness, joining pieces without clicks."""
