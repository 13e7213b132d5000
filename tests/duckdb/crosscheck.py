#!/usr/bin/env python3
"""DuckDB reads the lake noisefloor wrote and must compute the same numbers as `report`.

Usage: crosscheck.py NOISEFLOOR NOISEFLOOR_SYNTH WORKDIR

1. noisefloor-synth writes the synthetic three-sensor, fourteen-month inputs (and truth.json);
2. noisefloor ingests them (one sensor at a time) and writes `report --format json`;
3. DuckDB (PyPI duckdb) reads the Parquet files with hive partitioning and computes the
   top-N keys, GRE per day (packets, distinct sources) and per-sensor monthly totals, both
   with its own SQL and by running the report's SQL files from crates/report/sql unchanged.
Every number must equal the report's and the generator's ground truth.
"""
import json, pathlib, subprocess, sys

import duckdb

nf, synth, work = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
repo = pathlib.Path(__file__).resolve().parents[2]
inputs = work / "inputs"
lake = work / "lake"
subprocess.run([synth, "--lake-inputs", str(inputs)], check=True)
config = inputs / "noisefloor.toml"
for sensor in ["tokyo", "osaka", "frankfurt"]:
    files = sorted(str(p) for p in inputs.glob(f"{sensor}-*.pcap"))
    subprocess.run([nf, "ingest", *files, "--sensor", sensor, "--config", str(config),
                    "--lake", str(lake)], check=True, stdout=subprocess.DEVNULL)
report = json.loads(subprocess.run([nf, "report", "--config", str(config), "--lake", str(lake),
                                    "--format", "json", "--top", "15"],
                                   check=True, capture_output=True, text=True).stdout)
truth = json.loads((inputs / "truth.json").read_text())

con = duckdb.connect()
con.execute(f"""CREATE VIEW events AS SELECT * FROM read_parquet(
    '{lake}/sensor=*/date=*/*.parquet', hive_partitioning = true)""")
# The report's queries read the rollup's shape; over raw events that is the events with
# src as the source "set" and count_sources as a distinct count (crates/report/sql/README.md).
con.execute("CREATE VIEW scope AS SELECT *, src AS src_v4, NULL AS src_v6, 1 AS row_count FROM events")
con.execute("CREATE VIEW history AS SELECT * FROM scope")
con.execute("CREATE MACRO count_sources(a, b) AS COUNT(DISTINCT a)")
# The rollup files are plain Parquet under _rollup/ with the same hive partitions.
con.execute(f"""CREATE VIEW rollup AS SELECT * FROM read_parquet(
    '{lake}/_rollup/sensor=*/date=*/*.parquet', hive_partitioning = true)""")

# Types other engines rely on: microsecond UTC timestamps, signed integers.
types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE events)").fetchall())
assert types["ts"] == "TIMESTAMP WITH TIME ZONE", types["ts"]
assert types["proto"] == "SMALLINT" and types["packets"] == "BIGINT", types

total = con.execute("SELECT SUM(packets) FROM events").fetchone()[0]
assert total == report["summary"]["packets"] == sum(t["packets"] for t in truth), total
rollup = con.execute("""SELECT sensor, CAST(date AS VARCHAR), port_key, SUM(packets), SUM(row_count)
                        FROM rollup GROUP BY ALL ORDER BY ALL""").fetchall()
events = con.execute("""SELECT sensor, CAST(date AS VARCHAR), port_key, SUM(packets), COUNT(*)
                        FROM events GROUP BY ALL ORDER BY ALL""").fetchall()
assert rollup == events, (rollup[:3], events[:3])

# Top-N keys with DuckDB's own SQL.
top = con.execute("""SELECT port_key, SUM(packets) AS p, COUNT(DISTINCT src) AS s FROM events
                     GROUP BY port_key ORDER BY p DESC, port_key LIMIT 15""").fetchall()
got = [(r["key"], r["packets"], r["sources"]) for r in report["top_keys"]]
assert top == got, (top, got)

# GRE per day.
daily = con.execute("""SELECT CAST(date AS VARCHAR), SUM(packets), COUNT(DISTINCT src) FROM events
                       WHERE port_key = 'GRE' GROUP BY date ORDER BY date""").fetchall()
got = [(r["date"], r["packets"], r["sources"]) for r in report["key_daily"]]
assert daily == got, (daily[:5], got[:5])
want = {}
for t in truth:
    if t["key"] == "GRE":
        want[t["date"]] = want.get(t["date"], 0) + t["packets"]
assert {d: p for d, p, _ in daily} == want

# The report's own SQL files run unchanged in DuckDB.
def quote(v):
    return "'" + v.replace("'", "''") + "'"

def run_file(name, ranked=None, **params):
    q = (repo / "crates/report/sql" / f"{name}.sql").read_text()
    if ranked is not None:  # a list parameter: quoted literals, comma-separated
        q = q.replace(":ranked", ", ".join(quote(k) for k in ranked))
    for k, v in params.items():
        q = q.replace(f":{k}", quote(v))
    return con.execute(q).fetchall()

ranked = run_file("key_packets")[:15]
sources = dict(run_file("key_sources", ranked=[k for k, _ in ranked]))
assert [(k, p, sources[k]) for k, p in ranked] == [(r["key"], r["packets"], r["sources"]) for r in report["top_keys"]]
rows = run_file("key_daily", key="GRE")
assert [(str(d), p, s) for d, p, s in rows] == [(r["date"], r["packets"], r["sources"]) for r in report["key_daily"]]
rows = run_file("sources_by_as", key="GRE")
assert [(a, n, p, s) for a, n, p, s in rows] == [(r["asn"], r["as_name"], r["packets"], r["sources"]) for r in report["by_as"]]
rows = run_file("keys_by_sensor")
for s in report["per_sensor"]:
    mine = [(k, p) for sen, k, p in rows if sen == s["sensor"]][:10]
    assert mine == [(k["key"], k["packets"]) for k in s["keys"]], s["sensor"]
print(f"DuckDB cross-check passed: {total} packets, {len(top)} top keys, {len(daily)} GRE days, "
      f"{len(report['by_as'])} GRE networks")
