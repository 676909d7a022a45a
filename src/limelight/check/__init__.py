"""Validation: does the audio say the words (Whisper base), and in the right voice (speaker embeddings)."""
