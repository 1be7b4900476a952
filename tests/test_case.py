"""The case file: a valid one loads; every mistake is one line naming the key, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from forensics.case import load_case
from forensics.cli import main
from forensics.errors import CaseError

VALID = {
    "case": "mci-test",
    "timezone": "Europe/Berlin",
    "window": {"start": "2026-06-18T09:00:00Z", "end": "2026-06-18T13:00:00Z"},
    "catalog": {"tables": "catalog/tables.csv"},
    "logs": [{"format": "ranger-audit", "path": "logs/*.log"}],
}


def _write_case(folder: Path, case: dict) -> Path:
    (folder / "catalog").mkdir(exist_ok=True)
    (folder / "catalog" / "tables.csv").write_text("object,type,location\nmci.k,table,/w/k\n")
    (folder / "logs").mkdir(exist_ok=True)
    (folder / "logs" / "a.log").write_text("")
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(case))
    return path


def test_valid_case_loads_with_utc_times(tmp_path: Path) -> None:
    case = load_case(_write_case(tmp_path, VALID))
    assert case.name == "mci-test"
    assert case.window is not None
    assert case.window[0].isoformat() == "2026-06-18T09:00:00+00:00"
    assert [case.relpath(f) for f in case.logs[0].files] == ["logs/a.log"]


def test_time_with_an_offset_is_stored_in_utc(tmp_path: Path) -> None:
    raw = dict(
        VALID, window={"start": "2026-06-18T11:00:00+02:00", "end": "2026-06-18 15:00:00+02:00"}
    )
    case = load_case(_write_case(tmp_path, raw))
    assert case.window is not None
    assert case.window[0].isoformat() == "2026-06-18T09:00:00+00:00"


OFFSETLESS = [
    ("window", {"start": "2026-06-18 11:00:00", "end": "2026-06-18T15:00:00Z"}, "window.start"),
    ("window", {"start": "2026-06-18T11:00:00Z", "end": "2026-06-18T15:00:00"}, "window.end"),
    ("policies", [{"at": "2026-06-18T11:00:00", "path": "logs/a.log"}], "policies[0].at"),
]


@pytest.mark.parametrize(("key", "value", "named"), OFFSETLESS)
def test_time_without_offset_is_refused_naming_the_zone(
    tmp_path: Path, key: str, value: object, named: str
) -> None:
    """Read in the case timezone, such a time silently moved the window by hours."""
    with pytest.raises(CaseError) as info:
        load_case(_write_case(tmp_path, dict(VALID, **{key: value})))
    message = str(info.value)
    assert message.startswith(f"{named}: ") and "add Z or an offset" in message
    assert "Europe/Berlin" in message
    assert "2026-06-18T09:00:00Z" in message or "2026-06-18T13:00:00Z" in message


def test_unquoted_yaml_time_without_offset_is_refused(tmp_path: Path) -> None:
    """YAML reads an unquoted time as a datetime of its own, naive when it has no offset."""
    path = _write_case(tmp_path, VALID)
    text = path.read_text().replace("'2026-06-18T09:00:00Z'", "2026-06-18 11:00:00")
    assert "2026-06-18 11:00:00" in text
    path.write_text(text)
    with pytest.raises(CaseError, match=r"^window.start: .* add Z or an offset"):
        load_case(path)
    path.write_text(text.replace("2026-06-18 11:00:00", "2026-06-18 11:00:00+02:00"))
    case = load_case(path)
    assert case.window is not None and case.window[0].isoformat() == "2026-06-18T09:00:00+00:00"


def test_who_can_at_without_offset_is_refused(capsys) -> None:
    from tests.conftest import INCIDENT

    args = ["policy", "who-can", str(INCIDENT / "case.yaml"), "--object", "mci.keystrokes"]
    assert main([*args, "--at", "2026-06-18T10:00:00"]) == 2
    err = capsys.readouterr().err
    assert "--at: " in err and "add Z or an offset" in err and "America/Los_Angeles" in err


MISSPELT = [
    ({"polices": []}, "polices: unknown key (did you mean policies?)"),
    ({"time_zone": "UTC"}, "time_zone: unknown key (did you mean timezone?)"),
    ({"catalog": {"tables": "catalog/tables.csv", "view": "x.csv"}}, "(did you mean views?)"),
    (
        {"window": {"start": "2026-06-18T09:00:00Z", "ende": "2026-06-18T13:00:00Z"}},
        "ende is not one (did you mean end?)",
    ),
    (
        {"logs": [{"format": "ranger-audit", "path": "logs/*.log", "fromat": "x"}]},
        "unknown key fromat (did you mean format?)",
    ),
]


@pytest.mark.parametrize(("change", "hint"), MISSPELT)
def test_misspelt_keys_get_a_suggestion(tmp_path: Path, change: dict, hint: str) -> None:
    with pytest.raises(CaseError) as info:
        load_case(_write_case(tmp_path, {**VALID, **change}))
    assert hint in str(info.value)


BAD_CASES = [
    ({"colour": "red"}, "colour: unknown key"),
    ({"logs": [{"format": "syslog", "path": "logs/*.log"}]}, "logs[0].format: unknown format"),
    ({"logs": [{"format": "ranger-audit", "path": "nope/*.log"}]}, "logs[0].path: glob"),
    (
        {"catalog": {"tables": "catalog/missing.csv"}},
        "catalog.tables: file 'catalog/missing.csv' not found",
    ),
    (
        {"window": {"start": "2026-06-18T13:00:00Z", "end": "2026-06-18T09:00:00Z"}},
        "window.end: must be after window.start",
    ),
    ({"timezone": "Mars/Olympus"}, "timezone: unknown zone"),
    ({"case": "Bad Name!"}, "case: must be an identifier"),
    ({"window": {"start": "yesterday", "end": "2026-06-18T13:00:00Z"}}, "window.start:"),
    ({"window": None}, "window: required unless policies"),
    ({"catalog": {"tables": "catalog/tables.csv", "owners": "x.csv"}}, "catalog.owners: unknown"),
    (
        {"policy_history": [{"format": "ranger-xml", "path": "logs/a.log"}]},
        "policy_history[0].format: unknown format",
    ),
    (
        {"policy_history": [{"format": "ranger-admin-audit", "path": "nope/*.json"}]},
        "policy_history[0].path: glob",
    ),
    ({"roles": "roles.json"}, "roles: file 'roles.json' not found"),
    ({"profile": "prod warehouse; rm"}, "profile: the name of a connection profile"),
    (
        {"logs": [{"format": "generic", "path": "logs/*.log"}]},
        "logs[0].mapping: required for format generic",
    ),
    (
        {"logs": [{"format": "generic", "path": "logs/*.log", "mapping": {"time": "ts"}}]},
        "logs[0].mapping.principal: required",
    ),
    (
        {"logs": [{"format": "generic", "path": "logs/*.log", "mapping": {"colour": "c"}}]},
        "logs[0].mapping.'colour': unknown event field",
    ),
    (
        {"logs": [{"format": "ranger-audit", "path": "logs/*.log", "mapping": {}}]},
        "logs[0]: unknown key mapping",
    ),
]


def test_later_keys_load(tmp_path: Path) -> None:
    """policy_history, roles, service_config, profile and a generic mapping are accepted."""
    (tmp_path / "policy").mkdir()
    for name in ("versions.json", "admin-audit.json", "roles.json", "service.json"):
        (tmp_path / "policy" / name).write_text("{}")
    raw = dict(
        VALID,
        window=None,
        policy_history=[
            {"format": "ranger-policy-versions", "path": "policy/versions.json"},
            {"format": "ranger-admin-audit", "path": "policy/admin-*.json"},
        ],
        roles="policy/roles.json",
        service_config="policy/service.json",
        profile="prod-hive",
        logs=[
            {
                "format": "generic",
                "path": "logs/*.log",
                "mapping": {"time": "ts", "principal": "user", "object": "tbl"},
                "time_format": "epoch_ms",
            }
        ],
    )
    case = load_case(_write_case(tmp_path, {k: v for k, v in raw.items() if v is not None}))
    formats = [h.format for h in case.policy_history]
    assert formats == ["ranger-policy-versions", "ranger-admin-audit"]
    assert case.profile == "prod-hive"
    assert case.logs[0].mapping == (("object", "tbl"), ("principal", "user"), ("time", "ts"))
    assert case.logs[0].time_format == "epoch_ms"
    assert "policy/roles.json" in [case.relpath(f) for f in case.input_files()]


@pytest.mark.parametrize(("change", "message"), BAD_CASES, ids=[m for _, m in BAD_CASES])
def test_bad_case_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, message: str
) -> None:
    raw = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    case_path = _write_case(tmp_path, raw)
    with pytest.raises(CaseError, match=r"^" + message.replace("[", r"\[").replace("]", r"\]")):
        load_case(case_path)
    out = tmp_path / "evidence"
    status = main(["investigate", str(case_path), "--out", str(out)])
    err = capsys.readouterr().err
    assert status != 0
    assert err.count("\n") == 1 and err.startswith("forensics: error: ")
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("case: x\n  bad: [\n")
    with pytest.raises(CaseError, match="line"):
        load_case(path)
