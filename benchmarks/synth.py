"""Write a synthetic exposure incident of any size, in the real log formats, with its answer.

    python benchmarks/synth.py OUTDIR --events N [--seed S] [--tables T] [--exposed X]
                               [--principals P]

The warehouse: `T` objects in databases of `--tables-per-db` objects; the first `X` objects
sit in the `pii_*` databases that the incident exposes (one view per such database, over
its first table); the rest in `dw_*` databases, every tenth of them readable by everyone.
`P` people belong to teams of about fifty (`team_NNNN` plus `employees`); each database is
granted to one team (database-level Ranger policies). The crawler `svc_crawler` may read
everything; `svc_etl` writes the `dw_*` tables; `hive` opens files for Hive queries.

The incident: a policy change opens every `pii_*` database to group `public` for four hours
in the middle of the period (`policies/change-1.json`), `policies/change-2.json` closes it.
Over `--days` days, `N` log records are written (about 80% Ranger Hive-plugin audit lines,
10% NameNode audit, 6% metastore audit, 4% Trino query-completed events): team members read
their databases (a few tables are hot), the crawler reads every object in turn, people read
the shared databases, `svc_etl` writes, and strangers try the `pii_*` tables (allowed inside
the window, denied outside it; some only DESCRIBE them), some by Trino or straight from HDFS.

Damage, as real logs arrive: the Ranger audit is rotated into `--ranger-files` files (the
oldest gzipped), each replays the last lines of the one before (same Ranger `id`), and five
lines are corrupt (listed in `expected/corrupt_lines.csv`). `N` counts the records, not the
replayed or corrupt lines. With `--lost-hour H`, the audit hs2-02 wrote in hour `H` of the
period is lost (a spool overflow): those records are in neither the logs nor the answer,
and `expected/summary.json` names the hour (`lost`), which the coverage ledger must call a
gap.

Ranger's own numbering: the Hive plugin creates a `RangerHiveAuditHandler` for every
authorization call (`RangerHiveAuthorizer`), and each handler draws a random UUID
(`MiscUtil.generateUniqueId`) and numbers what it creates: an event's `id` is
`<uuid>-<counter>` from 0, and `seq_num` is set once when the event is created and again
when it is logged (`RangerDefaultAuditHandler.populateDefaults`, called by `getAuthzEvents`
and by `logAuthzAudit`), so a handler that logs one event writes `<uuid>-0` and `seq_num`
1. Every record here is one access check of its own statement: a fresh UUID (drawn from the
seed) per record, `-0`, `seq_num` 1. A lost stretch leaves no `seq_num` jump; only the rate
of the host shows it.

The answer, from the generator's own bookkeeping (never from `forensics`):
`expected/exposure_enabled_reads.csv` in the evidence contract's columns, and
`expected/summary.json` with the counts. Same arguments, byte-identical files: every random
draw comes from numpy's generator seeded with `--seed`, and every file is written in a fixed
order (rows are rendered by DuckDB from Arrow slices in insertion order, gzip without
timestamp).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa

REALM = "CORP.EXAMPLE.COM"
NAMENODE = "hdfs://nn1.corp.example.com:8020"
WAREHOUSE = "/warehouse/tablespace/managed/hive"
TIMEZONE = "America/New_York"  # no DST change in the default period: the offset is fixed
START = datetime(2026, 6, 16, tzinfo=timezone.utc)
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
TEAM_SIZE = 50
SERVICES = ("svc_crawler", "svc_etl", "hive", "trino", "hue")
CATEGORIES = ("keystrokes", "health", "compensation", "conversations", "location")
EXPOSURE_POLICY = 9
LOST_HOST = 1  # hs2-02: the HiveServer2 whose audit spool overflows in --lost-hour
CRAWLER_POLICY, PUBLIC_POLICY, ETL_POLICY = 2, 3, 4
TEAM_POLICY_BASE = 100

# Ranger Hive-plugin record kinds (bookkeeping codes).
CRAWL, TEAM, PUBLIC, STRANGER, DENIED, DESCRIBE, ETL = range(7)
RANGER_MIX = (0.05, 0.63, 0.06, 0.15, 0.04, 0.04, 0.03)
# NameNode record kinds.
ON_BEHALF, USER_OPEN, STRANGER_OPEN, LISTING, ETL_CREATE = range(5)
HDFS_MIX = (0.50, 0.20, 0.06, 0.19, 0.05)
# Trino record kinds.
T_TEAM, T_PUBLIC, T_STRANGER = range(3)
TRINO_MIX = (0.60, 0.10, 0.30)
# Share of all records per format: Ranger Hive, NameNode, metastore, Trino.
FORMAT_MIX = (0.80, 0.10, 0.06, 0.04)


@dataclass(frozen=True)
class Params:
    """Everything that decides the generated incident (and so the cache key of a benchmark)."""

    events: int = 10_000_000
    seed: int = 1
    tables: int = 300_000
    exposed: int = 45_000
    principals: int = 50_000
    days: int = 3
    window_hours: int = 4
    tables_per_db: int = 150
    ranger_files: int = 8
    lost_hour: int = -1  # an hour (from the start) whose Ranger audit of LOST_HOST is lost

    def check(self) -> None:
        """Refuse sizes the story cannot be told with, naming the option to change."""
        if self.events < 1000:
            raise SystemExit("--events: give at least 1000")
        if not 2 <= self.exposed < self.tables:
            raise SystemExit("--exposed: give at least 2 and fewer than --tables")
        if self.tables - self.exposed < 2 * self.tables_per_db:
            raise SystemExit("--tables: leave at least two databases of unexposed tables")
        if self.principals < 2 * TEAM_SIZE:
            raise SystemExit(f"--principals: give at least {2 * TEAM_SIZE} (two teams)")
        if self.days < 1 or not 1 <= self.window_hours < self.days * 24:
            raise SystemExit("--window-hours: must fit inside --days")
        if not 2 <= self.ranger_files <= 99:
            raise SystemExit("--ranger-files: give 2 to 99")
        if not -1 <= self.lost_hour < self.days * 24:
            raise SystemExit("--lost-hour: give an hour of the period (0 is the first), or -1")


class World:
    """The warehouse and its people: ids, names and who may read what, as numpy arrays."""

    def __init__(self, p: Params) -> None:
        self.p = p
        tpd = p.tables_per_db
        obj = np.arange(p.tables, dtype=np.int64)
        exposed = obj < p.exposed
        self.n_exposed_db = -(-p.exposed // tpd)
        self.db = np.where(exposed, obj // tpd, self.n_exposed_db + (obj - p.exposed) // tpd)
        self.pos = np.where(exposed, obj % tpd, (obj - p.exposed) % tpd)
        self.n_db = int(self.db[-1]) + 1
        db_size = np.bincount(self.db, minlength=self.n_db)
        self.is_view = exposed & (self.pos == 1) & (db_size[self.db] >= 2)
        self.base = np.where(self.is_view, obj - 1, obj)  # views read the table before them
        self.n_teams = p.principals // TEAM_SIZE
        db_ids = np.arange(self.n_db)
        self.owner = db_ids % self.n_teams
        self.db_public = (db_ids >= self.n_exposed_db) & ((db_ids - self.n_exposed_db) % 10 == 0)
        self.db_names = [
            f"pii_{d:04d}" if d < self.n_exposed_db else f"dw_{d - self.n_exposed_db:04d}"
            for d in range(self.n_db)
        ]
        self.names = np.array(
            [
                f"{self.db_names[d]}.{'v' if v else 't'}_{s:05d}"
                for d, s, v in zip(
                    self.db.tolist(), self.pos.tolist(), self.is_view.tolist(), strict=True
                )
            ],
            dtype=object,
        )
        self.people = np.array([f"u{i:05d}" for i in range(p.principals)], dtype=object)
        rng = np.random.default_rng([p.seed, 0])
        self.perm = {
            "all": rng.permutation(p.tables),
            "exposed": rng.permutation(p.exposed),
        }
        public = np.flatnonzero(self.db_public[self.db])
        private = np.flatnonzero(~exposed & ~self.db_public[self.db])
        self.public_objs = public[rng.permutation(len(public))]
        self.private_objs = private[rng.permutation(len(private))]
        self.etl_objs = self.private_objs
        start = int(START.timestamp() * 1000)
        self.t0, self.t1 = start, start + p.days * DAY_MS
        self.w0 = start + (p.days * 24 // 2 - p.window_hours // 2) * HOUR_MS
        self.w1 = self.w0 + p.window_hours * HOUR_MS
        self.offset_ms = fixed_offset_ms(self.t0, self.t1)

    def hot(self, rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
        """`n` objects of `pool`, skewed: the first 0.1% of the pool gets about 10% of picks."""
        idx = np.floor(len(pool) * rng.random(n) ** 3).astype(np.int64)
        return pool[np.minimum(idx, len(pool) - 1)]

    def member(self, rng: np.random.Generator, team: np.ndarray) -> np.ndarray:
        """A random member of each team (people are on team `i % n_teams`)."""
        size = (self.p.principals - team + self.n_teams - 1) // self.n_teams
        return team + self.n_teams * np.floor(rng.random(len(team)) * size).astype(np.int64)

    def stranger(self, rng: np.random.Generator, objs: np.ndarray) -> np.ndarray:
        """A person not on the team owning each object's database: half of them drawn
        from a small set of busy people, half from everyone (many one-off readers)."""
        n = len(objs)
        busy = np.floor(self.p.principals * 0.02 * rng.random(n)).astype(np.int64)
        anyone = np.floor(self.p.principals * rng.random(n)).astype(np.int64)
        who = np.where(rng.random(n) < 0.5, busy, anyone)
        clash = who % self.n_teams == self.owner[self.db[objs]]
        return np.where(clash, np.where(who + 1 < self.p.principals, who + 1, who - 1), who)

    def times(self, rng: np.random.Generator, n: int, in_window: float = 0.0) -> np.ndarray:
        """Event times (UTC ms): a share `in_window` inside the exposure window, the rest
        anywhere in the period."""
        anywhere = self.t0 + np.floor(rng.random(n) * (self.t1 - self.t0)).astype(np.int64)
        inside = self.w0 + np.floor(rng.random(n) * (self.w1 - self.w0)).astype(np.int64)
        return np.where(rng.random(n) < in_window, inside, anywhere)

    def in_window(self, ms: np.ndarray) -> np.ndarray:
        """Which times fall inside the exposure window `[w0, w1)`."""
        return (ms >= self.w0) & (ms < self.w1)

    def location(self, obj: int) -> str:
        """The storage path of a table, as the NameNode audit log writes it."""
        database, table = str(self.names[obj]).split(".")
        return f"{WAREHOUSE}/{database}.db/{table}"


def fixed_offset_ms(t0: int, t1: int) -> int:
    """The case timezone's UTC offset, which must not change within the period (the logs'
    local times are written with one offset; a DST change would need two)."""
    tz = ZoneInfo(TIMEZONE)
    offsets = {
        datetime.fromtimestamp(ms / 1000, timezone.utc).astimezone(tz).utcoffset()
        for ms in range(t0, t1 + HOUR_MS, HOUR_MS)
    }
    if len(offsets) != 1:
        raise SystemExit(f"--days: the period crosses a DST change in {TIMEZONE}; shorten it")
    (offset,) = offsets
    return int(offset.total_seconds() * 1000)


def split(rng: np.random.Generator, n: int, mix: tuple[float, ...]) -> np.ndarray:
    """A kind code per record, in the proportions `mix` (counts exact, order shuffled)."""
    counts = np.floor(np.array(mix) * n).astype(np.int64)
    counts[0] += n - counts.sum()
    return rng.permutation(np.repeat(np.arange(len(mix)), counts))


# ---------------------------------------------------------------------------------------------
# Records: one numpy row per log record, with what the generator knows about it.


def ranger_records(w: World, n: int) -> dict[str, np.ndarray]:
    """Ranger Hive-plugin audit records (one per access check), sorted by time."""
    rng = np.random.default_rng([w.p.seed, 1])
    kind = split(rng, n, RANGER_MIX)
    obj = np.zeros(n, np.int64)
    who = np.zeros(n, np.int64)
    ms = w.times(rng, n)
    for code in (STRANGER, DESCRIBE):
        sel = kind == code
        obj[sel] = w.hot(rng, w.perm["exposed"], int(sel.sum()))
        who[sel] = w.stranger(rng, obj[sel])
        ms[sel] = w.times(rng, int(sel.sum()), in_window=0.6)
    sel = kind == TEAM
    obj[sel] = w.hot(rng, w.perm["all"], int(sel.sum()))
    who[sel] = w.member(rng, w.owner[w.db[obj[sel]]])
    sel = kind == PUBLIC
    obj[sel] = w.hot(rng, w.public_objs, int(sel.sum()))
    who[sel] = np.floor(rng.random(int(sel.sum())) * w.p.principals).astype(np.int64)
    sel = kind == DENIED
    obj[sel] = w.hot(rng, w.private_objs, int(sel.sum()))
    who[sel] = w.stranger(rng, obj[sel])
    sel = kind == CRAWL
    obj[sel] = w.perm["all"][np.arange(int(sel.sum())) % w.p.tables]
    who[sel] = -1  # svc_crawler
    sel = kind == ETL
    obj[sel] = w.hot(rng, w.etl_objs, int(sel.sum()))
    who[sel] = -2  # svc_etl
    allowed = ~np.isin(kind, (STRANGER, DESCRIBE, DENIED)) | (
        np.isin(kind, (STRANGER, DESCRIBE)) & w.in_window(ms)
    )
    count = np.where(rng.random(n) < 0.01, rng.integers(2, 6, n), 1)
    columns = (rng.random(n) < 0.2) & ~w.is_view[obj] & (kind != ETL) & (kind != DESCRIBE)
    template = np.where(columns, 2, rng.integers(0, 2, n))
    order = np.argsort(ms, kind="stable")
    return {
        "ms": ms[order],
        "kind": kind[order],
        "obj": obj[order],
        "who": who[order],
        "allowed": allowed[order],
        "count": count[order],
        "columns": columns[order],
        "template": template[order],
        "limit": rng.integers(1, 1000, n)[order],
        "host": rng.integers(0, 4, n)[order],
    }


def lost_span(w: World) -> tuple[int, int] | None:
    """The UTC ms span of the planted lost hour (`--lost-hour`), or None."""
    if w.p.lost_hour < 0:
        return None
    start = w.t0 + w.p.lost_hour * HOUR_MS
    return start, start + HOUR_MS


def lose_hour(w: World, rec: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The Ranger records without those LOST_HOST wrote in the lost hour: its spool
    overflowed and they never reached the log (nor, so, the planted answer)."""
    span = lost_span(w)
    if span is None:
        return rec
    keep = ~((rec["host"] == LOST_HOST) & (rec["ms"] >= span[0]) & (rec["ms"] < span[1]))
    return {k: v[keep] for k, v in rec.items()}


