"""A throwaway PostgreSQL cluster from Debian's package, in a folder, on 127.0.0.1.

``initdb`` refuses to run as root, so when we are root every PostgreSQL
command runs as the ``postgres`` system user (the package creates it) and the
folder is handed to that user. Stopped with ``pg_ctl stop``; deleted by
``make cluster-down`` with the rest of the cluster's folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import subprocess
import tempfile
from pathlib import Path

__all__ = ["Postgres", "postgres_binaries"]

DATABASE = "portal"


def postgres_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run `make system-deps` (apt-get install postgresql)")
    return Path(found[-1]).parent


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _reachable_by_postgres(folder: Path) -> bool:
    """Whether the ``postgres`` user can reach ``folder`` (pytest's temp folders are root's alone)."""
    uid = pwd.getpwnam("postgres").pw_uid
    for ancestor in [folder, *folder.parents]:
        if ancestor.exists():
            info = ancestor.stat()
            if info.st_uid != uid and not info.st_mode & 0o001:
                return False
    return True


class Postgres:
    def __init__(self, folder: Path, port: int) -> None:
        # Outside the cluster's folder when postgres cannot reach it; deleted with the cluster then.
        self.temporary = os.geteuid() == 0 and not _reachable_by_postgres(folder)
        self.folder = Path(tempfile.mkdtemp(prefix="portal-cluster-pg-")) if self.temporary else folder
        self.port = port
        self.data = self.folder / "data"
        self._bin = postgres_binaries()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        command = _as_postgres([str(self._bin / args[0]), *args[1:]])
        return subprocess.run(command, check=check, capture_output=True, timeout=120)

    def create(self) -> None:
        """A new cluster and an empty ``portal`` database (the first replica migrates it)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DATABASE)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c max_connections=200"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``fast`` ends every session at once (what a restart of the database does)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
