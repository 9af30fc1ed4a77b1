"""tenantrag's Alembic migrations, for SQLite and PostgreSQL.

``env.py`` is loaded by Alembic, not imported. Run them with ``alembic upgrade head`` from a
checkout (``alembic.ini``), or from Python with ``tenantrag.adapters.sql.migrations``.
"""