def hdfs_records(w: World, n: int) -> dict[str, np.ndarray]:
    """NameNode audit records (one per namespace operation), sorted by time."""
    rng = np.random.default_rng([w.p.seed, 2])
    kind = split(rng, n, HDFS_MIX)
    obj = w.base[w.hot(rng, w.perm["all"], n)]  # files belong to tables, never views
    who = w.member(rng, w.owner[w.db[obj]])
    ms = w.times(rng, n)
    sel = kind == STRANGER_OPEN
    obj[sel] = w.base[w.hot(rng, w.perm["exposed"], int(sel.sum()))]
    who[sel] = w.stranger(rng, obj[sel])
    ms[sel] = w.times(rng, int(sel.sum()), in_window=0.7)
    sel = kind == ETL_CREATE
    obj[sel] = w.hot(rng, w.etl_objs, int(sel.sum()))
    who[sel] = -2
    who[kind == ON_BEHALF] = -3  # hive
    allowed = (kind != STRANGER_OPEN) | w.in_window(ms)
    order = np.argsort(ms, kind="stable")
    return {
        "ms": ms[order],
        "kind": kind[order],
        "obj": obj[order],
        "who": who[order],
        "allowed": allowed[order],
        "proxy": (rng.random(n) < 0.3)[order],
        "part": rng.integers(0, 8, n)[order],
        "count": np.ones(n, np.int64),
    }


