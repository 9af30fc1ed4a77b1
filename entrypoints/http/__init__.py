"""The HTTP API (FastAPI, under ``/v1``): ``app.create_app(container)`` builds it.

``app`` (factory and lifespan), ``auth`` and ``tokens`` (who is calling), ``dependencies``
(the ``Annotated`` aliases routes share), ``errors`` (problem+json), ``limits`` (sizes
from settings), ``routing`` (authenticate first, strict JSON), ``schemas`` (bodies),
``openapi`` (declared problems and limits), ``health`` (the detailed report and the
backend hook), and ``routers/`` (one module per resource).
"""
