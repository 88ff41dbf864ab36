"""The textgen application (see task.py)."""
