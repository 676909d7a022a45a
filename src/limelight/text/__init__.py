"""Text front end: written form → spoken words → sentences → phonemes."""
