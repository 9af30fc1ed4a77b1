"""Full text ranked by BM25 with each tenant's own statistics.

Revision ID: a7d4c1e9b250
Revises: d8b3e6f4a152
Create Date: 2026-12-07 22:00:00

A tenant's text scores now depend on its own chunks only (adapters/sql/bm25.py): how many
chunks it has, how many words they hold, and how many of them hold each query word.

- ``tenant_text_stats`` (both dialects): per tenant, ``chunk_count`` and ``term_count`` (the
  words its chunks hold, stop words aside), kept by triggers on ``chunks`` in the
  transaction that writes the chunks; under row-level security on PostgreSQL. Backfilled.
- PostgreSQL: ``chunks.term_count``, a stored generated column counting the words of the
  chunk's tsvector (``tenantrag_word_count(to_tsvector(<the search_vector's
  configuration>, content))``). Adding it rewrites ``chunks`` (an exclusive lock while it
  runs). Statement-level triggers with transition tables keep the statistics, one upsert
  per tenant and statement.
- SQLite: the FTS5 index is rebuilt to hold the chunks' stems (``text_analysis``: the
  Snowball English stemmer and PostgreSQL's English stop words, as PostgreSQL indexes) and
  their word counts, as its own content keyed by the chunks' rowid, with an ``fts5vocab``
  table (``chunks_fts_instance``) that gives a word's occurrences per chunk. The insert
  trigger calls ``tenantrag_terms(content)``, registered on every connection by
  ``adapters/sqlite/engine.py``. A later revision (or a ``VACUUM``) that changes the
  chunks' rowids must rebuild the index the way this revision fills it.
"""

# ruff: noqa: S608 - every statement here is built from this module's constants alone.
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7d4c1e9b250"
down_revision: str | Sequence[str] | None = "d8b3e6f4a152"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT_TENANT = "NULLIF(current_setting('app.current_tenant_id', true), '')::uuid"
# Words in a stemmed text: '' holds none, else one more than its spaces.
_WORDS = "CASE t WHEN '' THEN 0 ELSE length(t) - length(replace(t, ' ', '')) + 1 END"
_SQLITE_INDEX = (
    "INSERT INTO chunks_fts(rowid, terms, term_count) SELECT {row}, t, "
    + _WORDS
    + " FROM (SELECT tenantrag_terms({content}) AS t)"
)
_SQLITE_STATS_ADD = (
    "INSERT INTO tenant_text_stats(tenant_id, chunk_count, term_count)"
    " SELECT new.tenant_id, 1, term_count FROM chunks_fts WHERE rowid = new.rowid"
    " ON CONFLICT(tenant_id) DO UPDATE SET chunk_count = tenant_text_stats.chunk_count + 1,"
    " term_count = tenant_text_stats.term_count + excluded.term_count"
)
_SQLITE_STATS_REMOVE = (
    "UPDATE tenant_text_stats SET chunk_count = chunk_count - 1,"
    " term_count = term_count - coalesce((SELECT term_count FROM chunks_fts WHERE rowid = old.rowid), 0)"
    " WHERE tenant_id = old.tenant_id"
)


def upgrade() -> None:
    op.create_table(
        "tenant_text_stats",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_count", sa.BigInteger(), nullable=False),
        sa.Column("term_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_text_stats_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_text_stats")),
    )
    if op.get_context().dialect.name == "postgresql":
        _upgrade_postgres()
    else:
        _upgrade_sqlite()