def metastore_records(w: World, n: int) -> dict[str, np.ndarray]:
    """Metastore audit records (`get_table` calls: metadata, never reads), sorted by time."""
    rng = np.random.default_rng([w.p.seed, 3])
    obj = w.hot(rng, w.perm["all"], n)
    who = np.floor(rng.random(n) * w.p.principals).astype(np.int64)
    who = np.where(rng.random(n) < 0.3, -3, who)
    ms = w.times(rng, n, in_window=0.1)
    order = np.argsort(ms, kind="stable")
    return {
        "ms": ms[order],
        "obj": obj[order],
        "who": who[order],
        "old_layout": (rng.random(n) < 0.1)[order],
        "thread": rng.integers(1, 200, n)[order],
    }


def trino_records(w: World, n: int) -> dict[str, np.ndarray]:
    """Trino query-completed records (one input table each), sorted by time."""
    rng = np.random.default_rng([w.p.seed, 4])
    kind = split(rng, n, TRINO_MIX)
    obj = w.hot(rng, w.perm["all"], n)
    who = w.member(rng, w.owner[w.db[obj]])
    ms = w.times(rng, n)
    sel = kind == T_PUBLIC
    obj[sel] = w.hot(rng, w.public_objs, int(sel.sum()))
    sel = kind == T_STRANGER  # only inside the window: outside it the query fails to plan
    obj[sel] = w.hot(rng, w.perm["exposed"], int(sel.sum()))
    who[sel] = w.stranger(rng, obj[sel])
    ms[sel] = w.w0 + np.floor(rng.random(int(sel.sum())) * (w.w1 - w.w0)).astype(np.int64)
    order = np.argsort(ms, kind="stable")
    return {
        "ms": ms[order],
        "kind": kind[order],
        "obj": obj[order],
        "who": who[order],
        "strings": (rng.random(n) < 0.3)[order],
        "count": np.ones(n, np.int64),
    }


# ---------------------------------------------------------------------------------------------
# Rendering: DuckDB turns Arrow slices of the records into the exact text of each format.
# The kind codes in the SQL are those above (CRAWL=0 ... ETL=6; ON_BEHALF=0 ... ETL_CREATE=4).

