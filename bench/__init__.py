"""tenantrag's benchmark suite: ``python -m bench`` (see README, "Benchmarks").

Every contender runs against the same embedded PostgreSQL (or ``--database-url``) in the
same run, on the same seeded synthetic corpus; the results are a JSON file, a Markdown
table with the targets, and a PNG chart of recall against latency.
"""
