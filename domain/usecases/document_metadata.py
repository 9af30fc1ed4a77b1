"""A document's metadata: what the caller gave over what the file declares about itself.

A file may declare metadata (Markdown front matter: ``ParsedDocument.declared``). The
document's metadata is that, with the caller's keys winning: a value given explicitly
(``--metadata year=2023``, the upload's ``metadata``) is a deliberate correction of the
file. Which keys came from the file is kept under :data:`FROM_FILE`, so that a new version
of the file replaces them (a changed ``year`` in the front matter is the new year) while
the caller's keys stay; that key is not copied onto chunks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput

FROM_FILE = "front_matter_keys"


def check_explicit(metadata: Mapping[str, Any] | None, field: str = "metadata") -> None:
    """Refuse caller metadata that uses the key kept for the file's keys."""
    if metadata is not None and FROM_FILE in metadata:
        raise InvalidInput(field, f"the key {FROM_FILE!r} is set by ingestion; use another name")


def explicit_part(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a document's metadata that the caller gave (not taken from its file)."""
    from_file = metadata.get(FROM_FILE)
    taken = set(from_file) if isinstance(from_file, list) else set()
    return {key: value for key, value in metadata.items() if key != FROM_FILE and key not in taken}


def merged(metadata: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata of a document whose file declares ``declared``: the caller's keys win."""
    explicit = explicit_part(metadata)
    declared = {key: value for key, value in declared.items() if key != FROM_FILE}
    from_file = sorted(key for key in declared if key not in explicit)
    combined: dict[str, Any] = {**declared, **explicit}
    if from_file:
        combined[FROM_FILE] = from_file
    return v.json_object("metadata", combined)


def for_chunks(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """What a chunk carries of its document's metadata (everything but the bookkeeping)."""
    return {key: value for key, value in metadata.items() if key != FROM_FILE}
