"""The blob check on both backends: strays, missing and changed blobs found; repair deletes old
strays and rewrites a broken blob from an intact copy of the same content."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tenantrag.adapters.clock import SystemClock
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.errors import PermissionDenied
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.blob_store import blob_key
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.blob_check import BlobCheck, ProblemKind
from tenantrag.domain.usecases.principal import Principal
from tests.unit.usecases.disk_blobs import disk_app
from tests.unit.usecases.workspace import Workspace

TEXT = b"Two documents may hold the very same words."


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def app(store: UnitOfWorkFactory, hasher: PwdlibPasswordHasher, root: Path) -> TenantRag:
    return disk_app(store, SystemClock(), hasher, root)


def _checker(app: TenantRag) -> BlobCheck:
    return BlobCheck(app.uow, SystemClock(), app.ingestion.blobs)


async def test_problems_are_found_and_what_can_be_repaired_is(
    app: TenantRag, workspace: Workspace, root: Path
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    first = await app.ingestion.submit(member, tenant, filename="a.txt", data=TEXT, source_key="a", wait=True)
    second = await app.ingestion.submit(
        member, tenant, filename="b.txt", data=TEXT, source_key="b", wait=True
    )
    [broken] = await app.documents.versions(member, tenant, first.document.id)
    [intact] = await app.documents.versions(member, tenant, second.document.id)
    await app.ingestion.blobs.put(tenant, broken.storage_key, b"not the words at all")
    stray_key = blob_key(first.document.id, first.document.id, "stray.txt")
    await app.ingestion.blobs.put(tenant, stray_key, b"left by a crash")
    day_ago = time.time() - 86_400
    os.utime(root / str(tenant) / stray_key, (day_ago, day_ago))

    found = await _checker(app).check(Principal.system())

    assert {(p.kind, p.key) for p in found.problems} == {
        (ProblemKind.CORRUPTED, broken.storage_key),
        (ProblemKind.STRAY, stray_key),
    }
    assert not found.consistent

    repaired = await _checker(app).check(Principal.system(), repair=True)

    assert all(problem.repaired for problem in repaired.problems)
    assert repaired.consistent
    assert await app.ingestion.blobs.get(tenant, broken.storage_key) == TEXT
    assert not await app.ingestion.blobs.exists(tenant, stray_key)
    assert await app.ingestion.blobs.get(tenant, intact.storage_key) == TEXT
    assert (await _checker(app).check(Principal.system())).problems == ()


async def test_young_strays_are_left_alone(app: TenantRag, workspace: Workspace) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    done = await app.ingestion.submit(member, tenant, filename="a.txt", data=TEXT, wait=True)
    young = blob_key(done.document.id, done.document.id, "committing.txt")
    await app.ingestion.blobs.put(tenant, young, b"an upload not yet committed")

    report = await _checker(app).check(Principal.system(), repair=True, grace=timedelta(minutes=5))

    assert report.problems == ()
    assert report.recent_strays == 1
    assert await app.ingestion.blobs.exists(tenant, young)


async def test_a_missing_blob_without_a_copy_is_reported_with_the_way_back(
    app: TenantRag, workspace: Workspace
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    done = await app.ingestion.submit(member, tenant, filename="a.txt", data=TEXT, wait=True)
    [version] = await app.documents.versions(member, tenant, done.document.id)
    await app.ingestion.blobs.delete(tenant, version.storage_key)

    [problem] = (await _checker(app).check(Principal.system(), repair=True)).problems

    assert (problem.kind, problem.repaired, problem.version) == (ProblemKind.MISSING, False, 1)
    assert "submit the content again" in problem.detail


async def test_only_operators_check_the_store(app: TenantRag, workspace: Workspace) -> None:
    with pytest.raises(PermissionDenied):
        await _checker(app).check(workspace.actor(Role.OWNER))
