"""``python -m rnnkit.apps.serve RUN [RUN ...]``: the same as ``rnnkit serve``."""

from .cli import main

raise SystemExit(main())
