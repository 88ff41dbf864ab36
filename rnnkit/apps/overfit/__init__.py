"""The overfit application (see task.py)."""
