"""The authorization table: monotone in rank, caps never raise a role, the management rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.domain.errors import InvalidInput, PermissionDenied
from tenantrag.domain.policy import PERMISSIONS, Permission, Role, allows, can_manage_membership, require

roles = st.sampled_from(list(Role))
optional_roles = st.one_of(st.none(), roles)


@given(roles, roles)
def test_a_higher_role_has_every_permission_of_a_lower_one(a: Role, b: Role) -> None:
    if a.rank >= b.rank:
        assert PERMISSIONS[a] >= PERMISSIONS[b]


def test_the_ranks_are_owner_admin_member_viewer() -> None:
    assert [r.rank for r in (Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER)] == [0, 1, 2, 3]
    assert (
        PERMISSIONS[Role.OWNER]
        > PERMISSIONS[Role.ADMIN]
        > PERMISSIONS[Role.MEMBER]
        > PERMISSIONS[Role.VIEWER]
    )


def test_every_permission_belongs_to_the_owner() -> None:
    assert set(Permission) == set(PERMISSIONS[Role.OWNER])


@given(roles, optional_roles)
def test_a_cap_never_raises_a_role(role: Role, cap: Role | None) -> None:
    capped = role.capped(cap)
    assert capped.rank <= role.rank
    if cap is not None:
        assert capped.rank <= cap.rank
        assert capped.rank == min(role.rank, cap.rank)


@given(roles, st.sampled_from(list(Permission)))
def test_require_agrees_with_allows(role: Role, permission: Permission) -> None:
    if allows(role, permission):
        require(role, permission)
    else:
        with pytest.raises(PermissionDenied) as raised:
            require(role, permission)
        assert permission.value in raised.value.message


@given(roles, optional_roles, optional_roles)
def test_membership_management_rules(actor: Role, current: Role | None, target: Role | None) -> None:
    allowed = can_manage_membership(actor, current, target)
    if actor is Role.OWNER:
        assert allowed
    elif actor is Role.ADMIN:
        touches_high_role = {current, target} & {Role.OWNER, Role.ADMIN}
        assert allowed == (not touches_high_role)
    else:
        assert not allowed
    if Role.OWNER in (current, target) and current != target:
        assert allowed == (actor is Role.OWNER), "only an owner grants or removes owner"


def test_role_parsing_names_the_allowed_values() -> None:
    assert Role.parse(" Admin ") is Role.ADMIN
    with pytest.raises(InvalidInput) as raised:
        Role.parse("superboss")
    assert raised.value.field == "role"
    assert "owner, admin, member, viewer" in raised.value.message
