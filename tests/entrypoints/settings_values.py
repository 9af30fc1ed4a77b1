"""Values the settings tests share: a JWT secret long enough for every algorithm, and a PostgreSQL
URL whose password must never show."""

from __future__ import annotations

SECRET = "s" * 64
PG = "postgresql://app:pa55word@db.example.com:5432/rag"
