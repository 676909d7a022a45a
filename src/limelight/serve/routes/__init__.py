"""HTTP routes, one module per resource: generate, OpenAI speech, voices, health."""
