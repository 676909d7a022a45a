"""Voice identity: who is speaking (a Kokoro style table plus metadata), from names, blends, designs or clones."""

from .voice import Voice, parse_blend, resolve_voice

__all__ = ["Voice", "parse_blend", "resolve_voice"]
