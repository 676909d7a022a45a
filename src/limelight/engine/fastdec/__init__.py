"""The fast decoder: a distilled replacement for Kokoro's generator (numpy + onnxruntime at run time)."""
