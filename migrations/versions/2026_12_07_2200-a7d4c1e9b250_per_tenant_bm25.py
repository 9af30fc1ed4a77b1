"""Full text ranked by BM25 with each tenant's own statistics.

Revision ID: a7d4c1e9b250
Revises: d8b3e6f4a152
Create Date: 2026-12-07 22:00:00

A tenant's text scores now depend on its own chunks only (adapters/sql/bm25.py): how many
chunks it has, how many words they hold, and how many of them hold each query word.

- ``tenant_text_stats`` (both dialects): per tenant, ``chunk_count`` and ``term_count`` (the
  words its chunks hold, stop words aside), kept by triggers on ``chunks`` in the
  transaction that writes the chunks; under row-level security on PostgreSQL. Backfilled.
- PostgreSQL: the full text moves out of ``chunks`` into ``chunks_fts`` (``tenant_id``,
  ``chunk_id``, ``search_vector``, ``term_count``; the GIN index
  ``ix_chunks_fts_search_vector``; row-level security), so a search that ranks every chunk
  holding a common word reads these narrow rows, not the chunks' pages with their
  embeddings (four rows a page at 384 dimensions, one at 1536). A statement-level trigger
  on ``chunks`` fills it (``to_tsvector(tenantrag_text_config(), content)``, the
  configuration the dropped ``chunks.search_vector`` was generated with, now a function
  of its own); a deleted chunk's entry goes by cascade. Statement-level triggers on
  ``chunks_fts`` keep the statistics, one upsert per tenant and statement.
- SQLite: the FTS5 index is rebuilt to hold the chunks' stems (``text_analysis``: the
  Snowball English stemmer and PostgreSQL's English stop words, as PostgreSQL indexes),
  each stem after its tenant's id, so that every tenant has posting lists of its own, as
  its own content keyed by the chunks' rowid, their word counts in ``chunks_fts_sizes``
  (a plain table by rowid), with an ``fts5vocab``
  table (``chunks_fts_instance``) that gives a word's occurrences per chunk. The insert
  trigger calls ``tenantrag_terms(tenant_id, content)``, registered on every connection by
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
    "INSERT INTO chunks_fts(rowid, terms) VALUES ({row}, tenantrag_terms({tenant}, {content}));"
    " INSERT INTO chunks_fts_sizes(rowid, term_count) SELECT {row}, "
    + _WORDS
    + " FROM (SELECT terms AS t FROM chunks_fts WHERE rowid = {row})"
)
_SQLITE_STATS_ADD = (
    "INSERT INTO tenant_text_stats(tenant_id, chunk_count, term_count)"
    " SELECT new.tenant_id, 1, term_count FROM chunks_fts_sizes WHERE rowid = new.rowid"
    " ON CONFLICT(tenant_id) DO UPDATE SET chunk_count = tenant_text_stats.chunk_count + 1,"
    " term_count = tenant_text_stats.term_count + excluded.term_count"
)
_SQLITE_STATS_REMOVE = (
    "UPDATE tenant_text_stats SET chunk_count = chunk_count - 1,"
    " term_count = term_count"
    " - coalesce((SELECT term_count FROM chunks_fts_sizes WHERE rowid = old.rowid), 0)"
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
    # The configuration the old column was generated with stays the store's.
    config = op.get_bind().execute(sa.text(_COLUMN_CONFIG)).scalar_one()
    op.execute(
        "CREATE FUNCTION tenantrag_text_config() RETURNS regconfig LANGUAGE sql IMMUTABLE PARALLEL SAFE"
        f" AS $$ SELECT '{config}'::regconfig $$"
    )
    op.execute(
        "CREATE FUNCTION tenantrag_word_count(tsvector) RETURNS integer"
        " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE"
        " AS $$ SELECT coalesce(sum(coalesce(cardinality(positions), 1)), 0)::integer FROM unnest($1) $$"
    )
    op.execute(
        """CREATE TABLE chunks_fts (
            tenant_id uuid NOT NULL,
            chunk_id uuid NOT NULL,
            search_vector tsvector NOT NULL,
            term_count integer NOT NULL,
            CONSTRAINT pk_chunks_fts PRIMARY KEY (tenant_id, chunk_id),
            CONSTRAINT fk_chunks_fts_tenant_id_chunks FOREIGN KEY (tenant_id, chunk_id)
                REFERENCES chunks (tenant_id, id) ON DELETE CASCADE
        )"""
    )
    op.execute("ALTER TABLE chunks_fts ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE chunks_fts FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON chunks_fts FOR ALL"
        f" USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )
    # The migration's role may be held to row-level security (FORCE): it owns the tables,
    # and owners are exempt unless forced; the copy reads and writes every tenant's rows.
    op.execute(
        "INSERT INTO chunks_fts (tenant_id, chunk_id, search_vector, term_count)"
        " SELECT tenant_id, id, search_vector, tenantrag_word_count(search_vector) FROM chunks"
    )
    op.execute("DROP INDEX IF EXISTS ix_chunks_search_vector")
    op.execute("ALTER TABLE chunks DROP COLUMN search_vector")
    op.execute(
        "CREATE INDEX ix_chunks_fts_search_vector ON chunks_fts USING gin (search_vector)"
        " WITH (gin_pending_list_limit = 256)"
    )
    op.execute(
        """CREATE FUNCTION tenantrag_index_chunks() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO chunks_fts (tenant_id, chunk_id, search_vector, term_count)
            SELECT tenant_id, id, v, tenantrag_word_count(v)
            FROM (SELECT tenant_id, id, to_tsvector(tenantrag_text_config(), content) AS v
                  FROM new_chunks) AS c;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks REFERENCING NEW TABLE AS new_chunks"
        " FOR EACH STATEMENT EXECUTE FUNCTION tenantrag_index_chunks()"
    )
    # Chunks are not updated today, but a tool may: the index follows their content.
    op.execute(
        """CREATE FUNCTION tenantrag_reindex_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE chunks_fts SET search_vector = v, term_count = tenantrag_word_count(v)
            FROM (SELECT to_tsvector(tenantrag_text_config(), NEW.content) AS v) AS c
            WHERE tenant_id = NEW.tenant_id AND chunk_id = NEW.id;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_update AFTER UPDATE OF content ON chunks FOR EACH ROW"
        " WHEN (OLD.content IS DISTINCT FROM NEW.content) EXECUTE FUNCTION tenantrag_reindex_chunk()"
    )
    op.execute(
        """CREATE FUNCTION tenantrag_text_stats_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO tenant_text_stats AS s (tenant_id, chunk_count, term_count)
            SELECT tenant_id, count(*), coalesce(sum(term_count), 0) FROM changed
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
                  FROM changed GROUP BY tenant_id) AS gone
            WHERE s.tenant_id = gone.tenant_id;
            RETURN NULL;
        END $$"""
    )
    # On the index table, so a chunk deleted by any cascade is counted out with its entry.
    for name, event, rows, function in (
        ("insert", "INSERT", "NEW", "add"),
        ("delete", "DELETE", "OLD", "remove"),
        ("update_old", "UPDATE", "OLD", "remove"),
        ("update_new", "UPDATE", "NEW", "add"),
    ):
        op.execute(
            f"CREATE TRIGGER chunks_fts_stats_{name} AFTER {event} ON chunks_fts REFERENCING {rows} TABLE"
            f" AS changed FOR EACH STATEMENT EXECUTE FUNCTION tenantrag_text_stats_{function}()"
        )
    op.execute(
        "INSERT INTO tenant_text_stats (tenant_id, chunk_count, term_count)"
        " SELECT tenant_id, count(*), coalesce(sum(term_count), 0) FROM chunks_fts GROUP BY tenant_id"
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
    op.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(terms, tokenize='unicode61 remove_diacritics 0')")
    # A chunk's word count, read for every posting: a plain table, since a look-up by rowid in
    # an FTS5 table goes through the virtual table (a third of a common word's search).
    op.execute("CREATE TABLE chunks_fts_sizes (rowid INTEGER PRIMARY KEY, term_count INTEGER NOT NULL)")
    op.execute("CREATE VIRTUAL TABLE chunks_fts_instance USING fts5vocab(chunks_fts, instance)")
    op.execute(
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN "
        + _SQLITE_INDEX.format(row="new.rowid", tenant="new.tenant_id", content="new.content")
        + "; "
        + _SQLITE_STATS_ADD
        + "; END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN "
        + _SQLITE_STATS_REMOVE
        + "; DELETE FROM chunks_fts WHERE rowid = old.rowid;"
        " DELETE FROM chunks_fts_sizes WHERE rowid = old.rowid; END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_update AFTER UPDATE OF content, tenant_id ON chunks BEGIN "
        + _SQLITE_STATS_REMOVE
        + "; DELETE FROM chunks_fts WHERE rowid = old.rowid;"
        " DELETE FROM chunks_fts_sizes WHERE rowid = old.rowid; "
        + _SQLITE_INDEX.format(row="new.rowid", tenant="new.tenant_id", content="new.content")
        + "; "
        + _SQLITE_STATS_ADD
        + "; END"
    )
    op.execute(
        "INSERT INTO chunks_fts(rowid, terms) SELECT rowid, tenantrag_terms(tenant_id, content) FROM chunks"
    )
    op.execute(
        "INSERT INTO chunks_fts_sizes(rowid, term_count) SELECT rowid, "
        + _WORDS
        + " FROM (SELECT rowid, terms AS t FROM chunks_fts)"
    )
    op.execute(
        "INSERT INTO tenant_text_stats(tenant_id, chunk_count, term_count)"
        " SELECT c.tenant_id, count(*), coalesce(sum(f.term_count), 0)"
        " FROM chunks c JOIN chunks_fts_sizes f ON f.rowid = c.rowid GROUP BY c.tenant_id"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        config = op.get_bind().execute(sa.text("SELECT tenantrag_text_config()::text")).scalar_one()
        # The generated column of revision 7c1e2a9b4d10, and its index with c5f2a8e9d371's option.
        op.execute(
            "ALTER TABLE chunks ADD COLUMN search_vector tsvector"
            f" GENERATED ALWAYS AS (to_tsvector('{config}'::regconfig, content)) STORED"
        )
        op.execute(
            "CREATE INDEX ix_chunks_search_vector ON chunks USING gin (search_vector)"
            " WITH (gin_pending_list_limit = 256)"
        )
        op.execute("DROP TRIGGER IF EXISTS chunks_fts_update ON chunks")
        op.execute("DROP TRIGGER IF EXISTS chunks_fts_insert ON chunks")
        op.execute("DROP TABLE IF EXISTS chunks_fts")
        for function in (
            "tenantrag_text_stats_add()",
            "tenantrag_text_stats_remove()",
            "tenantrag_index_chunks()",
            "tenantrag_reindex_chunk()",
            "tenantrag_word_count(tsvector)",
            "tenantrag_text_config()",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    else:
        for trigger in ("chunks_fts_update", "chunks_fts_delete", "chunks_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS chunks_fts_instance")
        op.execute("DROP TABLE IF EXISTS chunks_fts_sizes")
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
