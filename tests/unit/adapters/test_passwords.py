"""PwdlibPasswordHasher: Argon2 hashes, bcrypt and weaker hashes upgraded, bad hashes never raise."""

from __future__ import annotations

import bcrypt
import pytest

from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.user import MAX_PASSWORD_LENGTH

PASSWORD = "correct horse battery staple"
# Cheap parameters: these tests check behaviour, not hash strength.
CHEAP = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


@pytest.fixture(scope="module")
def hasher() -> PwdlibPasswordHasher:
    return PwdlibPasswordHasher(**CHEAP)


def test_a_hash_verifies_its_password_and_is_current(hasher: PwdlibPasswordHasher) -> None:
    password_hash = hasher.hash(PASSWORD)

    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash
    assert hasher.verify_and_update(PASSWORD, password_hash) == (True, None)


def test_hashes_are_salted(hasher: PwdlibPasswordHasher) -> None:
    assert hasher.hash(PASSWORD) != hasher.hash(PASSWORD)


@pytest.mark.parametrize("attempt", ["correct horse battery stapl", "Correct horse battery staple", ""])
def test_a_wrong_password_fails(hasher: PwdlibPasswordHasher, attempt: str) -> None:
    assert hasher.verify_and_update(attempt, hasher.hash(PASSWORD)) == (False, None)


def test_a_bcrypt_hash_verifies_and_is_upgraded_to_argon2(hasher: PwdlibPasswordHasher) -> None:
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()

    valid, upgraded = hasher.verify_and_update(PASSWORD, legacy)

    assert valid
    assert upgraded is not None
    assert upgraded.startswith("$argon2id$")
    assert hasher.verify_and_update(PASSWORD, upgraded) == (True, None)
    assert hasher.verify_and_update("not it", legacy) == (False, None)


def test_a_bcrypt_hash_of_a_long_password_still_verifies(hasher: PwdlibPasswordHasher) -> None:
    # Older bcrypt libraries hashed only the first 72 bytes and dropped the rest silently.
    password = "é" * 60  # 120 bytes in UTF-8
    legacy = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()

    valid, upgraded = hasher.verify_and_update(password, legacy)

    assert valid
    assert upgraded is not None
    # The Argon2 upgrade covers the whole password, not just what bcrypt kept of it.
    assert hasher.verify_and_update(password, upgraded) == (True, None)
    assert hasher.verify_and_update("é" * 36, upgraded) == (False, None)


def test_a_hash_with_other_argon2_parameters_is_upgraded() -> None:
    weak = PwdlibPasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    strong = PwdlibPasswordHasher(time_cost=2, memory_cost=128, parallelism=1)

    valid, upgraded = strong.verify_and_update(PASSWORD, weak.hash(PASSWORD))

    assert valid
    assert upgraded is not None
    assert "m=128,t=2,p=1" in upgraded
    assert strong.verify_and_update(PASSWORD, upgraded) == (True, None)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "garbage",
        "$argon2id$v=19$m=65536,t=3,p=4$abc",
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$",
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzYWx0$aGFzaMOp",
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzYWx0$é",
        "$2b$04$" + "a" * 53,
        "$2x$04$abcdefghijklmnopqrstuuMVB8lz3MkrJmsH9rD4ztp8Ya6h33xOm",
        "$pbkdf2-sha256$29000$abc$def",
    ],
)
def test_an_unusable_hash_is_a_failed_verification(hasher: PwdlibPasswordHasher, stored: str) -> None:
    assert hasher.verify_and_update(PASSWORD, stored) == (False, None)


def test_passwords_that_cannot_be_encoded_fail_instead_of_raising(hasher: PwdlibPasswordHasher) -> None:
    assert hasher.verify_and_update("lone \ud800 surrogate", hasher.hash(PASSWORD)) == (False, None)


def test_an_overlong_password_never_matches(hasher: PwdlibPasswordHasher) -> None:
    assert hasher.verify_and_update("x" * (MAX_PASSWORD_LENGTH + 1), hasher.hash(PASSWORD)) == (False, None)


@pytest.mark.parametrize(
    "password", ["", "   ", "x" * (MAX_PASSWORD_LENGTH + 1), "nul\x00inside", "lone \udc80 surrogate"]
)
def test_unacceptable_passwords_are_refused(hasher: PwdlibPasswordHasher, password: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        hasher.hash(password)

    assert caught.value.field == "password"


def test_the_longest_accepted_password_hashes(hasher: PwdlibPasswordHasher) -> None:
    password = "y" * MAX_PASSWORD_LENGTH

    assert hasher.verify_and_update(password, hasher.hash(password)) == (True, None)


def test_dummy_verify_runs_a_verification_with_the_configured_parameters() -> None:
    # Timing is not asserted (no timed unit tests); what makes the costs equal is that the
    # dummy hash is an Argon2 hash with exactly the parameters real hashes get.
    hasher = PwdlibPasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    real_parameters = hasher.hash(PASSWORD).rsplit("$", 2)[0]
    assert hasher._dummy_hash.rsplit("$", 2)[0] == real_parameters
    assert real_parameters.startswith("$argon2id$")
    assert "m=2048,t=2,p=1" in real_parameters
    hasher.dummy_verify()  # and it never raises, whatever the random password


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time_cost": 0}, "time_cost"),
        ({"memory_cost": 7, "parallelism": 1}, "memory_cost"),
        ({"memory_cost": 16, "parallelism": 4}, "memory_cost"),
        ({"parallelism": 0, "memory_cost": 64}, "parallelism"),
    ],
)
def test_invalid_argon2_parameters_are_refused(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PwdlibPasswordHasher(**kwargs)

    assert caught.value.field == field