RANGER_SQL = """
SELECT json_object(
    'repoType', 3, 'repo', 'cm_hive', 'reqUser', usr,
    'evtTime', strftime(epoch_ms(ms + $offset), '%Y-%m-%d %H:%M:%S.%g'),
    'access', access, 'resource', resource, 'resType', restype, 'action', lower(access),
    'result', result, 'agent', 'hiveServer2', 'policy', policy, 'enforcer', 'ranger-acl',
    'sess', substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-'
        || substr(h, 17, 4) || '-' || substr(h, 21, 12),
    'cliType', 'HIVESERVER2', 'cliIP', '10.20.' || (ip // 250) || '.' || (ip % 250 + 2),
    'reqData', stmt, 'agentHost', 'hs2-0' || (host + 1) || '.corp.example.com',
    'logType', 'RangerAudit', 'id', handler || '-0', 'seq_num', 1,
    'event_count', cnt, 'event_dur_ms', CASE WHEN cnt > 1 THEN cnt * 37 ELSE 0 END,
    'tags', '[]'::JSON,
    'additional_info', '{"remote-ip-address":null, "forwarded-ip-addresses":[]}',
    'cluster_name', 'cm', 'policy_version', CASE WHEN policy = 9 THEN 1 ELSE 14 END
)::VARCHAR || chr(10) AS line
FROM (
    SELECT ms, result, policy, ip, host, seq, cnt,
        CASE WHEN realm THEN name || '@CORP.EXAMPLE.COM' ELSE name END AS usr,
        CASE WHEN kind = 6 THEN 'UPDATE' ELSE 'SELECT' END AS access,
        replace(obj, '.', '/') || CASE WHEN cols THEN '/user_id,event_time' ELSE '' END
            AS resource,
        CASE WHEN cols THEN '@column' ELSE '@table' END AS restype,
        CASE kind
            WHEN 0 THEN 'SELECT * FROM ' || obj || ' LIMIT 100'
            WHEN 5 THEN 'DESCRIBE FORMATTED ' || obj
            WHEN 6 THEN 'INSERT OVERWRITE TABLE ' || obj || ' PARTITION (ds=''' || $date
                || ''') SELECT * FROM ' || obj || '_staging'
            ELSE CASE WHEN cols
                THEN 'SELECT user_id, event_time FROM ' || obj || ' WHERE ds = ''' || $date || ''''
                WHEN tmpl = 0
                THEN 'SELECT * FROM ' || obj || ' WHERE ds = ''' || $date || ''' LIMIT ' || lim
                ELSE 'SELECT count(*) FROM ' || obj || ' WHERE ds >= ''' || $date || '''' END
        END AS stmt,
        md5(name || strftime(epoch_ms(ms + $offset), '%Y-%m-%d')) AS h,
        substr(u, 1, 8) || '-' || substr(u, 9, 4) || '-4' || substr(u, 14, 3) || '-8'
            || substr(u, 18, 3) || '-' || substr(u, 21, 12) AS handler
    FROM (SELECT *, md5('ranger-' || $seed || '-' || seq) AS u FROM src)
)
"""

HDFS_SQL = """
SELECT strftime(epoch_ms(ms + $offset), '%Y-%m-%d %H:%M:%S,%g')
    || ' INFO FSNamesystem.audit: allowed=' || CASE WHEN allowed THEN 'true' ELSE 'false' END
    || chr(9) || 'ugi=' || CASE
        WHEN kind = 0 THEN 'hive/hs2-01.corp.example.com@CORP.EXAMPLE.COM (auth:KERBEROS)'
        WHEN proxy THEN name || ' (auth:PROXY) via hue/hue-01.corp.example.com@CORP.EXAMPLE.COM'
            || ' (auth:KERBEROS)'
        ELSE name || '@CORP.EXAMPLE.COM (auth:KERBEROS)' END
    || chr(9) || 'ip=/10.30.' || ip || '.7'
    || chr(9) || 'cmd=' || CASE kind WHEN 3 THEN 'listStatus' WHEN 4 THEN 'create' ELSE 'open' END
    || chr(9) || 'src=' || $warehouse || '/' || replace(obj, '.', '.db/')
        || CASE WHEN kind = 3 THEN '' ELSE '/ds=' || $date || '/00000' || part || '_0' END
    || chr(9) || 'dst=null' || chr(9) || 'perm='
        || CASE WHEN kind = 4 THEN 'svc_etl:hadoop:rw-r-----' ELSE 'null' END
    || chr(9) || 'proto=rpc' || chr(9) || 'callerContext=' || CASE
        WHEN kind = 0 THEN 'HIVE_QUERY_ID:hive_' || strftime(epoch_ms(ms), '%Y%m%d%H%M%S') || '_'
            || seq
        WHEN proxy THEN 'HUE' ELSE 'CLI' END
    || chr(10) AS line
FROM src
"""

METASTORE_SQL = """
SELECT CASE WHEN old_layout
    THEN strftime(epoch_ms(ms + $offset), '%y/%m/%d %H:%M:%S')
        || ' INFO HiveMetaStore.audit: ugi=' || name || chr(9) || 'ip=' || addr || chr(9)
        || 'cmd=get_table : db=' || split_part(obj, '.', 1) || ' tbl=' || split_part(obj, '.', 2)
        || chr(9)
    ELSE strftime(epoch_ms(ms + $offset), '%Y-%m-%dT%H:%M:%S,%g')
        || '  INFO [pool-6-thread-' || thread || '] HiveMetaStore.audit: ugi=' || name || chr(9)
        || 'ip=' || addr || chr(9) || 'cmd=get_table : tbl=hive.' || obj || chr(9)
    END || chr(10) AS line
FROM (SELECT *, CASE WHEN name = 'hive' THEN '10.20.3.30' ELSE '10.20.' || ip || '.11' END AS addr
    FROM src)
"""

