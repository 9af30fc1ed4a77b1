"""Observability: Prometheus metrics, OpenTelemetry traces, structured logs and request ids.

- ``request_ids``: the id of the request being served (a context variable), read or made;
- ``logs``: text or JSON log lines (``LOG_FORMAT``), each carrying the request id;
- ``metrics``: the metrics, in one place, and the ``/metrics`` exposition (multi-process too);
- ``tracing``: OpenTelemetry, off unless ``TRACING`` names an exporter.

The HTTP side (the middleware and the ``/metrics`` route) is ``entrypoints/http/observability.py``.
"""
