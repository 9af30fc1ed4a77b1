"""The invitation directory: one address's invitations across tenants, for its invitee.

Like the other directories (system_repositories.py) it does not switch isolation off: on
PostgreSQL it binds ``app.directory_invitee_email`` for its one statement, which the
SELECT-only policy ``invitations_directory`` admits rows by (revision f3c9a1d7e2b4).
"""

from __future__ import annotations

from collections.abc import Sequence

from tenantrag.adapters.sql import rows
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sql.tables import Rows
from tenantrag.domain.model.invitation import Invitation


class SqlInvitationDirectory:
    def __init__(self, session: SqlSession) -> None:
        self._rows = Rows(session, rows.INVITATIONS)

    async def list_for_email(self, email: str) -> Sequence[Invitation]:
        table = self._rows.table
        async with self._rows.session.acting_for(directory_invitee_email=email):
            return tuple(
                await self._rows.all(table.c.email == email, order_by=(table.c.created_at, table.c.id))
            )