TRINO_SQL = """
SELECT json_object(
    'metadata', json_object(
        'queryId', qid, 'transactionId', md5(qid), 'query', stmt, 'queryState', 'FINISHED',
        'uri', 'http://trino-coordinator.corp.example.com:8080/v1/query/' || qid,
        'tables', '[]'::JSON, 'routines', '[]'::JSON),
    'statistics', json_object('cpuTime', (cost % 97) / 10.0, 'wallTime', (cost % 13) + 1.0,
        'totalRows', cost),
    'context', json_object('user', name, 'principal', name || '@CORP.EXAMPLE.COM',
        'remoteClientAddress', '10.50.' || (ip // 250) || '.' || (ip % 250 + 2),
        'source', 'trino-cli', 'catalog', 'hive', 'schema', split_part(obj, '.', 1),
        'serverVersion', '435', 'environment', 'production'),
    'ioMetadata', json_object(
        'inputs', json_array(json_object('catalogName', 'hive', 'schema', split_part(obj, '.', 1),
            'table', split_part(obj, '.', 2),
            'columns', CASE WHEN strings THEN '["user_id","event_time"]'::JSON
                ELSE '[{"column":"user_id"},{"column":"event_time"}]'::JSON END,
            'physicalInputBytes', cost * 64, 'physicalInputRows', cost)),
        'output', NULL),
    'warnings', '[]'::JSON,
    'createTime', strftime(epoch_ms(ms), '%Y-%m-%dT%H:%M:%S.%gZ'),
    'executionStartTime', strftime(epoch_ms(ms + 120), '%Y-%m-%dT%H:%M:%S.%gZ'),
    'endTime', strftime(epoch_ms(ms + 120 + (cost % 13) * 1000), '%Y-%m-%dT%H:%M:%S.%gZ')
)::VARCHAR || chr(10) AS line
FROM (
    SELECT *, cast(seq * 7919 % 100000 AS BIGINT) AS cost,
        strftime(epoch_ms(ms), '%Y%m%d_%H%M%S') || '_' || lpad((seq % 100000)::VARCHAR, 5, '0')
            || '_' || chr(97 + (seq // 100000 % 26)::INT) || chr(97 + (seq // 2600000 % 26)::INT)
            || 'xq' || chr(97 + (seq % 26)::INT) AS qid,
        'SELECT user_id, event_time FROM hive.' || obj || ' LIMIT 500' AS stmt
    FROM src
)
"""


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that keeps the row order of what it reads (rows are never sorted
    here: they arrive in time order and leave in the same order)."""
    con = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
    con.sql("SET TimeZone = 'UTC'")
    return con


def string_bytes(array: pa.Array) -> memoryview:
    """The concatenated values of a string array, straight from its data buffer."""
    if pa.types.is_string(array.type):
        width = np.int32
    else:
        array = array.cast(pa.large_string())
        width = np.int64
    offsets = np.frombuffer(array.buffers()[1], dtype=width)
    first, last = offsets[array.offset], offsets[array.offset + len(array)]
    return memoryview(array.buffers()[2])[first:last]


class Renderer:
    """Renders record slices of one format as lines, with the case's parameters bound."""

    def __init__(self, w: World, sql: str, columns) -> None:
        self.w, self.sql, self.columns = w, sql, columns
        self.con = connect()
        names = list(w.people) + ["svc_crawler", "svc_etl", "hive"]
        self.principals = pa.array(names, pa.string())
        self.objects = pa.array(w.names.tolist(), pa.string())
        date = (START - timedelta(days=1)).strftime("%Y-%m-%d")
        self.params = {
            "offset": w.offset_ms,
            "date": date,
            "warehouse": WAREHOUSE,
            "seed": str(w.p.seed),
        }

    def lines(self, records: dict[str, np.ndarray], lo: int, hi: int) -> Iterator[memoryview]:
        """Blocks of whole lines for records `lo:hi`, in record order."""
        step = 500_000
        for start in range(lo, hi, step):
            src = self.columns(self, records, start, min(hi, start + step))
            self.con.register("src", src)
            params = {k: v for k, v in self.params.items() if f"${k}" in self.sql}
            reader = self.con.sql(self.sql, params=params).to_arrow_reader(100_000)
            for batch in reader:
                yield string_bytes(batch.column(0))
            self.con.unregister("src")

    def name(self, who: np.ndarray) -> pa.Array:
        """Short principal names: people by index, services by negative code."""
        index = np.where(who >= 0, who, self.w.p.principals - who - 1)
        return self.principals.take(pa.array(index))

    def obj(self, obj: np.ndarray) -> pa.Array:
        """Object names `db.name` by object id."""
        return self.objects.take(pa.array(obj))


def ranger_columns(r: Renderer, rec: dict[str, np.ndarray], lo: int, hi: int) -> pa.Table:
    """The columns RANGER_SQL renders, for records `lo:hi`."""
    w, s = r.w, slice(lo, hi)
    kind, obj, who, allowed = rec["kind"][s], rec["obj"][s], rec["who"][s], rec["allowed"][s]
    policy = np.select(
        [~allowed, kind == CRAWL, kind == ETL, kind == PUBLIC, np.isin(kind, (STRANGER, DESCRIBE))],
        [-1, CRAWLER_POLICY, ETL_POLICY, PUBLIC_POLICY, EXPOSURE_POLICY],
        TEAM_POLICY_BASE + w.owner[w.db[obj]],
    )
    seq = np.arange(lo, hi, dtype=np.int64)
    return pa.table(
        {
            "ms": rec["ms"][s],
            "kind": kind.astype(np.int8),
            "name": r.name(who),
            "realm": (who >= 0) & (seq % 17 == 0),
            "obj": r.obj(obj),
            "cols": rec["columns"][s],
            "tmpl": rec["template"][s].astype(np.int8),
            "lim": rec["limit"][s].astype(np.int32),
            "result": allowed.astype(np.int8),
            "policy": policy.astype(np.int32),
            "ip": (who % 50_000).astype(np.int32),
            "host": rec["host"][s].astype(np.int8),
            "seq": seq,
            "cnt": rec["count"][s].astype(np.int32),
        }
    )


def hdfs_columns(r: Renderer, rec: dict[str, np.ndarray], lo: int, hi: int) -> pa.Table:
    """The columns HDFS_SQL renders, for records `lo:hi`."""
    s = slice(lo, hi)
    kind, who = rec["kind"][s], rec["who"][s]
    return pa.table(
        {
            "ms": rec["ms"][s],
            "kind": kind.astype(np.int8),
            "name": r.name(who),
            "proxy": rec["proxy"][s] & np.isin(kind, (USER_OPEN, STRANGER_OPEN)),
            "allowed": rec["allowed"][s],
            "ip": (who % 200).astype(np.int32),
            "obj": r.obj(rec["obj"][s]),
            "part": rec["part"][s].astype(np.int8),
            "seq": np.arange(lo, hi, dtype=np.int64),
        }
    )


def metastore_columns(r: Renderer, rec: dict[str, np.ndarray], lo: int, hi: int) -> pa.Table:
    """The columns METASTORE_SQL renders, for records `lo:hi`."""
    s = slice(lo, hi)
    return pa.table(
        {
            "ms": rec["ms"][s],
            "name": r.name(rec["who"][s]),
            "ip": (rec["who"][s] % 200).astype(np.int32),
            "obj": r.obj(rec["obj"][s]),
            "old_layout": rec["old_layout"][s],
            "thread": rec["thread"][s].astype(np.int16),
        }
    )


