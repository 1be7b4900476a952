"""The file layer: HDFS permission changes on a table's location open windows of their own."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from forensics import pushdown
from forensics.case import load_case
from forensics.catalog import Catalog, CatalogObject
from forensics.cli import main
from forensics.ingest import ingest
from forensics.investigation import Settings
from forensics.policy.posix import PermissionChange, readers
from forensics.scope import ANYONE, FILE_LAYER, HDFS_AUDIT, file_windows
from tests.test_pushdown import _duckdb_warehouse, _same_csvs

INCIDENT = Path(__file__).parent.parent / "fixtures" / "incident-small"
LOC = "/w/mci.db/k"
HOUR = 3_600_000


def _change(at_h: float, perm: str | None, path: str = LOC, command: str = "setPermission"):
    return PermissionChange(
        time_ms=int(at_h * HOUR), path=path, command=command, perm=perm,
        principal="ops", source_file="hdfs.log", source_line=int(at_h * 10),
    )  # fmt: skip


CATALOG = Catalog(
    objects={
        "mci.k": CatalogObject("mci.k", "table", LOC),
        "mci.k2": CatalogObject("mci.k2", "table", "/w/mci.db/k2"),
        "mci.v": CatalogObject("mci.v", "view", None),
    },
    view_definitions={},
    sensitivity=[],
    groups={"ana": frozenset({"mci"}), "carl": frozenset({"sales"})},
)
MEMBERS = {**CATALOG.groups, ANYONE: frozenset()}
BASELINE = {"mci.k": {"ana": 1}, "mci.k2": {"ana": 1}}


def _spans(changes: list[PermissionChange], baseline=BASELINE) -> list[tuple]:
    windows = file_windows(CATALOG, changes, lambda o: baseline.get(o, {}), MEMBERS)
    assert all(w.layer == FILE_LAYER and w.source == HDFS_AUDIT for w in windows)
    return [
        (w.object, w.start.hour, w.end.hour if w.end else None, w.opened_by_users) for w in windows
    ]


@pytest.mark.parametrize(
    ("perm", "command", "who"),
    [
        ("hive:hadoop:rwxr-xr-x", "setPermission", ("hive", "hadoop", True, False)),
        ("hive:mci:rwxr-x---", "setPermission", ("hive", "mci", False, False)),
        ("hive:mci:rwx--x--T", "setPermission", ("hive", None, False, False)),
        ("hive:mci:-wx------", "setPermission", (None, None, False, False)),
        ("hive:mci:rwxr-x---", "setAcl", ("hive", None, False, True)),  # mask r: named entries
        ("hive:mci:rwx------", "modifyAclEntries", ("hive", None, False, False)),
        ("hive:mci:rwxr-x---+", "setPermission", ("hive", "mci", False, False)),
        ("null", "setPermission", (None, None, False, True)),
        (None, "setOwner", (None, None, False, True)),
    ],
)
def test_readers_of_a_permission_status(perm, command, who) -> None:
    found = readers(_change(1, perm, command=command))
    assert (found.owner, found.group, found.everyone, found.unknown) == who


def test_other_read_opens_until_the_location_is_closed() -> None:
    changes = [
        _change(1, "hive:hadoop:rwxrwxrwx"),
        _change(2, "hive:hadoop:rwxr-x---"),  # group hadoop has no member outside the baseline
        _change(5, "hive:hadoop:rwxr-xr-x"),
    ]
    assert _spans(changes) == [("mci.k", 1, 2, ("ops",)), ("mci.k", 5, None, ("ops",))]


def test_group_read_opens_only_for_members_outside_the_baseline() -> None:
    assert _spans([_change(1, "hive:mci:rwxr-x---")]) == []  # ana is baseline
    assert _spans([_change(1, "hive:sales:rwxr-x---")]) == [("mci.k", 1, None, ("ops",))]


def test_a_file_under_the_location_opens_and_closing_the_location_closes_it() -> None:
    changes = [
        _change(1, "hive:hadoop:rw-r--r--", path=LOC + "/ds=1/000000_0"),
        _change(2, "hive:hadoop:rw-------", path=LOC + "/ds=2/000000_0"),  # another file
        _change(3, "hive:hadoop:rwx------"),  # the location itself: files are reached through it
    ]
    assert _spans(changes) == [("mci.k", 1, 3, ("ops",))]
    # closing one file leaves the table open while another file is readable
    both = [
        _change(1, "hive:hadoop:rw-r--r--", path=LOC + "/a"),
        _change(2, "hive:hadoop:rw-r--r--", path=LOC + "/b"),
        _change(3, "hive:hadoop:rw-------", path=LOC + "/a"),
        _change(4, "hive:hadoop:rw-------", path=LOC + "/b"),
    ]
    assert _spans(both) == [("mci.k", 1, 4, ("ops",))]


def test_owner_counts_only_when_the_change_gives_a_new_owner() -> None:
    assert _spans([_change(1, "carl:mci:rwx------")]) == []
    assert _spans([_change(1, "carl:mci:rwx------", command="setOwner")]) == [
        ("mci.k", 1, None, ("ops",))
    ]


def test_acl_mask_opens_and_removing_the_acl_closes() -> None:
    changes = [
        _change(1, "hive:mci:rwxr-x---", command="setAcl"),
        _change(2, "hive:mci:rwx------", command="removeAcl"),
    ]
    assert _spans(changes) == [("mci.k", 1, 2, ("ops",))]


def test_no_window_where_the_baseline_is_everyone_or_the_path_is_no_table() -> None:
    assert _spans([_change(1, "hive:h:rwxrwxrwx")], {"mci.k": {ANYONE: 1}}) == []
    assert _spans([_change(1, "hive:h:rwxrwxrwx", path="/w/mci.db/kk")]) == []
    assert _spans([_change(1, "hive:h:rwxrwxrwx", path="/w/mci.db")]) == []


HDFS_LINE = (
    "{ts} INFO FSNamesystem.audit: allowed=true\tugi={ugi}\tip=/10.0.0.9\tcmd={cmd}\t"
    "src={src}\tdst=null\tperm={perm}\tproto=rpc\n"
)
AUDIT_CONFIG = "/warehouse/tablespace/managed/hive/mci.db/audit_config"


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def chmod_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The bundled incident with a chmod that opens mci.audit_config (no policy window) to
    everyone, an HDFS read by carl during it, the chmod that closes it, and a read after;
    and the line number of the first chmod."""
    case = tmp_path_factory.mktemp("chmod") / "incident"
    shutil.copytree(INCIDENT, case)
    lines = [
        ("2026-06-19 10:00:00,000", "ops1", "setPermission", AUDIT_CONFIG, "hive:hadoop:rwxrwxr-x"),
        ("2026-06-19 10:05:00,000", "carl", "open", AUDIT_CONFIG + "/000000_0", "null"),
        ("2026-06-19 11:00:00,000", "ops2", "setPermission", AUDIT_CONFIG, "hive:hadoop:rwx------"),
        ("2026-06-19 11:30:00,000", "carl", "open", AUDIT_CONFIG + "/000000_0", "null"),
    ]  # fmt: skip
    log = case / "logs" / "hdfs" / "hdfs-audit.log"
    first = sum(1 for _ in log.open(encoding="utf-8")) + 1
    with log.open("a", encoding="utf-8") as f:
        for ts, ugi, cmd, src, perm in lines:
            f.write(HDFS_LINE.format(ts=ts, ugi=ugi, cmd=cmd, src=src, perm=perm))
    return case / "case.yaml", first


