"""Header values built from client text (field names, model names) made safe to send.

HTTP header values may hold visible ASCII, spaces and tabs (RFC 9110 §5.5); a CR or LF would end the header
(h11 refuses to send it and drops the connection), and other control characters are invalid. Anything outside
printable ASCII is percent-encoded, so the value still says what the client sent, and long values are cut.
"""

from __future__ import annotations

from urllib.parse import quote

MAX_HEADER_VALUE = 1024
_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


def header_value(text: object, limit: int = MAX_HEADER_VALUE) -> str:
    """``text`` as a safe header value: printable ASCII kept, everything else %XX (UTF-8), at most ``limit``."""
    value = quote(str(text), safe=_PRINTABLE)  # '%' itself is kept, so encoding twice changes nothing
    if len(value) > limit:
        value = value[: limit - 3]
        cut = value.rfind("%", len(value) - 2)  # never leave half of a %XX
        value = (value[:cut] if cut != -1 else value) + "..."
    return value


def header_token(text: object, limit: int = 200) -> str:
    """A list item (a field name) in a comma-separated header: commas are encoded as well."""
    return header_value(text, limit).replace(",", "%2C")