def trino_columns(r: Renderer, rec: dict[str, np.ndarray], lo: int, hi: int) -> pa.Table:
    """The columns TRINO_SQL renders, for records `lo:hi`."""
    s = slice(lo, hi)
    return pa.table(
        {
            "ms": rec["ms"][s],
            "name": r.name(rec["who"][s]),
            "ip": (rec["who"][s] % 50_000).astype(np.int32),
            "obj": r.obj(rec["obj"][s]),
            "strings": rec["strings"][s],
            "seq": np.arange(lo, hi, dtype=np.int64),
        }
    )


# ---------------------------------------------------------------------------------------------
# Files.


@dataclass
class Written:
    """What went into one log file: lines, records, replayed duplicates, corrupt lines."""

    path: str
    lines: int = 0
    records: int = 0
    duplicates: int = 0
    corrupt: int = 0


class LogFile:
    """One log file being written (gzip without name or timestamp, so byte-identical)."""

    def __init__(self, root: Path, rel: str) -> None:
        self.info = Written(rel)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.raw = open(path, "wb")
        self.out: BinaryIO = (
            gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=1)
            if rel.endswith(".gz")
            else self.raw
        )
        self.last = b""

    def blocks(self, blocks: Iterator[memoryview], kind: str = "records") -> None:
        """Append rendered lines, counted as records or as replayed duplicates."""
        for block in blocks:
            self.out.write(block)
            n = _count_lines(block)
            self.info.lines += n
            setattr(self.info, kind, getattr(self.info, kind) + n)
            if len(block):
                self.last = _last_line(block)

    def corrupt(self, data: bytes, corrupt_lines: list[tuple[str, int, str]], what: str) -> None:
        """Append one deliberately broken line and note its number and why it is broken."""
        self.out.write(data)
        self.info.lines += 1
        self.info.corrupt += 1
        corrupt_lines.append((self.info.path, self.info.lines, what))

    def close(self) -> Written:
        """Finish the file (and its gzip stream); returns what went into it."""
        if self.out is not self.raw:
            self.out.close()
        self.raw.close()
        return self.info


def _count_lines(block: memoryview) -> int:
    """Newlines in a block, counted without copying it into Python objects."""
    return int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == 10))


def _last_line(block: memoryview) -> bytes:
    """The last whole line of a block (the crash and cut-short lines copy its start)."""
    data = bytes(block[-4096:])
    return data[data.rfind(b"\n", 0, len(data) - 1) + 1 :]


def local_stamp(w: World, ms: int, fmt: str) -> str:
    """A UTC instant as a server in the case timezone writes it."""
    moment = datetime.fromtimestamp((ms + w.offset_ms) / 1000, timezone.utc)
    return moment.strftime(fmt)


