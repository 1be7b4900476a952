"""Write a generated incident as normalized events (Parquet), with its case and its answer.

    python benchmarks/synth_events.py OUTDIR --events N [--seed S] [--tables T] ...

The warehouse, its people and its policies are those of `benchmarks/synth.py` (same
`Params`, and its `World`, `write_policies`, `write_directory`, `write_catalog`): `T`
objects, the first `X` in the `pii_*` databases that a policy change opens to everyone for
`--window-hours` in the middle of `--days` days. What differs is the log side: instead of
log files to parse, `events/part-NNN.parquet` holds the events already normalized, in the
columns of `forensics.schema.EVENT_SCHEMA`, as the ingest stage would leave them. They are
rendered by DuckDB over `range()` (no Python loop per event); every random draw is a hash
of (record, seed, salt), so the same arguments give the same rows.

The events, like synth.py's logs: 80% Hive through Ranger (team members read their
databases, a few tables hot; `svc_crawler` reads every object in turn; people read the
shared databases; strangers try `pii_*` tables: allowed inside the window, denied outside;
some only DESCRIBE; `svc_etl` INSERTs; rarely, a stranger copies an exposed table with
CREATE TABLE AS SELECT, someone reads the copy and copies it again), 10% NameNode opens
(most by `hive` on behalf of queries), 6% metastore `get_table`, 4% Trino reads. One
Ranger record in a thousand is delivered twice (same `dedup_key`, another line).

Beside the events: `case.yaml` (the Parquet named as a `generic` log, so the manifest
hashes it), `policies/`, `directory/`, `catalog/`, and in `expected/` the generator's own
bookkeeping: `exposure_enabled_reads.parquet` (principal, object, read_events),
`scope/*.parquet` (windows, baseline of the exposed objects, view bases, storage
locations: what an investigator's notebook would start from) and `summary.json`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402  (the generator beside this script)
from synth import DAY_MS, TEAM_SIZE, Params, World  # noqa: E402

#: Rows per Parquet file (and per DuckDB statement while writing).
CHUNK = 5_000_000
REALM = "@CORP.EXAMPLE.COM"
ON_BEHALF = ("hive", "presto", "spark", "trino")  # the case's default on-behalf services

# One row per log record; `rec` is the record, `i` the row (a replayed row repeats an
# earlier record). Kind codes: Hive 0 crawl, 1 team, 2 shared, 3 stranger, 4 denied,
# 5 describe, 6 ETL insert, 7 stranger's CTAS; NameNode 10 hive on behalf, 11 member open,
# 12 stranger open, 13 listing, 14 ETL create; 20 metastore get_table; Trino 30 team,
# 31 shared, 32 stranger (inside the window only). Pools: 0 all objects (permuted),
# 1 exposed, 2 shared, 3 private (unexposed, not shared).
RECORDS_SQL = """
CREATE OR REPLACE MACRO u(x, salt, seed) AS
    (hash(x, salt, seed) >> 11)::DOUBLE / 9007199254740992.0;
CREATE OR REPLACE MACRO records(lo, hi, n, seed, t0, span, w0, w1, passes, n_tables,
        n_exposed, n_shared, n_private, n_people, n_teams, copy_share) AS TABLE
