"""Login throttling (issue 17): 429 with Retry-After, and no way to lock a victim out.

Failed logins are counted per (account, client address) and, more loosely, per client
address. An attacker who fails logins in a victim's name is stopped; the victim, from
their own address, still signs in. Argon2 runs in a worker thread, so a burst of bad
logins does not hold ``/health``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.settings import Settings
from tests.http.helpers import BASE_URL, assert_problem, make_container, make_settings
from tests.http.served import health_latencies_while, served

PASSWORD = "correct horse battery staple"
ATTACKER = ("203.0.113.7", 4000)
VICTIM = ("198.51.100.20", 5000)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        auto_migrate=not database_url.startswith("postgresql"),
        blob_store_path=tmp_path / "blobs",
        login_limit_per_account_address="3 per minute",
        login_limit_per_address="5 per minute",
    )


def _client(app: FastAPI, address: tuple[str, int]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=address), base_url=BASE_URL)


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/v1/auth/token", data={"username": email, "password": password})


async def test_an_attacker_is_throttled_and_the_victim_still_signs_in(app: FastAPI, rag: TenantRag) -> None:
    await rag.users.register(email="victim@example.com", password=PASSWORD)
    async with _client(app, ATTACKER) as attacker, _client(app, VICTIM) as victim:
        for _ in range(3):
            assert_problem(
                await _login(attacker, "victim@example.com", "guess"), 401, "authentication_failed"
            )
        # Refused before the password is checked, the right one included.
        for password in ("guess", PASSWORD):
            refused = await _login(attacker, "VICTIM@example.com", password)
            assert_problem(refused, 429, "too_many_requests")
            assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # The victim, from their own address, is not locked out.
        assert (await _login(victim, "victim@example.com", PASSWORD)).status_code == 200


async def test_one_address_spraying_many_accounts_is_throttled(app: FastAPI, rag: TenantRag) -> None:
    await rag.users.register(email="someone@example.com", password=PASSWORD)
    async with _client(app, ATTACKER) as attacker, _client(app, VICTIM) as elsewhere:
        for number in range(5):
            failed = await _login(attacker, f"user{number}@example.com", "guess")
            assert_problem(failed, 401, "authentication_failed")
        throttled = await _login(attacker, "someone@example.com", PASSWORD)
        assert_problem(throttled, 429, "too_many_requests")
        assert int(throttled.headers["Retry-After"]) >= 1
        assert (await _login(elsewhere, "someone@example.com", PASSWORD)).status_code == 200


async def test_a_successful_login_clears_its_own_count(app: FastAPI, rag: TenantRag) -> None:
    await rag.users.register(email="forgetful@example.com", password=PASSWORD)
    async with _client(app, VICTIM) as client:
        for _round in range(2):
            for _ in range(2):
                assert_problem(
                    await _login(client, "forgetful@example.com", "oops"), 401, "authentication_failed"
                )
            assert (await _login(client, "forgetful@example.com", PASSWORD)).status_code == 200


@pytest.mark.parametrize("database_url", [pytest.param("memory://", marks=pytest.mark.memory, id="memory")])
async def test_health_stays_fast_while_many_bad_logins_hash(settings: Settings) -> None:
    """20 concurrent wrong passwords with real Argon2 work: /health answers meanwhile."""
    container = make_container(settings.model_copy(update={"login_limit_per_address": "100 per minute"}))
    hasher = PwdlibPasswordHasher(time_cost=2, memory_cost=32 * 1024, parallelism=1)
    container.hasher.override(hasher)
    started = time.perf_counter()
    hasher.verify_and_update("wrong", hasher.hash(PASSWORD))
    one_verification = (time.perf_counter() - started) / 2
    app = create_app(container)
    async with served(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=60) as attacker:
        emails = [f"user{n}@example.com" for n in range(20)]
        burst = asyncio.gather(*(_login(attacker, email, "wrong") for email in emails))
        latencies = await health_latencies_while(base_url, burst)
        statuses = {response.status_code for response in await burst}
    assert statuses == {401}
    # On the event loop, each /health would wait for the verifications queued before it
    # (20 in a row at worst); in threads it waits for none of them.
    assert latencies.quantile(0.99) < max(0.1, 2 * one_verification), (one_verification, latencies)
