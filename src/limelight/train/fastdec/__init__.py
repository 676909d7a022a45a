"""Distillation of Kokoro's generator into the fast decoder (see :mod:`.train`; needs torch)."""
