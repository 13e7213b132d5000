#!/usr/bin/env python3
"""Spark computes noisefloor's report over exactly the files of the lake's current Delta snapshot.

Usage: snapshot_report.py LAKE NOISEFLOOR_BINARY

Spark cannot load Delta's own jars on a machine without Maven access, so this script does the
Delta part itself: delta-rs lists the current snapshot (the files the log says are live, with
their partition values), and plain Spark reads exactly those Parquet files. It computes totals,
per-sensor numbers, the top 10 port keys and per-day GRE numbers, runs the same queries through
`noisefloor sql` (noisefloor's own engine over the same lake) and asserts every number is equal.

It then shows why the snapshot listing matters: in a copy of the lake under /tmp it drops a stray
Parquet file (a committed file copied under a new name) into a partition directory. The snapshot
listing does not count it; a plain `spark.read.parquet(LAKE)` with hive discovery does.

Needs: a Python with `deltalake` and `pyspark` (4.x) and a Java 17. See README.md beside this file.
Exits 0 when every check passes, 1 otherwise.
"""

import datetime as _dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from functools import reduce

PARTITION_COLUMNS = ("sensor", "date")

# The same SQL text runs in Spark (over a temp view `events`) and in `noisefloor sql` (table
# `events`). Every ORDER BY breaks ties on a key so both engines return the same 10 rows.
QUERIES = {
    "totals": "SELECT SUM(packets) AS packets, COUNT(*) AS n FROM events",
    "per_sensor": (
        "SELECT sensor, SUM(packets) AS packets, COUNT(*) AS n "
        "FROM events GROUP BY sensor ORDER BY sensor"
    ),
    "top_ports": (
        "SELECT port_key, SUM(packets) AS packets, COUNT(DISTINCT src) AS sources "
        "FROM events GROUP BY port_key ORDER BY packets DESC, port_key LIMIT 10"
    ),
    "gre_per_day": (
        "SELECT date, SUM(packets) AS packets, COUNT(DISTINCT src) AS sources "
        "FROM events WHERE proto = 47 GROUP BY date ORDER BY date"
    ),
    # Timestamps differ in how each engine turns them into numbers, so these two queries are
    # written per engine (see ts_span_* below); the results are compared as epoch microseconds.
}
TS_SPAN_SPARK = (
    "SELECT sensor, unix_micros(MIN(ts)) AS ts_min, unix_micros(MAX(ts)) AS ts_max "
    "FROM events GROUP BY sensor ORDER BY sensor"
)
TS_SPAN_NOISEFLOOR = (
    "SELECT sensor, MIN(ts) AS ts_min, MAX(ts) AS ts_max FROM events GROUP BY sensor ORDER BY sensor"
)


