"""Exports: Timesketch JSON lines and notification.csv, checked against the evidence CSVs."""

from __future__ import annotations

import csv
import json
import stat
from datetime import datetime
from pathlib import Path

import pytest

from forensics.cli import main
from tests.conftest import INCIDENT

#: Timesketch's mandatory fields for a JSONL import (Timesketch docs, "Import from JSON/CSV").
TIMESKETCH_REQUIRED = ("message", "datetime", "timestamp_desc")


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "evidence"
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]) == 0
    return out


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_timesketch_lines_carry_the_required_fields_and_provenance(
    evidence: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ts.jsonl"
    assert main(["export", "timesketch", str(evidence), "--out", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    rows = {r["event_id"] + r["object"]: r for r in _csv(evidence / "access_events.csv")}
    assert len(lines) == len(rows)
    for event in lines:
        for field in TIMESKETCH_REQUIRED:
            assert isinstance(event[field], str) and event[field], field
        moment = datetime.fromisoformat(event["datetime"])
        assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0
        assert event["timestamp"] == int(moment.timestamp() * 1_000_000)
        row = rows[event["event_id"] + event["object"]]
        assert event["tag"] == [row["classification"]]
        assert event["source_file"] == row["source_file"]
        assert str(event["source_line"]) == row["source_line"]
        assert row["principal"] in event["message"] and row["object"] in event["message"]
        assert datetime.fromisoformat(row["time"].replace("Z", "+00:00")) == moment
    assert [e["datetime"] for e in lines] == sorted(e["datetime"] for e in lines)


def test_notification_lists_every_reader_with_their_event_ids(
    evidence: Path, tmp_path: Path
) -> None:
    out = tmp_path / "notification.csv"
    assert main(["export", "notification", str(evidence), "--out", str(out)]) == 0
    rows = _csv(out)
    people = {p["principal"]: p for p in _csv(evidence / "principals.csv")}
    assert [r["principal"] for r in rows] == sorted(people)
    events = _csv(evidence / "access_events.csv")
    for row in rows:
        person = people[row["principal"]]
        for column in ("kind", "org", "first_read", "last_read", "exposure_enabled_events"):
            assert row[column] == (
                person[column] or "unknown" if column == "kind" else person[column]
            )
        mine = [
            e
            for e in events
            if e["principal"] == row["principal"]
            and e["classification"] in ("exposure_enabled", "secondary")
        ]
        assert set(row["event_ids"].split(";")) == {e["event_id"] for e in mine}
        assert set(row["tables"].split(";")) == {e["object"] for e in mine}


def test_notification_cells_never_run_as_formulas(evidence: Path, tmp_path: Path) -> None:
    from forensics import export, findings

    ev = findings.load_evidence(evidence)
    ev.principals.loc[0, "org"] = '=HYPERLINK("http://x")'
    export.write_notification(ev, tmp_path / "n.csv")
    assert _csv(tmp_path / "n.csv")[0]["org"] == '\'=HYPERLINK("http://x")'


def test_export_to_a_missing_folder_is_one_clear_error(
    evidence: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "nowhere" / "ts.jsonl"
    assert main(["export", "timesketch", str(evidence), "--out", str(out)]) == 1
    assert "no such folder" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()


# --- Timesketch's own importer over the export ----------------------------------------------
#
# No Timesketch server can run in the tests (it needs OpenSearch, PostgreSQL, Redis and
# Celery), so the export goes through Timesketch's own import client (PyPI
# `timesketch-import-client`, what `timesketch_importer` and the API client use): its
# `ImportStreamer.add_file` reads the JSONL, fixes each event (`_fix_dict`: message,
# timestamp_desc, datetime re-parsed) and uploads it in chunks. Only the HTTP call is
# replaced: the session records the `events` form field the server would receive. That
# payload is then checked with the rules the server applies to it, restated here from
# google/timesketch timesketch/lib/utils.py `read_and_validate_jsonl` (commit 45b339bb,
# called by timesketch/lib/tasks.py `run_csv_jsonl` for uploaded events and .jsonl files):
# every line JSON, `message`, `datetime`, `timestamp_desc` present, `timestamp` kept when
# given, `tag` a list; the index maps `datetime` as an OpenSearch `date`
# (timesketch/lib/datastores/opensearch.py `create_index`).

#: Fields Timesketch's server removes from an imported event (timesketch/lib/utils.py).
TIMESKETCH_SCRUBBED = ("_id", "_type", "_index", "_source", "__ts_timeline_id")


class _RecordingSession:
    """Stands in for the API client's HTTP session: keeps what each upload would POST."""

    def __init__(self) -> None:
        self.uploads: list[dict[str, object]] = []

    def post(self, url: str, data: dict | None = None, files: dict | None = None):
        from types import SimpleNamespace

        self.uploads.append({"url": url, "data": data, "events": files["events"][1]})
        answer = {"objects": [{"id": 7, "searchindex": {"index_name": "ts-index"}}], "meta": {}}
        return SimpleNamespace(status_code=201, reason="Created", text="", json=lambda: answer)


def _sketch(session: _RecordingSession):
    from types import SimpleNamespace

    api = SimpleNamespace(api_root="https://timesketch.invalid/api/v1", session=session)
    return SimpleNamespace(id=1, api=api)


def test_timesketch_import_client_reads_the_export_and_uploads_every_event(
    evidence: Path, tmp_path: Path
) -> None:
    from dateutil import parser as dateparser
    from timesketch_import_client import importer

    out = tmp_path / "case.jsonl"
    assert main(["export", "timesketch", str(evidence), "--out", str(out)]) == 0
    ours = [json.loads(line) for line in out.read_text().splitlines()]
    session = _RecordingSession()
    streamer = importer.ImportStreamer()
    streamer.set_sketch(_sketch(session))
    streamer.set_timeline_name("mci-2026-06 access events")
    streamer.set_entry_threshold(10)  # several chunks: the streaming path, not one upload
    streamer.add_file(str(out))
    streamer.close()

    assert len(session.uploads) > 1
    assert [u["data"]["enable_stream"] for u in session.uploads][-1] is False
    lines = [line for u in session.uploads for line in str(u["events"]).split("\n")]
    assert len(lines) == len(ours)  # the importer skipped no line it could not decode
    for sent, event in zip(map(json.loads, lines), ours, strict=True):
        for field in TIMESKETCH_REQUIRED:  # the server refuses a line without them
            assert isinstance(sent[field], str) and sent[field], field
        assert sent["message"] == event["message"]
        assert sent["timestamp_desc"] == event["timestamp_desc"]  # not the importer's default
        moment = dateparser.parse(sent["datetime"])  # as the server parses it
        assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0
        assert int(moment.timestamp() * 1_000_000) == sent["timestamp"] == event["timestamp"]
        assert sent["tag"] == [event["classification"]] and all(
            isinstance(t, str) for t in sent["tag"]
        )
        assert not set(sent) & set(TIMESKETCH_SCRUBBED) and not any(k.startswith("_") for k in sent)
        for field in ("event_id", "source_file", "source_line", "principal", "object"):
            assert sent[field] == event[field], field
    # the server grows the index mapping by 2 fields per key (+10%) up to 1,000 by default
    keys = {k for line in lines for k in json.loads(line)}
    assert int(len(keys) * 2 * 1.1) <= 1000


# --- msticpy's display_timeline over access_events.csv ---------------------------------------
#
# msticpy is too heavy for CI (its install took 4 minutes and 580 MB), so it is not run here.
# Instead the README's snippet runs verbatim against a stand-in `display_timeline` that does
# to the frame what msticpy 3.0.2's does before drawing (microsoft/msticpy commit cb715147:
# msticpy/vis/timeline.py `display_timeline`, `_create_dict_from_grouping`,
# `_unpack_data_series_dict`, `_wrap_df_columns`; msticpy/common/data_utils.py
# `ensure_df_datetimes`; msticpy/vis/timeline_common.py `get_time_bounds`,
# `_get_datetime_tooltip`). What can fail: a column the call names is missing (msticpy
# selects `data[list(columns)]`), the time column does not become a UTC datetime (msticpy's
# `astype(..., errors="ignore")` would leave strings and bokeh would draw nothing), a time
# is missing, or a text column cannot be wrapped for the tooltips.


def _msticpy_display_timeline(calls: list[dict]):
    """What msticpy's display_timeline does to a DataFrame before bokeh draws it."""
    import pandas as pd
    from pandas.api.types import is_datetime64_any_dtype

    def display_timeline(data, time_column="TimeGenerated", source_columns=None, **kwargs):
        allowed = {"group_by", "title", "hide", "legend", "height", "width", "color", "size"}
        assert set(kwargs) <= allowed, set(kwargs) - allowed  # msticpy's check_kwargs
        group_by = kwargs.get("group_by")
        columns = {*(source_columns or []), time_column, *([group_by] if group_by else [])}
        assert columns <= set(data.columns), columns - set(data.columns)
        selected = data[list(columns)]
        series = dict(iter(selected.groupby(group_by))) if group_by else {"all": selected}
        for name, frame in series.items():
            if not is_datetime64_any_dtype(frame[time_column]):  # ensure_df_datetimes
                frame = frame.astype({time_column: "datetime64[ns, UTC]"}, errors="ignore")
            times = frame[time_column]
            assert is_datetime64_any_dtype(times) and str(times.dt.tz) == "UTC", name
            assert not times.isna().any(), name
            low, high = times.min(), times.max()
            assert low - (high - low) * 0.1 <= high + (high - low) * 0.1  # get_time_bounds
            shown = frame[list(columns)].copy()
            for column in shown.columns:  # _wrap_df_columns: tooltips wrapped at 50
                if isinstance(shown[column].iloc[0], str):
                    shown[column] = shown[column].str.wrap(50)
        calls.append({"series": {str(k): len(v) for k, v in series.items()}, "time": time_column})
        return pd.DataFrame()

    return display_timeline


def test_readme_msticpy_snippet_runs_on_access_events(
    evidence: Path, tmp_path: Path, monkeypatch
) -> None:
    import re
    import sys
    import types

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"```python\n(import pandas as pd\nfrom msticpy[^`]*)```", readme)[1]
    calls: list[dict] = []
    module = types.ModuleType("msticpy.vis.timeline")
    module.display_timeline = _msticpy_display_timeline(calls)
    for name in ("msticpy", "msticpy.vis"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "msticpy.vis.timeline", module)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "ev").symlink_to(evidence)
    exec(compile(snippet, "README.md", "exec"), {})
    (call,) = calls
    classes = {}
    for row in _csv(evidence / "access_events.csv"):
        classes[row["classification"]] = classes.get(row["classification"], 0) + 1
    assert call["series"] == classes  # one series per classification, every event in one


def test_access_events_time_becomes_utc_datetimes_even_without_parse_dates(
    evidence: Path,
) -> None:
    import pandas as pd

    raw = pd.read_csv(evidence / "access_events.csv")  # times as text
    assert raw["time"].str.endswith("Z").all()
    converted = raw.astype({"time": "datetime64[ns, UTC]"}, errors="ignore")  # msticpy's way
    assert str(converted["time"].dtype) == "datetime64[ns, UTC]"
    assert not converted["time"].isna().any()