def _upgrade_postgres() -> None:
    op.execute("ALTER TABLE tenant_text_stats ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tenant_text_stats FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON tenant_text_stats FOR ALL"
        f" USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )
    op.execute(
        "CREATE FUNCTION tenantrag_word_count(tsvector) RETURNS integer"
        " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE"
        " AS $$ SELECT coalesce(sum(coalesce(cardinality(positions), 1)), 0)::integer FROM unnest($1) $$"
    )
    config = op.get_bind().execute(sa.text(_COLUMN_CONFIG)).scalar_one()
    op.execute(
        "ALTER TABLE chunks ADD COLUMN term_count integer GENERATED ALWAYS AS"
        f" (tenantrag_word_count(to_tsvector('{config}'::regconfig, content))) STORED"
    )
    op.execute(
        """CREATE FUNCTION tenantrag_text_stats_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO tenant_text_stats AS s (tenant_id, chunk_count, term_count)
            SELECT tenant_id, count(*), coalesce(sum(term_count), 0) FROM changed_chunks
            GROUP BY tenant_id ORDER BY tenant_id
            ON CONFLICT (tenant_id) DO UPDATE SET chunk_count = s.chunk_count + excluded.chunk_count,
                term_count = s.term_count + excluded.term_count;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        """CREATE FUNCTION tenantrag_text_stats_remove() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE tenant_text_stats AS s SET chunk_count = s.chunk_count - gone.chunk_count,
                term_count = s.term_count - gone.term_count
            FROM (SELECT tenant_id, count(*) AS chunk_count, coalesce(sum(term_count), 0) AS term_count
                  FROM changed_chunks GROUP BY tenant_id) AS gone
            WHERE s.tenant_id = gone.tenant_id;
            RETURN NULL;
        END $$"""
    )
    # An update (chunks are not updated today, but a tool may) moves its rows' counts.
    for name, event, rows, function in (
        ("insert", "INSERT", "NEW", "add"),
        ("delete", "DELETE", "OLD", "remove"),
        ("update_old", "UPDATE", "OLD", "remove"),
        ("update_new", "UPDATE", "NEW", "add"),
    ):
        op.execute(
            f"CREATE TRIGGER chunks_text_stats_{name} AFTER {event} ON chunks REFERENCING {rows} TABLE"
            f" AS changed_chunks FOR EACH STATEMENT EXECUTE FUNCTION tenantrag_text_stats_{function}()"
        )
    # The migration's role may be held to row-level security (FORCE): count every tenant.
    op.execute(
        "INSERT INTO tenant_text_stats (tenant_id, chunk_count, term_count)"
        " SELECT tenant_id, count(*), coalesce(sum(term_count), 0) FROM chunks GROUP BY tenant_id"
    )


# The configuration chunks.search_vector was generated with (adapters/postgres/fulltext.py).
_COLUMN_CONFIG = (
    "SELECT substring(pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM '''([^'']+)''::regconfig')"
    " FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_attribute a"
    " ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
    " WHERE d.adrelid = to_regclass('chunks') AND a.attname = 'search_vector'"
)


def _upgrade_sqlite() -> None:
    for trigger in ("chunks_fts_update", "chunks_fts_delete", "chunks_fts_insert"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS chunks_fts")
    op.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5(terms, term_count UNINDEXED,"
        " tokenize='unicode61 remove_diacritics 0')"
    )
    op.execute("CREATE VIRTUAL TABLE chunks_fts_instance USING fts5vocab(chunks_fts, instance)")
    op.execute(
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN "
        + _SQLITE_INDEX.format(row="new.rowid", content="new.content")
        + "; "
        + _SQLITE_STATS_ADD
        + "; END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN "
        + _SQLITE_STATS_REMOVE
        + "; DELETE FROM chunks_fts WHERE rowid = old.rowid; END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_update AFTER UPDATE OF content, tenant_id ON chunks BEGIN "
        + _SQLITE_STATS_REMOVE
        + "; DELETE FROM chunks_fts WHERE rowid = old.rowid; "
        + _SQLITE_INDEX.format(row="new.rowid", content="new.content")
        + "; "
        + _SQLITE_STATS_ADD
        + "; END"
    )
    op.execute(
        "INSERT INTO chunks_fts(rowid, terms, term_count) SELECT rowid, t, "
        + _WORDS
        + " FROM (SELECT rowid, tenantrag_terms(content) AS t FROM chunks)"
    )
    op.execute(
        "INSERT INTO tenant_text_stats(tenant_id, chunk_count, term_count)"
        " SELECT c.tenant_id, count(*), coalesce(sum(f.term_count), 0)"
        " FROM chunks c JOIN chunks_fts f ON f.rowid = c.rowid GROUP BY c.tenant_id"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for trigger in ("update_new", "update_old", "delete", "insert"):
            op.execute(f"DROP TRIGGER IF EXISTS chunks_text_stats_{trigger} ON chunks")
        op.execute("DROP FUNCTION IF EXISTS tenantrag_text_stats_add()")
        op.execute("DROP FUNCTION IF EXISTS tenantrag_text_stats_remove()")
        op.execute("ALTER TABLE chunks DROP COLUMN IF EXISTS term_count")
        op.execute("DROP FUNCTION IF EXISTS tenantrag_word_count(tsvector)")
    else:
        for trigger in ("chunks_fts_update", "chunks_fts_delete", "chunks_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS chunks_fts_instance")
        op.execute("DROP TABLE IF EXISTS chunks_fts")
        # The index of revision 7c1e2a9b4d10: the chunks' content, stemmed by FTS5's porter.
        op.execute(
            "CREATE VIRTUAL TABLE chunks_fts USING fts5(content, content='chunks', content_rowid='rowid',"
            " tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN"
            " INSERT INTO chunks_fts(rowid, content) VALUES (new.rowid, new.content); END"
        )
        op.execute(
            "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN"
            " INSERT INTO chunks_fts(chunks_fts, rowid, content)"
            " VALUES ('delete', old.rowid, old.content); END"
        )
        op.execute(
            "CREATE TRIGGER chunks_fts_update AFTER UPDATE OF content ON chunks BEGIN"
            " INSERT INTO chunks_fts(chunks_fts, rowid, content) VALUES ('delete', old.rowid, old.content);"
            " INSERT INTO chunks_fts(rowid, content) VALUES (new.rowid, new.content); END"
        )
        op.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")
    op.drop_table("tenant_text_stats")
