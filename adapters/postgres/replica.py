"""How far a PostgreSQL streaming replica is behind its primary, for read routing.

A standby that has replayed everything it received, and is receiving, is caught up: its
lag is 0 however long ago the primary last committed (``now() -
pg_last_xact_replay_timestamp()`` alone would call an idle primary's replica late). A
standby with WAL received but not yet replayed, or with no WAL receiver streaming (the
primary unreachable: it cannot know what it is missing), is as late as the last
transaction it replayed. A server that is not in recovery at all is not a standby (a
copy, say) and has nothing to catch up with.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# No replayed transaction yet (a standby that has just started): as late as can be.
UNKNOWN_LAG = float("inf")

_LAG = text(
    "SELECT CASE"
    " WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()"
    "  AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0"
    " ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
    " END"
)


async def replica_lag(connection: AsyncConnection) -> float:
    """Seconds the replica on ``connection`` is behind (0 when caught up)."""
    lag = (await connection.execute(_LAG)).scalar()
    return UNKNOWN_LAG if lag is None else max(0.0, float(lag))