WITH rows AS (
    SELECT i, CASE WHEN i % 1000 = 999 AND i >= 500 AND u(i - 500, 1, seed) < 0.80
        THEN i - 500 ELSE i END AS rec
    FROM range(lo, hi) t(i)
),
drawn AS (
    SELECT i, rec, i <> rec AS replay,
        t0 + (rec * span) // n AS ms,
        u(rec, 1, seed) AS uf, u(rec, 2, seed) AS uk, u(rec, 3, seed) AS uo,
        u(rec, 4, seed) AS uw, u(rec, 5, seed) AS ux, u(rec, 6, seed) AS uy
    FROM rows
),
kinds AS (
    SELECT *, ms >= w0 AND ms < w1 AS inwin,
        CASE
            WHEN uf < 0.80 THEN CASE
                WHEN uk < 0.05 THEN 0
                WHEN uk < 0.11 THEN 2
                WHEN uk < 0.15 THEN 4
                WHEN uk < 0.19 THEN 5
                WHEN uk < 0.22 THEN 6
                WHEN ms >= w0 AND ms < w1 AND uk < 0.22 + copy_share THEN 7
                WHEN uk < CASE WHEN ms >= w0 AND ms < w1 THEN 0.62 ELSE 0.32 END THEN 3
                ELSE 1 END
            WHEN uf < 0.90 THEN CASE
                WHEN uk < 0.50 THEN 10
                WHEN uk < 0.70 THEN 11
                WHEN uk < 0.89 THEN 13
                WHEN uk < 0.94 THEN 14
                WHEN uk < CASE WHEN ms >= w0 AND ms < w1 THEN 1.0 ELSE 0.96 END THEN 12
                ELSE 11 END
            WHEN uf < 0.96 THEN 20
            ELSE CASE
                WHEN uk < 0.10 THEN 31
                WHEN uk < 0.40 AND ms >= w0 AND ms < w1 THEN 32
                ELSE 30 END
        END AS kind
    FROM drawn
),
picked AS (
    SELECT *,
        CASE WHEN kind IN (3, 5, 7, 12, 32) THEN 1 WHEN kind IN (2, 31) THEN 2
            WHEN kind IN (4, 6, 14) THEN 3 ELSE 0 END AS pool,
        CASE
            WHEN kind = 0 THEN ((ms - t0) * passes * n_tables // span) % n_tables
            ELSE floor(uo * uo * uo * CASE
                WHEN kind IN (3, 5, 7, 12, 32) THEN n_exposed WHEN kind IN (2, 31) THEN n_shared
                WHEN kind IN (4, 6, 14) THEN n_private ELSE n_tables END)::BIGINT
        END AS idx
    FROM kinds
),
joined AS (
    SELECT k.*, p.name, p.is_view, p.owner, p.base_name, p.base_location, p.dbname
    FROM picked k JOIN pools p ON p.pool = k.pool AND p.idx = k.idx
),
people AS (
    SELECT *,
        CASE
            WHEN kind = 0 THEN -1
            WHEN kind IN (6, 14) THEN -2
            WHEN kind = 10 OR (kind = 20 AND uw < 0.3) THEN -3
            WHEN kind IN (2, 20, 31) THEN floor(uw * n_people)::BIGINT
            WHEN kind IN (3, 4, 5, 7, 12, 32) THEN stranger
            ELSE owner + n_teams * floor(uw * ((n_people - owner + n_teams - 1) // n_teams))::BIGINT
        END AS who
    FROM (
        SELECT *, CASE WHEN s % n_teams = owner THEN CASE WHEN s + 1 < n_people THEN s + 1
            ELSE s - 1 END ELSE s END AS stranger
        FROM (SELECT *, CASE WHEN ux < 0.5 THEN floor(n_people * 0.02 * uw)::BIGINT
            ELSE floor(n_people * uw)::BIGINT END AS s FROM joined)
    )
)
SELECT *,
    CASE who WHEN -1 THEN 'svc_crawler' WHEN -2 THEN 'svc_etl' WHEN -3 THEN 'hive'
        ELSE 'u' || lpad(who::VARCHAR, 5, '0') END AS principal,
    (ms - t0) // 86400000 AS day,
    kind = 4 OR (kind IN (3, 5, 12) AND NOT inwin) AS is_denied
FROM people
"""

# The normalized events of records `lo:hi` (and the extra events of each copy: the write
# of the copy, a later read of it, a CTAS of the copy and its write).
EVENTS_SQL = """
WITH r AS (
    SELECT *, $dates[day + 1] AS ds,
        CASE WHEN is_denied THEN 'denied' ELSE 'allowed' END AS result,
        'logs/ranger/hive_ranger_audit.' || lpad((i * $ranger_files // $n)::VARCHAR, 2, '0')
            || '.log' AS ranger_file,
        ['6b1f0c2e-4a8d-4b7e-9c51-0d2f7a1e9b34', 'c0a3e7d1-93f2-4e18-8a6b-5f4d2c1b0e97',
         '2f9e4b6a-7c1d-4a03-b8e5-61d0c9a4f2b8',
         '9d4c2a7f-0b6e-4f91-a3d8-e52b17c60f4a'][rec % 4 + 1] AS agent,
        's-' || lpad(printf('%x', hash(principal, day, $seed) >> 16), 12, '0') AS session,
        '10.20.' || ((who % 50000 + 50000) % 50000 // 250) || '.' || ((who % 250 + 250) % 250 + 2)
            AS ip,
        uy < 0.2 AND NOT is_view AND kind NOT IN (5, 6) AS with_columns,
        CASE WHEN uy < 0.01 THEN 2 + floor(ux * 4)::BIGINT ELSE 1 END AS cnt,
        'sandbox.ctas_' || rec AS copy_name
    FROM records($lo, $hi, $n, $seed, $t0, $span, $w0, $w1, $passes, $n_tables, $n_exposed,
        $n_shared, $n_private, $n_people, $n_teams, $copy_share)
),
hive AS (
    SELECT r.*,
        CASE kind
            WHEN 0 THEN 'SELECT * FROM ' || name || ' LIMIT 100'
            WHEN 5 THEN 'DESCRIBE FORMATTED ' || name
            WHEN 6 THEN 'INSERT OVERWRITE TABLE ' || name || ' PARTITION (ds=''' || ds
                || ''') SELECT * FROM ' || name || '_staging'
            WHEN 7 THEN 'CREATE TABLE ' || copy_name || ' AS SELECT * FROM ' || base_name
            ELSE CASE
                WHEN with_columns THEN 'SELECT user_id, event_time FROM ' || name
                    || ' WHERE ds = ''' || ds || ''''
                WHEN uy < 0.6 THEN 'SELECT * FROM ' || name || ' WHERE ds = ''' || ds
                    || ''' LIMIT ' || (10 ** (1 + floor(ux * 3)))::BIGINT
                ELSE 'SELECT count(*) FROM ' || name || ' WHERE ds >= ''' || ds || '''' END
        END AS stmt
    FROM r WHERE kind < 10
),
extra AS (  -- the copy's write, a read of it, a CTAS of the copy and that one's write
    SELECT h.*, k,
        CASE k WHEN 1 THEN h.principal
            ELSE 'u' || lpad(((h.who + CASE k WHEN 2 THEN 7919 ELSE 15838 END) % $n_people)
                ::VARCHAR, 5, '0') END AS p2,
        CASE k WHEN 1 THEN 0 WHEN 2 THEN 3600000 ELSE 7200000 END AS later
    FROM hive h, range(1, 5) t(k) WHERE h.kind = 7 AND NOT h.replay
)
SELECT agent || '-' || rec AS event_id, epoch_ms(ms)::TIMESTAMP_MS AS time,
    'ranger-audit' AS source_format, ranger_file AS source_file, i + 1 AS source_line,
    'hive' AS engine, principal,
    CASE WHEN rec % 17 = 0 AND who >= 0 THEN principal || $realm ELSE principal END
        AS principal_raw,
    CASE kind WHEN 5 THEN 'metadata' WHEN 6 THEN 'write' ELSE 'read' END AS op,
    CASE kind WHEN 6 THEN 'UPDATE' ELSE 'SELECT' END AS action,
    CASE kind WHEN 7 THEN base_name ELSE name END AS object,
    CASE WHEN with_columns THEN 'event_time;user_id' END AS columns,
    NULL AS path, result,
    CASE WHEN is_denied THEN -1 WHEN kind = 0 THEN 2 WHEN kind = 6 THEN 4 WHEN kind = 2 THEN 3
        WHEN kind IN (3, 5, 7) THEN 9 ELSE 100 + owner END AS policy_id,
    ip AS client_ip, session AS session_id, NULL AS query_id, stmt AS query_text,
    cnt AS event_count, agent || '-' || rec AS dedup_key
FROM hive
UNION ALL
SELECT agent || '-' || rec || '-' || k, epoch_ms(ms + later)::TIMESTAMP_MS,
    'ranger-audit', ranger_file, $n + 4 * i + k, 'hive', p2, p2,
    CASE WHEN k IN (1, 4) THEN 'write' ELSE 'read' END,
    CASE WHEN k IN (1, 4) THEN 'CREATE' ELSE 'SELECT' END,
    CASE k WHEN 1 THEN copy_name WHEN 4 THEN 'sandbox.ctas2_' || rec ELSE copy_name END,
    NULL, NULL, 'allowed', NULL, ip,
    CASE WHEN k = 1 THEN session ELSE 's-copy-' || rec || '-' || (k // 3) END, NULL,
    CASE WHEN k = 1 THEN stmt WHEN k = 2 THEN 'SELECT * FROM ' || copy_name || ' LIMIT 10'
        ELSE 'CREATE TABLE sandbox.ctas2_' || rec || ' AS SELECT * FROM ' || copy_name END,
    1, agent || '-' || rec || '-' || k
FROM extra
UNION ALL
SELECT 'hdfs-' || rec, epoch_ms(ms)::TIMESTAMP_MS, 'hdfs-audit',
    CASE WHEN i * 2 < $n THEN 'logs/hdfs/hdfs-audit.log.1' ELSE 'logs/hdfs/hdfs-audit.log' END,
    i + 1, 'hdfs', principal,
    CASE WHEN who = -3 THEN 'hive/hs2-01.corp.example.com' || $realm ELSE principal END,
    CASE kind WHEN 13 THEN 'metadata' WHEN 14 THEN 'write' ELSE 'read' END,
    CASE kind WHEN 13 THEN 'listStatus' WHEN 14 THEN 'create' ELSE 'open' END,
    NULL, NULL,
    base_location || CASE WHEN kind = 13 THEN '' ELSE '/ds=' || ds || '/00000'
        || floor(uy * 8)::BIGINT || '_0' END,
    result, NULL, '10.30.' || ((who % 200 + 200) % 200) || '.7', NULL,
    CASE WHEN kind = 10 THEN 'HIVE_QUERY_ID:hive_' || strftime(epoch_ms(ms), '%Y%m%d%H%M%S')
        || '_' || rec END,
    NULL, 1, NULL
FROM r WHERE kind BETWEEN 10 AND 19
UNION ALL
SELECT 'hms-' || rec, epoch_ms(ms)::TIMESTAMP_MS, 'metastore-audit',
    'logs/metastore/hivemetastore-audit.log', i + 1, 'metastore', principal, principal,
    'metadata', 'get_table', name, NULL, NULL, 'allowed', NULL,
    CASE WHEN who = -3 THEN '10.20.3.30' ELSE '10.20.' || ((who % 200 + 200) % 200) || '.11' END,
    NULL, NULL, NULL, 1, NULL
FROM r WHERE kind = 20
UNION ALL
SELECT q || '#in0', epoch_ms(ms)::TIMESTAMP_MS, 'trino-event',
    'logs/trino/query-completed.' || ds || '.json', i + 1, 'trino', principal,
    principal || $realm, 'read', 'SELECT', name, 'event_time;user_id', NULL, 'allowed', NULL,
    '10.50.' || (who % 50000 // 250) || '.' || (who % 250 + 2), NULL, q,
    'SELECT user_id, event_time FROM hive.' || name || ' LIMIT 500', 1, 'trino:' || q || '#in0'
FROM (SELECT *, strftime(epoch_ms(ms), '%Y%m%d_%H%M%S') || '_' || lpad((rec % 100000)::VARCHAR,
    5, '0') || '_' || chr(97 + (rec // 100000 % 26)::INT) || chr(97 + (rec // 2600000 % 26)::INT)
    || 'xq' AS q FROM r WHERE kind >= 30)
"""

# The planted answer, from the generator's bookkeeping: strangers' allowed reads inside the
# window (Hive, Trino: the object, and a view's base table too; NameNode: the base table),
# replayed rows left out.
TRUTH_SQL = """
WITH reads AS (
    SELECT principal, CASE WHEN kind IN (7, 12) THEN base_name ELSE name END AS object,
        CASE WHEN kind IN (3, 7) AND uy < 0.01 THEN 2 + floor(ux * 4)::BIGINT ELSE 1 END AS cnt,
        is_view AND kind IN (3, 32) AS via_view, base_name
    FROM records(0, $n, $n, $seed, $t0, $span, $w0, $w1, $passes, $n_tables, $n_exposed,
        $n_shared, $n_private, $n_people, $n_teams, $copy_share)
    WHERE NOT replay AND kind IN (3, 7, 12, 32) AND inwin
)
SELECT principal, object, sum(cnt) AS read_events FROM (
    SELECT principal, object, cnt FROM reads
    UNION ALL
    SELECT principal, base_name, cnt FROM reads WHERE via_view
)
GROUP BY principal, object
ORDER BY principal, object
"""


def pools(w: World) -> pa.Table:
    """Every object a record can pick, by pool and position: its name, whether it is a
    view, the team owning its database, and its base table's name and storage path."""
    base_names = w.names[w.base]
    base_paths = np.array([f"{synth.WAREHOUSE}/{n.replace('.', '.db/')}" for n in base_names])
    lists = [w.perm["all"], w.perm["exposed"], w.public_objs, w.private_objs]
    parts = []
    for pool, objs in enumerate(lists):
        parts.append(
            pa.table(
                {
                    "pool": np.full(len(objs), pool, np.int64),
                    "idx": np.arange(len(objs), dtype=np.int64),
                    "name": pa.array(w.names[objs].tolist(), pa.string()),
                    "is_view": w.is_view[objs],
                    "owner": w.owner[w.db[objs]].astype(np.int64),
                    "base_name": pa.array(base_names[objs].tolist(), pa.string()),
                    "base_location": pa.array(base_paths[objs].tolist(), pa.string()),
                    "dbname": pa.array([w.db_names[d] for d in w.db[objs].tolist()], pa.string()),
                }
            )
        )
    return pa.concat_tables(parts)


def sql_params(w: World) -> dict[str, object]:
    """The constants the generator's SQL binds (everything else is a hash of the record)."""
    p = w.p
    span = w.t1 - w.t0
    crawls = 0.80 * 0.05 * p.events
    in_window = 0.80 * p.events * (w.w1 - w.w0) / span  # Hive records inside the window
    first = datetime.fromtimestamp(w.t0 / 1000, timezone.utc)
    return {
        "n": p.events,
        "seed": p.seed,
        "t0": w.t0,
        "span": span,
        "w0": w.w0,
        "w1": w.w1,
        "passes": max(1, int(crawls // p.tables)),
        "n_tables": p.tables,
        "n_exposed": p.exposed,
        "n_shared": len(w.public_objs),
        "n_private": len(w.private_objs),
        "n_people": p.principals,
        "n_teams": w.n_teams,
        "copy_share": max(0.0005, 10 / in_window),  # at least about ten copies
        "dates": [(first + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(p.days)],
    }


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection for the generator (UTC, order kept: rows leave in record order)."""
    con = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
    con.sql("SET TimeZone = 'UTC'")
    return con


def event_columns() -> list[tuple[str, str]]:
    """(name, DuckDB type) of every normalized event column, from `EVENT_SCHEMA`."""
    from forensics.schema import EVENT_SCHEMA

    types = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.timestamp("ms"): "TIMESTAMP_MS"}
    return [(f.name, types[f.type]) for f in EVENT_SCHEMA]


def write_events(con: duckdb.DuckDBPyConnection, w: World, root: Path) -> list[str]:
    """`events/part-NNN.parquet`, `CHUNK` records each, in the columns of EVENT_SCHEMA
    (columns the generator does not know, such as ones added later, are NULL)."""
    params = sql_params(w)
    names = [c for c, _ in event_columns()]
    rendered = con.sql(EVENTS_SQL, params={**params, "lo": 0, "hi": 1, "ranger_files": 8,
                                           "realm": REALM}).columns  # fmt: skip
    casts = ", ".join(
        f"CAST({c if c in rendered else 'NULL'} AS {t}) AS {c}" for c, t in event_columns()
    )
    folder = root / "events"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for k, lo in enumerate(range(0, w.p.events, CHUNK)):
        path = folder / f"part-{k:03d}.parquet"
        hi = min(w.p.events, lo + CHUNK)
        bound = {**params, "lo": lo, "hi": hi, "ranger_files": w.p.ranger_files, "realm": REALM}
        ordered = f"SELECT {casts} FROM ({EVENTS_SQL}) ORDER BY source_line, event_id"
        con.sql(ordered, params=bound).write_parquet(str(path), compression="zstd")
        files.append(path.relative_to(root).as_posix())
    assert names  # the schema is never empty
    return files


def write_scope(w: World, root: Path) -> None:
    """What an investigator's notebook starts from, written from the generator's model:
    the window of every exposed object, the baseline (who could read each exposed object
    before: its database's team and the crawler), view bases and storage locations."""
    folder = root / "expected" / "scope"
    folder.mkdir(parents=True, exist_ok=True)
    exposed = np.arange(w.p.exposed)
    names = w.names[exposed].tolist()
    n = len(names)
    start = datetime.fromtimestamp(w.w0 / 1000, timezone.utc).replace(tzinfo=None)
    end = datetime.fromtimestamp(w.w1 / 1000, timezone.utc).replace(tzinfo=None)
    pq.write_table(
        pa.table(
            {
                "object": pa.array(names, pa.string()),
                "start": pa.array([start] * n, pa.timestamp("ms")),
                "end": pa.array([end] * n, pa.timestamp("ms")),
            }
        ),
        folder / "windows.parquet",
    )
    team = np.arange(w.p.principals) % w.n_teams
    members = {t: [] for t in range(w.n_teams)}
    for person, t in zip(w.people.tolist(), team.tolist(), strict=True):
        members[t].append(person)
    objects, people = [], []
    for obj, owner in zip(names, w.owner[w.db[exposed]].tolist(), strict=True):
        who = [*members[owner], "svc_crawler"]
        objects += [obj] * len(who)
        people += who
    pq.write_table(pa.table({"object": objects, "principal": people}), folder / "baseline.parquet")
    views = np.flatnonzero(w.is_view)
    pq.write_table(
        pa.table({"view": w.names[views].tolist(), "base": w.names[w.base[views]].tolist()}),
        folder / "view_bases.parquet",
    )
    tables = np.flatnonzero(~w.is_view)
    pq.write_table(
        pa.table(
            {
                "object": w.names[tables].tolist(),
                "location": [w.location(i) for i in tables.tolist()],
            }
        ),
        folder / "locations.parquet",
    )


def write_case(w: World, root: Path) -> None:
    """The case file: synth.py's policies, directory and catalog; the events as a log."""
    at = [synth.iso(w.t0 - 15 * DAY_MS), synth.iso(w.w0), synth.iso(w.w1)]
    text = f"""\
# A synthetic incident written by benchmarks/synth_events.py ({json.dumps(asdict(w.p))})
# The logs are already normalized events (benchmarks/bench_investigate.py reads them as the
# engine's raw_events); the generic mapping below makes them an input of the case, read as
# `forensics investigate` reads them. Their times are UTC without an offset, so the case's
# zone (that of times without an offset) is UTC.
case: synth-events-{w.p.seed}
timezone: UTC
policies:
  - {{at: "{at[0]}", path: policies/baseline.json}}
  - {{at: "{at[1]}", path: policies/change-1.json}}
  - {{at: "{at[2]}", path: policies/change-2.json}}
directory:
  groups: directory/groups.csv
  people: directory/people.csv
catalog:
  tables: catalog/tables.csv
  views: catalog/views.csv
  sensitivity: catalog/sensitivity.csv
logs:
  - format: generic
    path: "events/*.parquet"
    time_format: epoch_ms
    mapping: {{time: time, principal: principal, object: object, path: path, action: action,
              op: op, result: result, engine: engine, query_text: query_text,
              event_id: event_id, event_count: event_count}}
"""
    (root / "case.yaml").write_text(text, encoding="utf-8")


def generate(p: Params, root: Path) -> dict:
    """Write the whole case folder; returns the summary also written to expected/."""
    p.check()
    if p.principals < 2 * TEAM_SIZE or p.events < 1000:
        raise SystemExit("--events, --principals: too small")
    prepare(root)
    w = World(p)
    synth.write_policies(w, root)
    synth.write_directory(w, root)
    synth.write_catalog(w, root)
    write_case(w, root)
    con = connect()
    con.register("pools_arrow", pools(w))
    con.sql("CREATE TABLE pools AS SELECT * FROM pools_arrow")
    con.unregister("pools_arrow")
    con.sql(RECORDS_SQL)
    files = write_events(con, w, root)
    write_scope(w, root)
    params = sql_params(w)
    truth = con.sql(TRUTH_SQL, params={k: v for k, v in params.items() if k != "dates"})
    expected = root / "expected"
    truth.write_parquet(str(expected / "exposure_enabled_reads.parquet"))
    glob = str(root / "events" / "*.parquet")
    ((rows, texts, copies),) = con.sql(
        "SELECT count(*), count(DISTINCT query_text), count(*) FILTER (WHERE op = 'write' AND "
        "object LIKE 'sandbox.%') FROM read_parquet($glob)",
        params={"glob": glob},
    ).fetchall()
    ((pairs, read_events),) = con.sql(
        "SELECT count(*), sum(read_events) FROM read_parquet($p)",
        params={"p": str(expected / "exposure_enabled_reads.parquet")},
    ).fetchall()
    con.close()
    summary = {
        "params": asdict(p),
        "window": [synth.iso(w.w0), synth.iso(w.w1)],
        "records": p.events,
        "rows": rows,
        "distinct_query_texts": texts,
        "files": files,
        "derived_copies": copies,
        "exposure_enabled": {"pairs": pairs, "read_events": int(read_events or 0)},
    }
    (expected / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def prepare(root: Path) -> None:
    """An empty folder, or one this script wrote before (its generated parts are removed)."""
    case = root / "case.yaml"
    if root.exists() and any(root.iterdir()):
        if not case.is_file() or not case.read_text(encoding="utf-8").startswith(
            "# A synthetic incident written by benchmarks/synth_events.py"
        ):
            raise SystemExit(f"{root}: not empty and not a synthetic incident; give a new folder")
        for sub in ("events", "policies", "directory", "catalog", "expected"):
            shutil.rmtree(root / sub, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    """The command line: every `Params` field is an option."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    defaults = Params()
    for field in ("events", "seed", "tables", "exposed", "principals", "days", "window_hours",
                  "tables_per_db", "ranger_files"):  # fmt: skip
        parser.add_argument(
            f"--{field.replace('_', '-')}", type=int, default=getattr(defaults, field)
        )
    args = vars(parser.parse_args(argv))
    root = args.pop("outdir")
    summary = generate(Params(**args), root)
    print(
        f"wrote {root}: {summary['rows']:,} events in {len(summary['files'])} Parquet files, "
        f"{summary['exposure_enabled']['pairs']:,} planted exposure-enabled pairs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
