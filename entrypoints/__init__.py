"""Entrypoints: the composition root, and (in later issues) the HTTP API and CLI."""
