#!/usr/bin/env python3
"""Lower bound on the Parquet bytes per event of a lake's events, for any lossless
column-by-column encoding (the issue-5 size target is checked against it).

For each column: its empirical (zeroth-order) entropy per event -- for `ts`, of the deltas
between consecutive times, as DELTA_BINARY_PACKED stores them -- plus, for the address
columns, the cost of naming the set of distinct addresses itself (a set of D values out of
2^32 takes about D * (log2(2^32 / D) + 1.44) bits). Columns are counted independently, as a
columnar file stores them, so derived columns (port_key from proto and dport, ...) are
counted too; summing all of them is the floor a per-column encoder cannot go below.

    python3 bench/size_floor.py bench/out/lake-bench     # needs `pip install duckdb`
"""
import math
import sys

import duckdb

lake = sys.argv[1]
con = duckdb.connect()
con.execute(
    f"CREATE VIEW e AS SELECT * FROM read_parquet('{lake}/sensor=*/date=*/*.parquet', hive_partitioning=true)"
)
n = con.execute("SELECT count(*) FROM e").fetchone()[0]
cols = [r[0] for r in con.execute("DESCRIBE e").fetchall() if r[0] not in ("sensor", "date")]
per_column = []
for c in cols:
    expr = f'"{c}"'
    if c == "ts":
        expr = "epoch_us(ts) - lag(epoch_us(ts)) OVER (ORDER BY ts)"
    bits = con.execute(
        f"WITH v AS (SELECT {expr} AS x FROM e), f AS (SELECT count(*) AS k FROM v GROUP BY x) "
        f"SELECT sum(-k / {n} * log2(k / {n})) FROM f"
    ).fetchone()[0]
    per_column.append((bits / 8, c))
entropy = sum(b for b, _ in per_column)
sets = 0.0
for c in ["src", "dst", "inner_src", "inner_dst", "victim"]:
    d = con.execute(f'SELECT count(DISTINCT "{c}") FROM e').fetchone()[0]
    if d:
        sets += d * max(0.0, math.log2(2**32 / d) + 1.44) / 8 / n
per_column.sort(reverse=True)
print(f"{n} events: column entropy {entropy:.2f} bytes/event + distinct address sets {sets:.2f}"
      f" = floor {entropy + sets:.2f} bytes/event")
print("largest:", ", ".join(f"{c} {b:.2f}" for b, c in per_column[:10]))