def write_logs(w: World, root: Path) -> tuple[list[Written], list[tuple[str, int, str]], dict]:
    """Every log file of the incident; returns per-file counts, corrupt lines and records."""
    n = w.p.events
    shares = np.floor(np.array(FORMAT_MIX) * n).astype(np.int64)
    shares[0] += n - shares.sum()
    records = {
        "ranger": lose_hour(w, ranger_records(w, int(shares[0]))),
        "hdfs": hdfs_records(w, int(shares[1])),
        "metastore": metastore_records(w, int(shares[2])),
        "trino": trino_records(w, int(shares[3])),
    }
    written: list[Written] = []
    corrupt: list[tuple[str, int, str]] = []

    rec = records["ranger"]
    r = Renderer(w, RANGER_SQL, ranger_columns)
    bounds = np.linspace(0, len(rec["ms"]), w.p.ranger_files + 1).astype(np.int64)
    for k in range(w.p.ranger_files):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        stamp = local_stamp(w, int(rec["ms"][lo]), "%Y%m%d-%H%M")
        suffix = ".log.gz" if k == 0 else ".log"
        f = LogFile(root, f"logs/ranger/hive_ranger_audit.{stamp}.{k:02d}{suffix}")
        if k > 0:  # the plugin re-sends what it was not sure it had delivered
            replay = max(1, (hi - lo) // 1000)
            f.blocks(r.lines(rec, lo - replay, lo), kind="duplicates")
        if k == 1:
            f.corrupt(b'{"repoType":3,"repo":"cm_hive","reqUser":"\xff\xfe\xfd"}\n', corrupt,
                      "invalid UTF-8")  # fmt: skip
        f.blocks(r.lines(rec, lo, hi))
        if k == w.p.ranger_files - 1:  # the writer crashed in the middle of a line
            f.corrupt(f.last[:150], corrupt, "line cut short")
        written.append(f.close())

    rec = records["hdfs"]
    r = Renderer(w, HDFS_SQL, hdfs_columns)
    half = len(rec["ms"]) // 2
    f = LogFile(root, "logs/hdfs/hdfs-audit.log.1")
    f.blocks(r.lines(rec, 0, half))
    written.append(f.close())
    f = LogFile(root, "logs/hdfs/hdfs-audit.log")
    stamp = local_stamp(w, int(rec["ms"][half]), "%Y-%m-%d %H:%M:%S,000")
    f.corrupt(f"{stamp} INFO ipc.Server: IPC Server handler 3 on 8020, call Call#118 Retry#0 "
              "org.apache.hadoop.hdfs.protocol.ClientProtocol.getBlockLocations\n".encode(),
              corrupt, "another logger's line")  # fmt: skip
    f.blocks(r.lines(rec, half, len(rec["ms"])))
    written.append(f.close())

    rec = records["metastore"]
    r = Renderer(w, METASTORE_SQL, metastore_columns)
    f = LogFile(root, "logs/metastore/hivemetastore-audit.log")
    f.blocks(r.lines(rec, 0, len(rec["ms"])))
    stamp = local_stamp(w, int(rec["ms"][-1]), "%Y-%m-%dT%H:%M:%S,999")
    f.corrupt(f"{stamp}  INFO [pool-6-thread-7] HiveMetaStore.audit: ugi=\n".encode(), corrupt,
              "no user")  # fmt: skip
    written.append(f.close())

    rec = records["trino"]
    r = Renderer(w, TRINO_SQL, trino_columns)
    days = np.searchsorted(rec["ms"], w.t0 + DAY_MS * np.arange(w.p.days + 1))
    for d in range(w.p.days):
        lo, hi = int(days[d]), int(days[d + 1])
        day = datetime.fromtimestamp((w.t0 + d * DAY_MS) / 1000, timezone.utc)
        f = LogFile(root, f"logs/trino/query-completed.{day:%Y-%m-%d}.json")
        f.blocks(r.lines(rec, lo, hi))
        if d == w.p.days - 1:  # the listener died while writing its last event
            f.corrupt(f.last[:120] + b"\n", corrupt, "line cut short")
        written.append(f.close())
    return written, corrupt, records


# ---------------------------------------------------------------------------------------------
# Case folder: case file, policies, directory, catalog.


def write_csv(path: Path, header: list[str], rows) -> None:
    """A CSV file as the catalog and evidence use them: RFC 4180, `\\n` line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)


def iso(ms: int) -> str:
    """UTC `YYYY-MM-DDTHH:MM:SS.fffZ`, as the evidence writes times."""
    moment = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def write_case(w: World, root: Path) -> None:
    """The case file, naming every input of the incident."""
    at = [iso(w.t0 - 15 * DAY_MS), iso(w.w0), iso(w.w1)]
    text = f"""\
# A synthetic incident written by benchmarks/synth.py ({json.dumps(asdict(w.p))})
case: synth-{w.p.seed}
timezone: {TIMEZONE}
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
  - {{format: ranger-audit, path: "logs/ranger/*.log*"}}
  - {{format: hdfs-audit, path: "logs/hdfs/hdfs-audit.log*"}}
  - {{format: metastore-audit, path: "logs/metastore/*.log"}}
  - {{format: trino-event, path: "logs/trino/*.json"}}
"""
    (root / "case.yaml").write_text(text, encoding="utf-8")


def policy(pid: int, name: str, databases: list[str], items: list[dict]) -> dict:
    """A Ranger Admin Hive access policy as an export writes it (database-level)."""
    return {
        "id": pid,
        "guid": f"{pid:08x}-5a1e-4c7d-9f00-{pid:012x}",
        "isEnabled": True,
        "version": 1,
        "service": "cm_hive",
        "name": name,
        "policyType": 0,
        "policyPriority": 0,
        "description": "",
        "isAuditEnabled": True,
        "resources": {
            "database": {"values": databases, "isExcludes": False, "isRecursive": False},
            "table": {"values": ["*"], "isExcludes": False, "isRecursive": False},
            "column": {"values": ["*"], "isExcludes": False, "isRecursive": False},
        },
        "policyItems": items,
        "denyPolicyItems": [],
        "allowExceptions": [],
        "denyExceptions": [],
        "dataMaskPolicyItems": [],
        "rowFilterPolicyItems": [],
        "serviceType": "hive",
        "options": {},
        "validitySchedules": [],
        "policyLabels": [],
        "zoneName": "",
        "isDenyAllElse": False,
    }


def item(accesses: list[str], users: list[str] = (), groups: list[str] = ()) -> dict:
    """One allow item of a Ranger policy."""
    return {
        "accesses": [{"type": a, "isAllowed": True} for a in accesses],
        "users": list(users),
        "groups": list(groups),
        "roles": [],
        "conditions": [],
        "delegateAdmin": False,
    }


def write_policies(w: World, root: Path) -> None:
    """Baseline (team grants per database, shared databases for `public`, the crawler and
    ETL), the change that opens `pii_*` to `public`, and the export that closes it."""
    shared = [w.db_names[d] for d in np.flatnonzero(w.db_public)]
    base = [
        policy(CRAWLER_POLICY, "catalog crawler", ["*"], [item(["select"], users=["svc_crawler"])]),
        policy(PUBLIC_POLICY, "shared data", shared, [item(["select"], groups=["public"])]),
        policy(
            ETL_POLICY,
            "etl writes dw",
            ["dw_*"],
            [item(["select", "update", "create"], users=["svc_etl"])],
        ),  # fmt: skip
    ]
    for team in range(w.n_teams):
        dbs = [w.db_names[d] for d in np.flatnonzero(w.owner == team)]
        if dbs:
            base.append(
                policy(
                    TEAM_POLICY_BASE + team,
                    f"team {team:04d}",
                    dbs,
                    [item(["select"], groups=[f"team_{team:04d}"])],
                )  # fmt: skip
            )
    opening = policy(EXPOSURE_POLICY, "pii readers (ticket DATA-7731)", ["pii_*"],
                     [item(["select"], groups=["public"])])  # fmt: skip
    meta = {"Host name": "ranger-admin.corp.example.com", "Ranger apache version": "2.4.0"}
    at = [w.t0 - 15 * DAY_MS, w.w0, w.w1]
    snapshots = (("baseline.json", base), ("change-1.json", [*base, opening]),
                 ("change-2.json", base))  # fmt: skip
    for (name, policies), when in zip(snapshots, at, strict=True):
        stamp = datetime.fromtimestamp(when / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        export = {"metaDataInfo": {**meta, "Export time": stamp}, "policies": policies}
        path = root / "policies" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(export, indent=1) + "\n", encoding="utf-8")


def write_directory(w: World, root: Path) -> None:
    """Groups (a team and `employees` per person; services) and people (kind, org)."""
    teams = np.arange(w.p.principals) % w.n_teams
    people = w.people.tolist()
    services = [
        ("svc_crawler", ["svc"]),
        ("svc_etl", ["etl", "svc"]),
        ("hive", ["hadoop"]),
        ("hue", ["hadoop"]),
        ("trino", ["hadoop"]),
    ]
    groups = [row for p, t in zip(people, teams.tolist(), strict=True) for row in
              ((p, "employees"), (p, f"team_{t:04d}"))]  # fmt: skip
    groups += [(s, g) for s, gs in services for g in gs]
    write_csv(root / "directory" / "groups.csv", ["principal", "group"], groups)
    rows = [(p, "human", f"team_{t:04d}") for p, t in zip(people, teams.tolist(), strict=True)]
    rows += [(s, "service", "platform") for s, _ in services]
    write_csv(root / "directory" / "people.csv", ["principal", "kind", "org"], rows)


def write_catalog(w: World, root: Path) -> None:
    """Objects with their storage locations, view definitions, sensitivity of `pii_*`."""
    names = w.names.tolist()
    views = w.is_view.tolist()
    write_csv(
        root / "catalog" / "tables.csv",
        ["object", "type", "location"],
        (
            (n, "view", "") if v else (n, "table", f"{NAMENODE}{w.location(i)}")
            for i, (n, v) in enumerate(zip(names, views, strict=True))
        ),
    )
    write_csv(
        root / "catalog" / "views.csv",
        ["object", "definition"],
        (
            (names[i], f"SELECT * FROM {names[i - 1].split('.')[1]} WHERE ds >= '2026-01-01'")
            for i in np.flatnonzero(w.is_view).tolist()
        ),
    )
    write_csv(
        root / "catalog" / "sensitivity.csv",
        ["object", "column", "category"],
        ((names[i], "*", category(w, i)) for i in range(w.p.exposed) if not views[i]),
    )


def category(w: World, obj: int) -> str:
    """The sensitivity category of an object (one per `pii_*` database, in turn)."""
    return CATEGORIES[int(w.db[obj]) % len(CATEGORIES)]


# ---------------------------------------------------------------------------------------------
# The planted answer.

TRUTH_SQL = """
SELECT who, target, min(ms) AS first_ms, max(ms) AS last_ms, sum(cnt) AS read_events,
    string_agg(DISTINCT via, ';' ORDER BY via) AS via,
    string_agg(DISTINCT engine, ';' ORDER BY engine) AS engines
FROM reads
GROUP BY who, target
"""


def planted_reads(w: World, records: dict[str, dict[str, np.ndarray]]) -> pa.Table:
    """Every exposure-enabled read the generator planted, one row per (record, object):
    strangers' allowed Hive and Trino reads of `pii_*` objects (a view also reads its base
    table) and their allowed HDFS opens. Replayed lines are not records, so not here."""
    objects = pa.array(w.names.tolist(), pa.string())
    parts = []

    def add(sel: np.ndarray, rec: dict[str, np.ndarray], via: str, engine: str) -> None:
        obj, n = rec["obj"][sel], int(sel.sum())
        common = {"who": rec["who"][sel], "ms": rec["ms"][sel], "cnt": rec["count"][sel]}
        parts.append(
            pa.table(
                {
                    **common,
                    "target": obj,
                    "via": pa.array([via] * n, pa.string()),
                    "engine": pa.array([engine] * n, pa.string()),
                }
            )  # fmt: skip
        )
        if via == "path":
            return
        view = w.is_view[obj]
        views = objects.take(pa.array(obj[view]))
        parts.append(
            pa.table(
                {
                    **{k: v[view] for k, v in common.items()},
                    "target": w.base[obj[view]],
                    "via": pa.array(["view:" + v for v in views.to_pylist()], pa.string()),
                    "engine": pa.array([engine] * int(view.sum()), pa.string()),
                }
            )
        )

    r, h, t = records["ranger"], records["hdfs"], records["trino"]
    add((r["kind"] == STRANGER) & r["allowed"], r, "direct", "hive")
    add((h["kind"] == STRANGER_OPEN) & h["allowed"], h, "path", "hdfs")
    add(t["kind"] == T_STRANGER, t, "trino", "trino")
    return pa.concat_tables(parts)


def write_truth(w: World, root: Path, reads: pa.Table) -> int:
    """`expected/exposure_enabled_reads.csv` in the evidence contract's columns."""
    con = connect()
    con.register("reads", reads)
    rows = con.sql(TRUTH_SQL).fetchall()
    con.close()
    people = w.people
    out = sorted(
        (
            str(people[who]),
            str(w.names[target]),
            iso(first),
            iso(last),
            int(events),
            via,
            engines,
            category(w, int(w.base[target])),
        )
        for who, target, first, last, events, via, engines in rows
    )
    header = ["principal", "object", "first_read", "last_read", "read_events", "via", "engines",
              "sensitivity"]  # fmt: skip
    write_csv(root / "expected" / "exposure_enabled_reads.csv", header, out)
    return len(out)