def fail(msg):
    print(f"snapshot_report: {msg}", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------------------------------------
# The snapshot, from delta-rs
# ---------------------------------------------------------------------------------------------


def uri_to_path(uri):
    """delta-rs gives file:// URIs (percent-encoded) for some versions and plain paths for others."""
    if uri.startswith("file://"):
        return urllib.parse.unquote(urllib.parse.urlparse(uri).path)
    if os.path.exists(uri):
        return uri
    return urllib.parse.unquote(uri)


def snapshot(lake):
    """The live files of the current snapshot: [(absolute path, {sensor:…, date:…}, num_records)].

    Paths come from DeltaTable.file_uris(); partition values and record counts from the log's add
    actions (get_add_actions). The two listings are cross-checked: same set of files.
    """
    import pyarrow as pa
    from deltalake import DeltaTable

    dt = DeltaTable(lake)
    parts = list(dt.metadata().partition_columns)
    if sorted(parts) != sorted(PARTITION_COLUMNS):
        fail(f"{lake}: partition columns {parts}, expected {list(PARTITION_COLUMNS)}")
    uris = {os.path.normpath(uri_to_path(u)) for u in dt.file_uris()}

    actions = pa.table(dt.get_add_actions(flatten=True))
    cols = ["path", "num_records"] + [f"partition.{c}" for c in PARTITION_COLUMNS]
    files = []
    for row in actions.select(cols).to_pylist():
        rel = row["path"]
        if rel.startswith("file://") or os.path.isabs(rel):
            path = uri_to_path(rel)
        else:
            # The log's paths are URI-encoded; delta-rs may or may not have decoded them.
            path = os.path.join(lake, rel)
            if not os.path.exists(path):
                path = os.path.join(lake, urllib.parse.unquote(rel))
        path = os.path.normpath(path)
        values = {c: row[f"partition.{c}"] for c in PARTITION_COLUMNS}
        files.append((path, values, row["num_records"]))
    listed = {f[0] for f in files}
    if listed != uris:
        fail(f"{lake}: file_uris() and get_add_actions() disagree: "
             f"{sorted(uris ^ listed)[:5]}")
    for path, _, _ in files:
        if not os.path.isfile(path):
            fail(f"{lake}: snapshot file missing on disk: {path}")
    data_schema = json.loads(dt.schema().to_json())
    return dt.version(), files, data_schema


# ---------------------------------------------------------------------------------------------
# Spark
# ---------------------------------------------------------------------------------------------


def start_spark():
    # The host name resolves to loopback on these machines; say so before the JVM starts.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("noisefloor-snapshot-report")
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # `ts` is TIMESTAMP_MICROS adjusted to UTC; make every rendering of it UTC as well.
        .config("spark.sql.session.timeZone", "UTC")
        # A few hundred thousand rows: 200 shuffle partitions would only cost time.
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


_GLOB_CHARS = re.compile(r"([\\\[\]{}*?])")


def hadoop_literal(path):
    """DataFrameReader.parquet() globs its arguments; escape glob characters in a real file name."""
    return _GLOB_CHARS.sub(r"\\\1", path)


def snapshot_dataframe(spark, files, data_schema):
    """One DataFrame over exactly the snapshot's files, with sensor/date from the Delta log.

    Why not `option("basePath", LAKE).parquet(*files)` and let Spark derive sensor/date from the
    hive directory names? It works on noisefloor's lakes today, but it takes the values from the
    path rather than from the log, which is what Delta defines as the partition value: Spark
    infers types (a date-looking directory becomes DATE, a sensor named `7` becomes INT unless
    partitionColumnTypeInference is switched off), unescapes directory names with Hive's rules
    rather than the writer's, and a file whose directory does not follow `sensor=…/date=…` would
    silently get NULLs or no column at all. Here the files are grouped by the partition values the
    log gives them, each group is read as plain Parquet (a list of files, so Spark discovers no
    partitions of its own) and the values are added as string literals, exactly as a Delta reader
    does. The cost is one union branch per (sensor, date) pair, which is small for a report.

    The data schema is the table schema from the log (Delta's schemaString is Spark's StructType
    JSON), minus the partition columns: every file is read with the same schema, and a file
    written before a column existed reads that column as NULL instead of failing a union.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    schema = StructType.fromJson({
        "type": "struct",
        "fields": [f for f in data_schema["fields"] if f["name"] not in PARTITION_COLUMNS],
    })
    groups = defaultdict(list)
    for path, values, _ in files:
        groups[tuple(values[c] for c in PARTITION_COLUMNS)].append(path)
    frames = []
    for key in sorted(groups):
        df = spark.read.schema(schema).parquet(*[hadoop_literal(p) for p in sorted(groups[key])])
        for col, value in zip(PARTITION_COLUMNS, key):
            if col in df.columns:
                fail(f"Spark found a column {col} in the files themselves")
            df = df.withColumn(col, F.lit(value).cast("string"))
        frames.append(df)
    if not frames:
        return spark.createDataFrame([], schema.add("sensor", "string").add("date", "string"))
    return reduce(lambda a, b: a.unionByName(b), frames)


def spark_rows(spark, sql):
    return [r.asDict() for r in spark.sql(sql).collect()]


# ---------------------------------------------------------------------------------------------
# noisefloor
# ---------------------------------------------------------------------------------------------


def noisefloor_rows(binary, lake, sql):
    out = subprocess.run(
        [binary, "sql", "--lake", lake, "--format", "json", sql],
        capture_output=True, text=True, timeout=120,
    )
    if out.returncode != 0:
        fail(f"noisefloor sql failed ({out.returncode}): {out.stderr.strip()}\nquery: {sql}")
    text = out.stdout.strip()
    return json.loads(text) if text else []


def iso_to_micros(value):
    """noisefloor's JSON renders timestamps as RFC 3339 in UTC ('…Z'); Spark gives epoch µs."""
    t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (t - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)) // _dt.timedelta(microseconds=1)


def normalise(rows):
    """Compare as plain Python values: ints as int, strings as str, NULL as None."""
    norm = []
    for r in rows:
        norm.append({k: (int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                     for k, v in r.items()})
    return norm


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def equal(self, name, got, want):
        if got == want:
            self.passed += 1
        else:
            self.failed += 1
            print(f"MISMATCH {name}:\n  spark:      {got}\n  noisefloor: {want}")


def on_disk_parquet(lake):
    """Parquet files under LAKE's partition directories (not _delta_log, _rollup, … )."""
    found = []
    for root, dirs, names in os.walk(lake):
        dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]
        found += [os.path.normpath(os.path.join(root, n)) for n in names if n.endswith(".parquet")]
    return found


