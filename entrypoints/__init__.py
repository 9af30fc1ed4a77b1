"""Entrypoints: the settings, the container (the composition root), the HTTP API and the CLI."""