def generate(p: Params, root: Path) -> dict:
    """Write the whole case folder; returns the summary also written to expected/."""
    p.check()
    prepare(root)
    w = World(p)
    write_case(w, root)
    write_policies(w, root)
    write_directory(w, root)
    write_catalog(w, root)
    written, corrupt, records = write_logs(w, root)
    reads = planted_reads(w, records)
    rows = write_truth(w, root, reads)
    write_csv(root / "expected" / "corrupt_lines.csv", ["source_file", "source_line", "what"],
              sorted(corrupt))  # fmt: skip
    summary = {
        "params": asdict(p),
        "timezone": TIMEZONE,
        "window": [iso(w.w0), iso(w.w1)],
        "records": {k: len(v["ms"]) for k, v in records.items()},
        "events": p.events,
        "lines": sum(f.lines for f in written),
        "duplicates": sum(f.duplicates for f in written),
        "corrupt": len(corrupt),
        "exposure_enabled": {
            "rows": rows,
            "read_events": int(pa.compute.sum(reads["cnt"]).as_py()),
        },
        "files": [asdict(f) for f in written],
    }
    span = lost_span(w)
    if span is not None:
        summary["lost"] = {
            "source": f"hs2-0{LOST_HOST + 1}.corp.example.com",
            "start": iso(span[0]),
            "end": iso(span[1]),
        }
    (root / "expected" / "summary.json").write_text(
        json.dumps(summary, indent=1) + "\n", encoding="utf-8"
    )
    return summary


def prepare(root: Path) -> None:
    """An empty folder, or one this script wrote before (its generated parts are removed)."""
    case = root / "case.yaml"
    if root.exists() and any(root.iterdir()):
        if not case.is_file() or not case.read_text(encoding="utf-8").startswith(
            "# A synthetic incident"
        ):
            raise SystemExit(f"{root}: not empty and not a synthetic incident; give a new folder")
        for sub in ("logs", "policies", "directory", "catalog", "expected"):
            shutil.rmtree(root / sub, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    """The command line: every `Params` field is an option."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    defaults = Params()
    for field in ("events", "seed", "tables", "exposed", "principals", "days", "window_hours",
                  "tables_per_db", "ranger_files", "lost_hour"):  # fmt: skip
        parser.add_argument(
            f"--{field.replace('_', '-')}", type=int, default=getattr(defaults, field)
        )
    args = vars(parser.parse_args(argv))
    root = args.pop("outdir")
    summary = generate(Params(**args), root)
    planted = summary["exposure_enabled"]["rows"]
    print(
        f"wrote {root}: {summary['lines']:,} lines in {len(summary['files'])} log files, "
        f"{planted:,} planted exposure-enabled (principal, object) pairs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
