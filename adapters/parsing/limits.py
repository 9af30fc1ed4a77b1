"""How much work one document may cost to parse: pages, inflated bytes, time.

A PDF's size says little about its cost: compressed content streams inflate, and pages
may share one stream, so a few kilobytes can stand for gigabytes of text operators (the
red-team's 4.9 KB file took 18 s). These limits bound that work; a document over any of
them fails with :class:`~tenantrag.domain.ports.parser.UnparseableDocument` naming the limit
(and the setting that changes it). The defaults are generous for real documents; the
deployment's values come from settings (``PARSE_MAX_PAGES``, ``PARSE_MAX_INFLATED_BYTES``,
``PARSE_TIMEOUT_SECONDS``, ``PARSE_WORKERS``).
"""

from __future__ import annotations

import attrs

from tenantrag.domain import validation as v

DEFAULT_MAX_PAGES = 2_000
# Every page's decoded content streams, summed page by page (a shared stream counts on
# every page that draws it, as it is interpreted again for each).
DEFAULT_MAX_INFLATED_BYTES = 32 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 60.0
# Processes that parse PDFs, each killed and replaced when a parse runs out of time.
DEFAULT_WORKERS = 1


@attrs.frozen(kw_only=True)
class ParseLimits:
    max_pages: int = attrs.field(default=DEFAULT_MAX_PAGES, validator=v.is_positive)
    max_inflated_bytes: int = attrs.field(default=DEFAULT_MAX_INFLATED_BYTES, validator=v.is_positive)
    timeout_seconds: float = attrs.field(
        default=DEFAULT_TIMEOUT_SECONDS, validator=v.is_number(0.001, 86_400)
    )
    workers: int = attrs.field(default=DEFAULT_WORKERS, validator=v.is_positive)
