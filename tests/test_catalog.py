"""The catalog: Arrow's column-wise read gives exactly the row reader's catalog, and a file
it cannot take is left to the row reader, which names the line to fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics import catalog as cat
from forensics.case import load_case
from forensics.errors import InputError

INCIDENT = Path(__file__).resolve().parents[1] / "fixtures" / "incident-small"


def _row_read(case) -> cat.Catalog:
    """The catalog as the row reader alone reads it (the reference)."""
    return cat.Catalog(
        objects=cat._objects(case),
        view_definitions=cat._views(case),
        sensitivity=sorted(set(cat._sensitivity(case))),
        groups={p: frozenset(g) for p, g in cat._groups(case).items()},
        people=cat._people(case),
        **cat._table_details(case),  # optional columns of tables.csv: one reader only
    )


def _case_with(tmp_path: Path, **files: str):
    folder = tmp_path / "case"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(INCIDENT, folder)
    case = load_case(folder / "case.yaml")
    for key, text in files.items():
        getattr(case, key).write_text(text, encoding="utf-8")
    return case


def test_bundled_incident_reads_the_same_both_ways() -> None:
    case = load_case(INCIDENT / "case.yaml")
    assert cat._objects_fast(case) is not None and cat._groups_fast(case) is not None
    assert cat.load_catalog(case) == _row_read(case)


def test_awkward_but_valid_files_read_the_same_both_ways(tmp_path: Path) -> None:
    case = _case_with(
        tmp_path,
        tables=(
            "type,object,location,extra\n"
            " TABLE ,`MCI.Keys`, hdfs://nn:8020/w/k/ ,x\n"
            "view,mci.v,/ignored,\n"
            'table,"mci.quoted","/w/with,comma",\n'
            "table,mci.root,/,\n"
            "table,mci.none,,\n"
            "table,mci.keys,s3a://bucket/again//,\n"
        ),
        groups="principal,group\nAlice@CORP.EXAMPLE.COM, analysts \nsvc/host@R,etl\nalice,hr\n",
        people="principal,kind,org\nALICE,Human , HR \nsvc,service,\n",
        sensitivity='object,column,category\nmci.keys, Key ,pii\nmci.keys,,"multi\nline"\n',
    )
    fast = cat.load_catalog(case)
    assert cat._objects_fast(case) is not None
    assert fast == _row_read(case)
    assert fast.objects["mci.keys"].location == "/again"
    assert fast.objects["mci.root"].location == "/"
    assert fast.objects["mci.none"].location is None
    assert fast.groups["alice"] == frozenset({"analysts", "hr"})


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("tables", "object,type,location\nmci.k,table,/w\nmci.x,table\n", "line 3: wrong number"),
        ("tables", "object,type,location\nmci k,table,/w\n", "line 2: object 'mci k'"),
        ("tables", "object,type,location\nmci.k,index,/w\n", "type must be table or view"),
        ("tables", "object,type\nmci.k,table\n", "missing column(s) location"),
        ("tables", "\ufeffobject,type,location\nmci.k,table,/w\n", "missing column(s) object"),
        ("groups", "principal,group\n@REALM,g\n", "line 2: principal is empty"),
        ("people", "principal,kind,org\na,robot,x\n", "kind must be human or service"),
        ("sensitivity", "object,column,category\nmci.k,c, \n", "line 2: category is empty"),
    ],
)
def test_a_bad_file_names_the_line_to_fix(tmp_path: Path, key, text, message) -> None:
    case = _case_with(tmp_path, **{key: text})
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cat.load_catalog(case)


def test_non_ascii_values_go_to_the_row_reader(tmp_path: Path) -> None:
    case = _case_with(tmp_path, tables="object,type,location\nmci.k,table,/w/ä\n")
    assert cat._objects_fast(case) is None
    assert cat.load_catalog(case).objects["mci.k"].location == "/w/ä"


_cell = st.text(alphabet='aB.`_ -/@:,"\t\x1cz9$\n', max_size=12)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(_cell, st.sampled_from(["table", "VIEW", "x"]), _cell), max_size=6))
def test_generated_tables_read_the_same_or_fail_the_same(tmp_path: Path, rows) -> None:
    def quote(v: str) -> str:
        return '"' + v.replace('"', '""') + '"'

    text = "object,type,location\n" + "".join(
        f"{quote(o)},{t},{quote(loc)}\n" for o, t, loc in rows
    )
    case = _case_with(tmp_path, tables=text)
    try:
        reference = cat._objects(case)
    except InputError as e:
        with pytest.raises(InputError) as got:
            cat.load_catalog(case)
        assert str(got.value) == str(e)
        return
    assert cat.load_catalog(case).objects == reference
