"""``rnnkit serve``: trained runs behind an HTTP API (FastAPI on uvicorn) with a web page per app.

Not an app itself (it trains nothing; it is not in the registry): a top-level verb, like
``predict``, that loads runs with :func:`rnnkit.load`. :mod:`.app` builds the application,
:mod:`.batching` micro-batches concurrent requests, :mod:`.metrics` counts them,
:mod:`.services` holds one module per app, ``pages/`` the HTML and JavaScript (no CDN: the pages
work offline). Needs the ``serve`` extra: ``pip install 'rnnkit[serve]'``.
"""

__all__ = ["create_app"]


def create_app(*args, **kwargs):
    """See :func:`rnnkit.apps.serve.app.create_app` (imported lazily: FastAPI is an extra)."""
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)
