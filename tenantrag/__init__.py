"""tenantrag: a multi-tenant document and vector store for RAG backends."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tenantrag")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