def stray_demo(spark, lake, files, binary, checks, totals):
    """Copy the log and the snapshot's files, add a stray, and read the copy both ways."""
    from pyspark.sql import functions as F

    work = tempfile.mkdtemp(prefix="nf-spark-stray-", dir="/tmp")
    try:
        copy = os.path.join(work, "lake")
        os.makedirs(copy)
        # The lake's own metadata (_delta_log, _manifest, the _rollup table, …: every top-level
        # entry whose name starts with "_" or ".") and then only the snapshot's data files, so the
        # stray added below is the only file in the copy that the log does not name.
        for name in os.listdir(lake):
            src = os.path.join(lake, name)
            if name.startswith(("_", ".")):
                (shutil.copytree if os.path.isdir(src) else shutil.copy2)(
                    src, os.path.join(copy, name))
        for path, _, _ in files:
            dest = os.path.join(copy, os.path.relpath(path, lake))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(path, dest)
        victim = sorted(files)[0][0]
        stray = os.path.join(copy, os.path.dirname(os.path.relpath(victim, lake)),
                             "part-stray-copy.parquet")
        shutil.copy2(victim, stray)

        _, copy_files, copy_schema = snapshot(copy)
        snap_df = snapshot_dataframe(spark, copy_files, copy_schema)
        snap = snap_df.agg(F.sum("packets").alias("p"), F.count(F.lit(1)).alias("n")).first()

        # What a reader that lists directories sees: every *.parquet under the partition dirs
        # (Spark skips _delta_log and _rollup because their names start with "_").
        plain_df = spark.read.parquet(copy)
        plain = plain_df.agg(F.sum("packets").alias("p"), F.count(F.lit(1)).alias("n")).first()
        stray_rows = spark.read.parquet(hadoop_literal(stray)).agg(
            F.sum("packets").alias("p"), F.count(F.lit(1)).alias("n")).first()

        nf = normalise(noisefloor_rows(binary, copy, QUERIES["totals"]))[0]

        print(f"stray file: {os.path.relpath(stray, copy)} in a copy of the lake "
              f"({stray_rows.p} packets, {stray_rows.n} rows)")
        print(f"  snapshot listing (delta-rs + Spark): packets={snap.p} rows={snap.n}")
        print(f"  noisefloor sql on the copy:          packets={nf['packets']} rows={nf['n']}")
        print(f"  plain spark.read.parquet(LAKE):      packets={plain.p} rows={plain.n}"
              f"  <- counts the stray")
        checks.equal("stray: snapshot listing ignores the stray", (snap.p, snap.n),
                     (totals["packets"], totals["n"]))
        checks.equal("stray: noisefloor ignores the stray", (nf["packets"], nf["n"]),
                     (totals["packets"], totals["n"]))
        checks.equal("stray: plain directory read counts the stray", (plain.p, plain.n),
                     (totals["packets"] + stray_rows.p, totals["n"] + stray_rows.n))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    lake, binary = os.path.abspath(argv[1]), argv[2]
    if not os.path.isdir(os.path.join(lake, "_delta_log")):
        fail(f"{lake}: no _delta_log (not a noisefloor lake?)")
    t0 = time.monotonic()

    version, files, data_schema = snapshot(lake)
    log_rows = sum(n for _, _, n in files if n is not None)
    extra = sorted(set(on_disk_parquet(lake)) - {f[0] for f in files})
    print(f"lake {lake}: Delta version {version}, {len(files)} files in the snapshot"
          + (f", {len(extra)} more Parquet files on disk outside it" if extra else ""))

    t_spark = time.monotonic()
    spark = start_spark()
    print(f"Spark {spark.version} local[2] started in {time.monotonic() - t_spark:.1f}s")
    checks = Checks()
    try:
        events = snapshot_dataframe(spark, files, data_schema)
        events.createOrReplaceTempView("events")

        results = {}
        for name, sql in QUERIES.items():
            got = normalise(spark_rows(spark, sql))
            want = normalise(noisefloor_rows(binary, lake, sql))
            checks.equal(name, got, want)
            results[name] = got

        span_spark = normalise(spark_rows(spark, TS_SPAN_SPARK))
        span_nf = [{"sensor": r["sensor"], "ts_min": iso_to_micros(r["ts_min"]),
                    "ts_max": iso_to_micros(r["ts_max"])}
                   for r in noisefloor_rows(binary, lake, TS_SPAN_NOISEFLOOR)]
        checks.equal("ts_span (µs, UTC)", span_spark, span_nf)

        totals = results["totals"][0]
        if files and all(n is not None for _, _, n in files):
            checks.equal("rows vs numRecords in the log", totals["n"], log_rows)

        print(f"total: packets={totals['packets']} rows={totals['n']}")
        for r in results["per_sensor"]:
            print(f"  sensor {r['sensor']}: packets={r['packets']} rows={r['n']}")
        print("top port keys: " + ", ".join(
            f"{r['port_key']}={r['packets']}/{r['sources']}src" for r in results["top_ports"]))
        print("GRE per day: " + (", ".join(
            f"{r['date']}={r['packets']}/{r['sources']}src" for r in results["gre_per_day"])
            or "none"))

        stray_demo(spark, lake, files, binary, checks, totals)
    finally:
        spark.stop()

    print(f"done in {time.monotonic() - t0:.1f}s")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