def test_a_chmod_in_the_hdfs_audit_log_lets_in_hdfs_reads(
    chmod_case: tuple[Path, int], tmp_path: Path
) -> None:
    """The read during the chmod's window is exposure-enabled, the read after it
    unexplained, and the window names both changes and who made them."""
    case, first = chmod_case
    out = tmp_path / "evidence"
    assert main(["investigate", str(case), "--out", str(out)]) == 0

    windows = [w for w in _csv(out / "exposure_windows.csv") if w["layer"] == "file"]
    assert windows == [
        {
            "object": "mci.audit_config",
            "start": "2026-06-19T17:00:00.000Z",  # America/Los_Angeles, summer time
            "end": "2026-06-19T18:00:00.000Z",
            "layer": "file",
            "source": "hdfs_audit",
            "opened_by": f"hdfs setPermission {AUDIT_CONFIG} perm=hive:hadoop:rwxrwxr-x "
            f"(logs/hdfs/hdfs-audit.log:{first})",
            "opened_by_users": "ops1",
            "closed_by": f"hdfs setPermission {AUDIT_CONFIG} perm=hive:hadoop:rwx------ "
            f"(logs/hdfs/hdfs-audit.log:{first + 2})",
            "closed_by_users": "ops2",
            "policy_ids": "",
            "policy_versions": "",
        }
    ]
    enabled = [r for r in _csv(out / "exposure_enabled_reads.csv") if r["principal"] == "carl"]
    assert [
        (r["object"], r["first_read"], r["engines"]) for r in enabled if "audit" in r["object"]
    ] == [("mci.audit_config", "2026-06-19T17:05:00.000Z", "hdfs")]
    unexplained = [
        r for r in _csv(out / "unexplained_reads.csv") if r["object"] == "mci.audit_config"
    ]
    assert [(r["principal"], r["time"]) for r in unexplained] == [
        ("carl", "2026-06-19T18:30:00.000Z")
    ]
    objects = {r["object"]: r for r in _csv(out / "objects.csv")}
    assert objects["mci.audit_config"]["windows"] == (
        "2026-06-19T17:00:00.000Z/2026-06-19T18:00:00.000Z"
    )


def test_the_warehouse_run_finds_the_same_file_layer_windows(
    chmod_case: tuple[Path, int], tmp_path: Path
) -> None:
    """`queries/warehouse/permission_changes.sql` on the events where they are kept gives
    the embedded run's evidence, byte for byte."""
    case, _ = chmod_case
    local = tmp_path / "local"
    assert main(["investigate", str(case), "--out", str(local)]) == 0
    parsed = ingest(load_case(case))
    wh = _duckdb_warehouse(parsed.events, parsed.quarantine)
    out = pushdown.investigate_in_warehouse(Settings.build(case, tmp_path / "wh"), wh)
    _same_csvs(local, out)
    assert "hdfs_audit" in (out / "exposure_windows.csv").read_text()
