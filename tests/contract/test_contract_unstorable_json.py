"""JSON with NUL anywhere is refused by the domain, naming its path; any other valid JSON is
accepted and comes back unchanged from every backend (PostgreSQL's jsonb included)."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantrag.domain import validation
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import seed_tenant

# Valid Unicode without NUL: every string a backend stores.
storable_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)
    | storable_text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(storable_text, inner, max_size=4),
    max_leaves=20,
)
json_objects = st.dictionaries(storable_text, json_values, max_size=5)


@st.composite
def with_nul(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A JSON object with a NUL put in one key or string at some depth, and that place's path."""
    document = draw(json_objects)
    path: list[str | int] = []
    node: Any = document
    while True:  # walk down to a random container
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        containers = [(k, v) for k, v in children if isinstance(v, (dict, list))]
        if not containers or not draw(st.booleans()):
            break
        key, node = draw(st.sampled_from(containers))
        path.append(key)
    poisoned = draw(storable_text).replace("", "\x00", 1) if draw(st.booleans()) else "\x00"
    if isinstance(node, dict) and draw(st.booleans()):
        node[poisoned] = 1  # in a key: the error names the object holding it
    elif isinstance(node, dict):
        node["k"] = poisoned
        path.append("k")
    else:
        node.append(poisoned)
        path.append(len(node) - 1)
    return document, _path("metadata", path)


def _path(field: str, steps: list[str | int]) -> str:
    for step in steps:
        if isinstance(step, int):
            field += f"[{step}]"
        else:
            field += f".{step}" if step.isidentifier() else f"[{json.dumps(step)}]"
    return field


@settings(max_examples=300, deadline=None)
@given(case=with_nul())
def test_json_holding_nul_at_any_depth_is_refused_naming_the_place(case: tuple[dict[str, Any], str]) -> None:
    document, path = case
    with pytest.raises(InvalidInput, match="NUL") as refused:
        validation.json_object("metadata", document)
    assert refused.value.field == path


def test_lone_surrogates_are_refused_in_keys_and_values() -> None:
    with pytest.raises(InvalidInput, match="lone surrogate") as refused:
        validation.json_object("settings", {"a": [{"b": "\udc80"}]})
    assert refused.value.field == "settings.a[0].b"
    with pytest.raises(InvalidInput, match="lone surrogate") as refused:
        validation.json_object("settings", {"\ud800x": 1})
    assert refused.value.field == "settings"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=json_objects)
async def test_any_other_json_is_accepted_and_stored_unchanged(
    backend: UnitOfWorkFactory, document: dict[str, Any]
) -> None:
    accepted = validation.json_object("settings", document)
    assert accepted == json.loads(json.dumps(document))
    seeded = await seed_tenant(backend)
    tenant = attrs.evolve(seeded.tenant, settings=accepted)
    async with backend.tenant(tenant.id) as uow:
        await uow.tenant.update(tenant)
        await uow.commit()
    async with backend.system() as uow:
        stored = await uow.tenants.get(tenant.id)
    assert stored is not None
    assert stored.settings == accepted
