"""The video application (see task.py)."""
