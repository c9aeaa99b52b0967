"""Rule evaluation (``actions.rules``) and the rasa-sdk actions that call it."""
