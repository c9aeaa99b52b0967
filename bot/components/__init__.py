"""Custom components that run inside the Rasa process (dependency-light)."""

from components import action_response_schema  # noqa: F401  (patches Rasa on import)
