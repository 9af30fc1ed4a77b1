"""The pure core of tenantrag: entities, invariants, policy, ports and use cases.

Nothing in here performs I/O or imports a framework; it depends on the standard
library and attrs only (an import-linter contract in the test suite keeps it so).
"""
