"""The overfit study has no options beyond the common train block; ``rnnkit evaluate RUN`` prints
each variant's held-out loss."""
