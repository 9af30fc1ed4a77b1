"""The embedder settings: read from their variables, checked at start naming the variable,
the API key never shown; and make_embedder / the container building what EMBEDDER names."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tenantrag.adapters.embedders import sentence_transformers
from tenantrag.adapters.embedders.openai_compatible import DEFAULT_BASE_URL, OpenAICompatibleEmbedder
from tenantrag.adapters.embedders.sentence_transformers import SentenceTransformersEmbedder
from tenantrag.adapters.embedders.wordllama import WordLlamaEmbedder
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.errors import InvalidInput
from tenantrag.entrypoints.container import container_for, running
from tenantrag.entrypoints.embedders import make_embedder
from tenantrag.entrypoints.settings import Settings, SettingsError, variables
from tests.entrypoints.conftest import MakeSettings
from tests.unit.fake_embeddings_server import FakeEmbeddingsServer, clear_proxies

SECRET = "s" * 64
KEY = "sk-proj-settings-test-KEY-42"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
PRODUCTION = {"ENVIRONMENT": "production", "JWT_SECRET_KEY": SECRET}

NEW_VARIABLES = {
    "EMBEDDING_MODEL",
    "EMBEDDING_BASE_URL",
    "EMBEDDING_API_KEY",
    "EMBEDDING_BATCH_SIZE",
    "EMBEDDING_TIMEOUT",
    "EMBEDDING_MAX_RETRIES",
    "EMBEDDING_REQUEST_DIMENSIONS",
}


def test_the_defaults_are_the_offline_wordllama_embedder(settings_from_env: MakeSettings) -> None:
    settings = settings_from_env()

    assert (settings.embedder, settings.embedding_model, settings.embedding_dimension) == (
        "wordllama",
        None,
        256,
    )
    assert not settings.embedder_chosen
    assert (settings.embedding_base_url, settings.embedding_api_key) == (DEFAULT_BASE_URL, None)
    assert (settings.embedding_batch_size, settings.embedding_timeout) == (64, 30.0)
    assert (settings.embedding_max_retries, settings.embedding_request_dimensions) == (5, False)


def test_the_new_variables_are_settings() -> None:
    every = {name for names in variables().values() for name in names}
    assert NEW_VARIABLES.issubset(every)


# (variables, field, expected value after parsing)
READ = [
    ({"EMBEDDER": "openai", "EMBEDDING_MODEL": "my-model"}, "embedding_model", "my-model"),
    ({"EMBEDDER": "sentence-transformers", "EMBEDDING_MODEL": MINILM}, "embedder", "sentence-transformers"),
    ({"EMBEDDER": "fastembed", "EMBEDDING_MODEL": "BAAI/bge-small-en-v1.5"}, "embedder", "fastembed"),
    ({"EMBEDDER": "hashing"}, "embedding_dimension", 384),
    ({"EMBEDDER": "hashing", "EMBEDDING_DIMENSION": "48"}, "embedding_dimension", 48),
    ({"EMBEDDER": "wordllama"}, "embedding_dimension", 256),
    ({"EMBEDDING_BASE_URL": "http://localhost:11434/v1/"}, "embedding_base_url", "http://localhost:11434/v1"),
    ({"EMBEDDING_BATCH_SIZE": "2048"}, "embedding_batch_size", 2048),
    ({"EMBEDDING_TIMEOUT": "2.5"}, "embedding_timeout", 2.5),
    ({"EMBEDDING_MAX_RETRIES": "0"}, "embedding_max_retries", 0),
    ({"EMBEDDING_REQUEST_DIMENSIONS": "true"}, "embedding_request_dimensions", True),
]  # fmt: skip


@pytest.mark.parametrize(("environment", "field", "expected"), READ, ids=[f for _, f, _ in READ])
def test_every_variable_is_read(
    settings_from_env: MakeSettings, environment: dict[str, str], field: str, expected: object
) -> None:
    assert getattr(settings_from_env(**environment), field) == expected


def test_the_api_key_is_read_as_a_secret(settings_from_env: MakeSettings) -> None:
    settings = settings_from_env(EMBEDDING_API_KEY=f"  {KEY}\n")

    assert settings.embedding_api_key is not None
    assert settings.embedding_api_key.get_secret_value() == KEY  # whitespace from a .env is dropped
    assert KEY not in repr(settings)
    assert KEY not in str(settings)


@pytest.mark.parametrize("embedder", ["sentence-transformers", "fastembed"])
def test_a_local_model_embedder_asks_for_its_model_instead_of_downloading_one(
    settings_from_env: MakeSettings, embedder: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(EMBEDDER=embedder)
    variable, message = raised.value.problems[0]
    assert variable == "EMBEDDING_MODEL"
    assert f"is required when EMBEDDER={embedder}" in message
    assert "local folder" in message
    assert settings_from_env(EMBEDDER=embedder, EMBEDDING_MODEL="acme/m").embedding_model == "acme/m"


EMBEDDERS = "'wordllama', 'hashing', 'openai', 'sentence-transformers' or 'fastembed'"
# (variables, the variable the message must name, a fragment of what it says)
INVALID = [
    ({"EMBEDDER": "word2vec"}, "EMBEDDER", EMBEDDERS),
    ({"EMBEDDER": "openai"}, "EMBEDDING_MODEL", "is required when EMBEDDER=openai"),
    ({"EMBEDDER": "openai", "EMBEDDING_MODEL": "  "}, "EMBEDDING_MODEL", "is required when EMBEDDER=openai"),
    ({"EMBEDDING_MODEL": "text-embedding-3-small"}, "EMBEDDING_MODEL", "the wordllama embedder has no model"),
    ({"EMBEDDER": "hashing", "EMBEDDING_MODEL": "m"}, "EMBEDDING_MODEL", "the hashing embedder has no model"),
    ({"EMBEDDER": "wordllama", "EMBEDDING_DIMENSION": "384"}, "EMBEDDING_DIMENSION", "makes 256-dimensional"),
    ({"EMBEDDING_BASE_URL": "ftp://files.example.com/v1"}, "EMBEDDING_BASE_URL", "http:// or https://"),
    ({"EMBEDDING_BASE_URL": "api.openai.com/v1"}, "EMBEDDING_BASE_URL", "http:// or https://"),
    ({"EMBEDDING_BATCH_SIZE": "0"}, "EMBEDDING_BATCH_SIZE", "greater than or equal to 1"),
    ({"EMBEDDING_BATCH_SIZE": "4096"}, "EMBEDDING_BATCH_SIZE", "less than or equal to 2048"),
    ({"EMBEDDING_TIMEOUT": "0"}, "EMBEDDING_TIMEOUT", "greater than 0"),
    ({"EMBEDDING_TIMEOUT": "soon"}, "EMBEDDING_TIMEOUT", "valid number"),
    ({"EMBEDDING_MAX_RETRIES": "11"}, "EMBEDDING_MAX_RETRIES", "less than or equal to 10"),
    ({"EMBEDDING_MAX_RETRIES": "-1"}, "EMBEDDING_MAX_RETRIES", "greater than or equal to 0"),
    ({"EMBEDDING_REQUEST_DIMENSIONS": "maybe"}, "EMBEDDING_REQUEST_DIMENSIONS", "valid boolean"),
    (
        {**PRODUCTION, "EMBEDDER": "openai", "EMBEDDING_MODEL": "text-embedding-3-small"},
        "EMBEDDING_API_KEY",
        f"is required when EMBEDDER=openai uses {DEFAULT_BASE_URL} and ENVIRONMENT=production",
    ),
    (
        {"ENVIRONMENT": "test", "JWT_SECRET_KEY": SECRET, "EMBEDDER": "openai", "EMBEDDING_MODEL": "m",
         "EMBEDDING_API_KEY": "   "},
        "EMBEDDING_API_KEY",
        "ENVIRONMENT=test",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("environment", "variable", "says"), INVALID, ids=[str(i[0]) for i in INVALID])
def test_an_invalid_value_names_its_variable(
    settings_from_env: MakeSettings, environment: dict[str, str], variable: str, says: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(**environment)
    assert raised.value.problems[0][0] == variable
    assert says in raised.value.problems[0][1]
    assert str(raised.value).startswith(f"invalid setting {variable}: ")


@pytest.mark.parametrize(
    "environment",
    [
        {"EMBEDDER": "openai", "EMBEDDING_MODEL": "m"},  # development
        {**PRODUCTION, "EMBEDDER": "openai", "EMBEDDING_MODEL": "m", "EMBEDDING_API_KEY": KEY},
        {
            **PRODUCTION,
            "EMBEDDER": "openai",
            "EMBEDDING_MODEL": "m",
            "EMBEDDING_BASE_URL": "http://tei:8080/v1",
        },
        {**PRODUCTION, "EMBEDDER": "hashing"},
    ],
    ids=["development", "with-a-key", "own-server", "hashing"],
)
def test_a_key_is_needed_only_for_openai_itself_outside_development(
    settings_from_env: MakeSettings, environment: dict[str, str]
) -> None:
    settings = settings_from_env(**environment)
    assert settings.embedder == environment["EMBEDDER"]
    assert (settings.embedding_api_key is not None) is ("EMBEDDING_API_KEY" in environment)


def test_embedder_problems_are_reported_with_the_others(settings_from_env: MakeSettings) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(EMBEDDER="openai", MAX_K="0", EMBEDDING_TIMEOUT="-1")
    assert [variable for variable, _ in raised.value.problems] == [
        "EMBEDDING_MODEL",
        "EMBEDDING_TIMEOUT",
        "MAX_K",
    ]


def test_errors_never_quote_the_key_or_credentials_in_the_base_url(settings_from_env: MakeSettings) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(
            EMBEDDING_API_KEY=KEY, EMBEDDING_BATCH_SIZE="0", EMBEDDING_BASE_URL="ftp://bob:pa55word@gw/v1"
        )
    message = str(raised.value)
    assert "EMBEDDING_BASE_URL" in message
    assert "EMBEDDING_BATCH_SIZE" in message
    assert KEY not in message
    assert "pa55word" not in message


# --- make_embedder and the container -------------------------------------------------------


def test_wordllama_is_the_default_embedder(clean_env: Path) -> None:
    embedder = make_embedder(Settings(_env_file=None))
    assert isinstance(embedder, WordLlamaEmbedder)
    assert embedder.dimension == 256


def test_hashing_is_built_at_its_dimension(clean_env: Path) -> None:
    embedder = make_embedder(Settings(_env_file=None, embedder="hashing", embedding_dimension=48))
    assert isinstance(embedder, HashingEmbedder)
    assert (embedder.name, embedder.dimension) == ("hashing-48", 48)


async def test_openai_is_built_from_every_setting(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxies(monkeypatch)
    with FakeEmbeddingsServer(dimension=8) as server:
        settings = Settings(
            _env_file=None, embedder="openai", embedding_model="fake-embed", embedding_dimension=8,
            embedding_base_url=server.url, embedding_api_key=KEY, embedding_batch_size=2,
            embedding_timeout=5, embedding_max_retries=0, embedding_request_dimensions=True,
        )  # fmt: skip
        embedder = make_embedder(settings)
        assert isinstance(embedder, OpenAICompatibleEmbedder)
        try:
            vectors = await embedder.embed_documents(["one", "two", "three"])
        finally:
            await embedder.aclose()

    assert (embedder.name, embedder.dimension, len(vectors)) == ("openai:fake-embed", 8, 3)
    assert [request.body["input"] for request in server.requests] == [["one", "two"], ["three"]]
    assert {request.headers["Authorization"] for request in server.requests} == {f"Bearer {KEY}"}
    assert {(r.body["model"], r.body["dimensions"]) for r in server.requests} == {("fake-embed", 8)}


def test_sentence_transformers_is_built_with_the_model_and_batch_size(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[tuple[str, str | None]] = []
    sentence_transformers.models.clear()

    class FakeSentenceTransformer:
        def __init__(self, model: str, device: str | None = None, local_files_only: bool = False) -> None:
            built.append((model, device))

        def get_sentence_embedding_dimension(self) -> int:
            return 384

    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = FakeSentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)

    embedder = make_embedder(
        Settings(_env_file=None, embedder="sentence-transformers", embedding_model=MINILM)
    )
    sentence_transformers.models.clear()

    assert isinstance(embedder, SentenceTransformersEmbedder)
    assert built == [(MINILM, None)]
    assert (embedder.name, embedder.dimension) == (f"sentence-transformers:{MINILM}", 384)


def test_sentence_transformers_without_the_extra_says_how_to_install_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(InvalidInput, match=r"pip install 'tenantrag\[sentence-transformers\]'"):
        make_embedder(Settings(_env_file=None, embedder="sentence-transformers", embedding_model=MINILM))


async def test_the_container_closes_an_http_embedder_at_shutdown(clean_env: Path) -> None:
    values: dict[str, Any] = {
        "database_url": "memory://",
        "embedder": "openai",
        "embedding_model": "text-embedding-3-small",
        "embedding_dimension": 1536,
        "embedding_base_url": "http://127.0.0.1:9/v1",  # never called: nothing is embedded
    }
    async with running(container_for(Settings(_env_file=None, **values))) as rag:
        embedder = rag.embedder
        assert isinstance(embedder, OpenAICompatibleEmbedder)
        assert not embedder.closed
        assert rag.uow.dimension == embedder.dimension == 1536

    assert embedder.closed


async def test_a_model_that_does_not_fit_the_dimension_stops_the_container_at_start(clean_env: Path) -> None:
    settings = Settings(
        _env_file=None, database_url="memory://", embedder="openai", embedding_model="text-embedding-3-large"
    )
    with pytest.raises(InvalidInput, match="text-embedding-3-large makes 3072-dimensional vectors, not 384"):
        async with running(container_for(settings)):
            pass
