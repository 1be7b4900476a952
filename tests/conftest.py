"""Shared test fixtures: the bundled incident, the shared reference material, the CLI."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from tests import spark_server

# Property-based tests draw the same examples on every run unless asked otherwise, so a CI
# run is reproducible; HYPOTHESIS_PROFILE=explore draws new ones (and remembers failures).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
INCIDENT = ROOT / "fixtures" / "incident-small"


@pytest.fixture()
def incident(tmp_path: Path) -> Path:
    """A private copy of the bundled incident; returns its case file."""
    target = tmp_path / "incident"
    shutil.copytree(INCIDENT, target)
    return target / "case.yaml"


@pytest.fixture(scope="session")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled incident's evidence folder with its full report (two pages per kind)."""
    from forensics.cli import main

    out = tmp_path_factory.mktemp("report") / "evidence"
    assert main(["report", str(INCIDENT / "case.yaml"), "--out", str(out), "--top", "2"]) == 0
    return out


# --- one real HiveServer2-protocol server for the whole session --------------------------


@dataclass(frozen=True)
class ThriftServer:
    """The running Spark Thrift Server: how to reach it, and a scratch folder it can read."""

    port: int
    work: Path

    def profile(self, database: str | None = None, user: str = "tester"):
        """A read-only connection profile for the toolkit (NOSASL on loopback)."""
        from forensics.warehouse import Profile

        return Profile(
            name="sts",
            engine="hive",
            host="127.0.0.1",
            port=self.port,
            auth="NOSASL",
            user=user,
            database=database,
        )

    def setup_cursor(self):
        """A plain pyhive connection for test setup (which may write), never the toolkit's."""
        from pyhive import hive

        return hive.connect(host="127.0.0.1", port=self.port, auth="NOSASL", username="setup")

    def load(self, database: str, name: str, table) -> None:
        """Create `database.name` from an Arrow table (Parquet in the scratch folder)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        folder = self.work / "data" / database / name
        folder.mkdir(parents=True)
        fields = [
            pa.field(f.name, pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(f.type) else f
            for f in table.schema
        ]
        pq.write_table(table.cast(pa.schema(fields)), folder / "part-0.parquet")
        con = self.setup_cursor()
        try:
            cursor = con.cursor()
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
            cursor.execute(f"CREATE TABLE {database}.{name} USING parquet LOCATION '{folder}'")
        finally:
            con.close()


def _die_with_parent() -> None:
    """Have the kernel kill the server when the test process dies, even by `kill -9`: the
    fixture's `finally` does not run then, and an orphaned server holds gigabytes."""
    pr_set_pdeathsig = 1  # <linux/prctl.h>; kept across the exec into java
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


@pytest.fixture(scope="session")
def thrift_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThriftServer]:
    """Spark Thrift Server on loopback (NOSASL, UTC), stopped by process group at the end."""
    home = spark_server.spark_home()
    if home is None:
        pytest.fail("pyspark and a Java runtime are needed; run `make setup` (it installs both)")
    work = tmp_path_factory.mktemp("sts")
    try:
        server, port, _ = spark_server.start(home, work, preexec_fn=_die_with_parent)
    except spark_server.ServerDidNotStart as error:
        pytest.fail(str(error))
    try:
        yield ThriftServer(port=port, work=work)
    finally:
        spark_server.stop(server)
