"""The caption application (see task.py)."""
