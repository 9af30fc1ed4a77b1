"""Settings' secrets: outside development a JWT secret is required, as long as its hash and no
placeholder; in development one is generated beside the database and kept (memory:// and
an unwritable folder get one per process), a stored one too short is refused, and secrets and
database passwords never show in the settings or their errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from tenantrag.entrypoints import jwt_secret
from tenantrag.entrypoints.settings import Settings, SettingsError
from tests.entrypoints.conftest import MakeSettings
from tests.entrypoints.settings_values import PG, SECRET

# --- secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["test", "staging", "production"])
def test_outside_development_a_jwt_secret_is_required(
    settings_from_env: MakeSettings, environment: str
) -> None:
    with pytest.raises(SettingsError, match=f"JWT_SECRET_KEY: is required when ENVIRONMENT={environment}"):
        settings_from_env(ENVIRONMENT=environment)


@pytest.mark.parametrize(
    ("algorithm", "length", "accepted"),
    [
        ("HS256", 31, False),
        ("HS256", 32, True),
        ("HS384", 47, False),
        ("HS384", 48, True),
        ("HS512", 63, False),
        ("HS512", 64, True),
    ],
)
def test_outside_development_the_secret_must_be_as_long_as_the_hash(
    settings_from_env: MakeSettings, algorithm: str, length: int, accepted: bool
) -> None:
    environment = {"ENVIRONMENT": "production", "JWT_ALGORITHM": algorithm, "JWT_SECRET_KEY": "k" * length}
    if accepted:
        assert len(settings_from_env(**environment).jwt_secret_key.get_secret_value()) == length
    else:
        with pytest.raises(SettingsError, match=f"is {length} bytes; {algorithm} needs at least"):
            settings_from_env(**environment)


def test_outside_development_a_placeholder_secret_is_refused(settings_from_env: MakeSettings) -> None:
    with pytest.raises(SettingsError, match="placeholder"):
        settings_from_env(ENVIRONMENT="production", JWT_SECRET_KEY="dev-secret-key-not-for-production")


def test_in_development_a_short_secret_is_accepted_with_a_warning(
    settings_from_env: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings_from_env(JWT_SECRET_KEY="short").jwt_secret_key.get_secret_value() == "short"
    assert "shorter than 32 bytes" in caplog.text


def test_in_development_a_secret_is_generated_beside_the_database_and_kept(
    settings_from_env: MakeSettings, clean_env: Path
) -> None:
    (clean_env / "data").mkdir()
    first = settings_from_env(DATABASE_URL=f"sqlite:///{clean_env}/data/app.db")
    second = Settings(_env_file=None)

    secret_file = clean_env / "data" / jwt_secret.SECRET_FILE_NAME
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert first.jwt_secret_key.get_secret_value() == secret_file.read_text(encoding="ascii").strip()
    assert second.jwt_secret_key == first.jwt_secret_key
    assert len(first.jwt_secret_key.get_secret_value().encode()) >= 64
    assert not (clean_env / "data" / "app.db").exists()


def test_the_memory_backend_gets_a_secret_of_its_own_and_writes_nothing(
    settings_from_env: MakeSettings, clean_env: Path
) -> None:
    first = settings_from_env(DATABASE_URL="memory://")
    assert len(first.jwt_secret_key.get_secret_value()) >= 64
    assert list(clean_env.iterdir()) == []
    assert Settings(_env_file=None).jwt_secret_key != first.jwt_secret_key


def test_a_folder_that_cannot_hold_the_secret_means_one_per_process(
    settings_from_env: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_from_env(DATABASE_URL="sqlite:////no/such/folder/app.db")
    assert len(settings.jwt_secret_key.get_secret_value()) >= 64
    assert "for this process only" in caplog.text


def test_a_stored_secret_too_short_for_the_algorithm_is_refused(
    settings_from_env: MakeSettings, clean_env: Path
) -> None:
    (clean_env / jwt_secret.SECRET_FILE_NAME).write_text("x" * 40, encoding="ascii")
    with pytest.raises(SettingsError, match="shorter than 64 bytes; delete the file"):
        settings_from_env(JWT_ALGORITHM="HS512")


def test_secrets_and_passwords_never_show(settings_from_env: MakeSettings) -> None:
    settings = settings_from_env(DATABASE_URL=PG, DATABASE_REPLICA_URL=PG, JWT_SECRET_KEY=SECRET)
    for shown in (repr(settings), str(settings)):
        assert "pa55word" not in shown
        assert SECRET not in shown
    assert settings.redacted_database_url == "postgresql+psycopg://app:***@db.example.com:5432/rag"
    assert isinstance(settings.jwt_secret_key, SecretStr)


def test_errors_do_not_show_passwords_or_secrets(settings_from_env: MakeSettings) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(
            DATABASE_URL="mysql://app:pa55word@db/rag",
            DB_POOL_SIZE="x",
            ENVIRONMENT="production",
            JWT_SECRET_KEY="tiny-secret",
        )
    assert "pa55word" not in str(raised.value)
    with pytest.raises(SettingsError) as raised:
        settings_from_env(DATABASE_URL=PG, ENVIRONMENT="production", JWT_SECRET_KEY="tiny-secret")
    assert "tiny-secret" not in str(raised.value)
    assert "pa55word" not in str(raised.value)
