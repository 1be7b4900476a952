"""A Spark Thrift Server on loopback (NOSASL, UTC), started and stopped by process group.

One module for the two that start one: the tests' session fixture (tests/conftest.py) and
the warehouse benchmark (benchmarks/bench_warehouse.py), which differ only in the driver's
memory, the shuffle partitions and the folder the server writes in.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path


class ServerDidNotStart(RuntimeError):
    """The server exited or did not listen in time; the message ends with its log's tail."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def spark_home() -> Path | None:
    """pyspark's folder (its `bin/spark-submit`), or None when pyspark or java is absent."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None or shutil.which("java") is None:
        return None
    return Path(spec.origin).parent


def command(
    home: Path,
    work: Path,
    port: int,
    driver_memory: str | None = None,
    conf: Mapping[str, str] | None = None,
) -> list[str]:
    """spark-submit's arguments: local[2], the session time zone and the JVM's in UTC,
    metastore, warehouse and operation logs in `work` (not /tmp/<user>/operation_logs,
    which another server removes), NOSASL on 127.0.0.1."""
    settings = {
        "spark.sql.warehouse.dir": str(work / "warehouse"),
        "spark.ui.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "2",
        "spark.local.dir": str(work / "local"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={work} -Duser.timezone=UTC",
        **(conf or {}),
    }
    main = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
    args = [str(home / "bin" / "spark-submit"), "--class", main, "--master", "local[2]"]
    if driver_memory:
        args += ["--driver-memory", driver_memory]
    for key, value in settings.items():
        args += ["--conf", f"{key}={value}"]
    hive = {
        "hive.server2.thrift.port": str(port),
        "hive.server2.thrift.bind.host": "127.0.0.1",
        "hive.server2.authentication": "NOSASL",
        "hive.server2.logging.operation.log.location": str(work / "operation_logs"),
    }
    for key, value in hive.items():
        args += ["--hiveconf", f"{key}={value}"]
    return [*args, "spark-internal"]


def start(
    home: Path,
    work: Path,
    driver_memory: str | None = None,
    conf: Mapping[str, str] | None = None,
    timeout: float = 180,
    preexec_fn: Callable[[], None] | None = None,
) -> tuple[subprocess.Popen, int, float]:
    """The server started in its own process group, its log in `work/server.log`; returns
    the process, its port and the seconds it took to listen. Stopped again (and
    `ServerDidNotStart` raised) when it exits or does not listen within `timeout`."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOG_DIR": str(work), "TZ": "UTC"}
    started = time.monotonic()
    with open(work / "server.log", "wb") as log:
        server = subprocess.Popen(
            command(home, work, port, driver_memory, conf),
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
    while not listening(port):
        if server.poll() is not None or time.monotonic() - started > timeout:
            stop(server)
            tail = (work / "server.log").read_text(errors="replace")[-2000:]
            raise ServerDidNotStart(f"Spark Thrift Server did not start:\n{tail}")
        time.sleep(0.5)
    return server, port, time.monotonic() - started


def stop(server: subprocess.Popen) -> None:
    """The server's whole process group (spark-submit and its JVM): TERM, then KILL."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
