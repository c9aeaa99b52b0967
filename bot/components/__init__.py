"""Custom NLU components that run inside the Rasa process (dependency-light)."""
