"""The one error of the local-model embedders that no other part of tenantrag raises."""

from __future__ import annotations

from tenantrag.domain.errors import TenantRagError

__all__ = ["ModelUnavailable"]


class ModelUnavailable(TenantRagError):
    """A model could not be loaded: not in this machine's cache and not downloadable (no
    network, ``HF_HUB_OFFLINE``), or its files could not be read. The message says how to
    point at a local copy. The CLI gives it an exit code of its own."""

    code = "model_unavailable"
