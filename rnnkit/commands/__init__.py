"""Application subcommands of the ``rnnkit`` CLI, one module each, found by rnnkit.cli.

A module here defines ``register(subparsers)``: it adds its parser (with its own sub-actions such
as train/evaluate/predict) and sets ``func=handler`` as a default, where
``handler(args, rest) -> int`` gets the parsed namespace and the unparsed ``key=value`` overrides.
"""
