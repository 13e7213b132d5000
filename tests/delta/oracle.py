#!/usr/bin/env python3
"""Every engine that reads the lake's Delta log sees all of an ingest or none of it.

Usage: oracle.py NOISEFLOOR NOISEFLOOR_SYNTH WORKDIR   (run with the venv of README.md beside
this file: delta-rs for Python and DuckDB with its delta extension)

For each crash point of an ingest's commit (NOISEFLOOR_CRASH_AT, see crates/lake/src/store.rs)
the ingest is killed there; then noisefloor's `sql` and `report`, delta-rs and DuckDB's
`delta_scan` must give the same counts, equal to the state before the ingest or after it, and
the next ingest must end in exactly the state after it (no row lost or counted twice). Then a
repeated ingest, an ingest with --replace and stray files must change no engine's numbers.
"""
import glob, json, os, shutil, subprocess, sys, urllib.parse

nf, synth, work = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.makedirs(work, exist_ok=True)


def run(*args, env=None, check=True):
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    if check and p.returncode != 0:
        raise SystemExit(f"{args}: exit {p.returncode}\n{p.stderr}")
    return p


def duck():
    import duckdb, duckdb_extension_delta
    ext = glob.glob(os.path.join(os.path.dirname(duckdb_extension_delta.__file__),
                                 "extensions", "*", "delta.duckdb_extension"))[0]
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{ext}'")
    return con


def state(lake):
    """Rows and packets per sensor of the events table, packets of the rollup table, by
    every engine; asserts the engines agree and returns the one answer."""
    from deltalake import DeltaTable
    import pyarrow.compute as pc

    out = {}
    # noisefloor sql and report
    q = ("SELECT sensor, COUNT(*) AS n, SUM(packets) AS p FROM events "
         "GROUP BY sensor ORDER BY sensor")
    rows = json.loads(run(nf, "sql", "--lake", lake, "--format", "json", q).stdout)
    out["noisefloor"] = {r["sensor"]: [r["n"], r["p"]] for r in rows}
    inputs = json.loads(run(nf, "sql", "--lake", lake, "--format", "json",
                            "SELECT COUNT(*) AS n FROM inputs").stdout)[0]["n"]
    report = json.loads(run(nf, "report", "--lake", lake, "--format", "json").stdout)
    # delta-rs
    t = DeltaTable(lake).to_pyarrow_table()
    by = {}
    for s, p in zip(t.column("sensor").to_pylist(), t.column("packets").to_pylist()):
        by.setdefault(s, [0, 0])
        by[s][0] += 1
        by[s][1] += p
    out["delta-rs"] = dict(sorted(by.items()))
    # DuckDB
    con = duck()
    out["duckdb"] = {s: [n, int(p)] for s, n, p in con.execute(
        f"SELECT sensor, COUNT(*), SUM(packets) FROM delta_scan('{lake}') GROUP BY 1 ORDER BY 1"
    ).fetchall()}
    first = out["noisefloor"]
    for engine, got in out.items():
        assert got == first, f"{lake}: {engine} {got} != noisefloor {first}"
    packets = sum(p for _, p in first.values())
    assert report["summary"]["packets"] == packets, (report["summary"], packets)
    rollup_rs = pc.sum(DeltaTable(os.path.join(lake, "_rollup")).to_pyarrow_table()
                       .column("packets")).as_py() or 0
    rollup_duck = con.execute(
        f"SELECT COALESCE(SUM(packets), 0) FROM delta_scan('{lake}/_rollup')").fetchone()[0]
    assert rollup_rs == rollup_duck, (rollup_rs, rollup_duck)
    return {"events": first, "inputs": inputs, "rollup_packets": int(rollup_rs)}


a = os.path.join(repo, "samples", "darknet-day.pcap.gz")
b = os.path.join(work, "b.pcap")
run(synth, "--packets", "40000", "--seed", "5", "--out", b)
base = os.path.join(work, "base")
shutil.rmtree(base, ignore_errors=True)
run(nf, "ingest", a, "--sensor", "tokyo", "--lake", base)
before = state(base)
after_lake = os.path.join(work, "after")
shutil.copytree(base, after_lake)
run(nf, "ingest", b, "--sensor", "osaka", "--lake", after_lake)
after = state(after_lake)
assert after != before and after["inputs"] == before["inputs"] + 1, (before, after)
# A clean copy of the state after, for the damage scenarios below (the one above gets
# replaced files and strays).
clean_after = os.path.join(work, "clean-after")
shutil.copytree(after_lake, clean_after)
print("before:", before)
print("after: ", after)

for point in ["before-log-commit", "after-events-commit", "after-rollup-commit"]:
    lake = os.path.join(work, point)
    shutil.rmtree(lake, ignore_errors=True)
    shutil.copytree(base, lake)
    env = dict(os.environ, NOISEFLOOR_CRASH_AT=point)
    p = run(nf, "ingest", b, "--sensor", "osaka", "--lake", lake, env=env, check=False)
    assert p.returncode != 0 and "NOISEFLOOR_CRASH_AT" in p.stderr, (point, p.returncode, p.stderr)
    s = state(lake)
    want = before if point == "before-log-commit" else after
    assert s["events"] == want["events"], (point, s, want)
    assert s["inputs"] == want["inputs"], (point, s, want)
    # The rollup table commits after the events table: it may still be the one before.
    assert s["rollup_packets"] in (before["rollup_packets"], after["rollup_packets"]), (point, s)
    print(f"crash at {point}: every engine reads the state {'before' if want is before else 'after'}")
    run(nf, "ingest", b, "--sensor", "osaka", "--lake", lake)
    s = state(lake)
    assert s == after, (point, s, after)
    print(f"  the next ingest ends in exactly the state after: {s['events']}")

lake = after_lake
run(nf, "ingest", b, "--sensor", "osaka", "--lake", lake)
assert state(lake) == after, "a repeated ingest added something"
run(nf, "ingest", b, "--sensor", "osaka", "--replace", "--lake", lake)
assert state(lake) == after, "--replace changed the numbers"
# Strays: a copy of a committed file and a file that is not Parquet, in a partition.
part = sorted(glob.glob(os.path.join(lake, "sensor=osaka", "date=*", "*.parquet")))[0]
shutil.copy(part, os.path.join(os.path.dirname(part), "stray-copy.parquet"))
with open(os.path.join(os.path.dirname(part), "stray-junk.parquet"), "wb") as f:
    f.write(b"not parquet")
os.makedirs(os.path.join(lake, "sensor=ghost", "date=2026-01-01"))
shutil.copy(part, os.path.join(lake, "sensor=ghost", "date=2026-01-01", "x.parquet"))
assert state(lake) == after, "a stray file was read"
print("repeated ingest, --replace and stray files: every engine's numbers unchanged")

# --- compaction: one sensor, one day, many small inputs (a live sensor's segments) ---
import threading
small = []
for i in range(8):
    f = os.path.join(work, f"seg{i}.pcap")
    run(synth, "--packets", "2500", "--seed", str(100 + i), "--out", f)
    small.append(f)
lake = os.path.join(work, "compact")
shutil.rmtree(lake, ignore_errors=True)
for f in small:
    run(nf, "ingest", f, "--sensor", "kobe", "--lake", lake)
whole = state(lake)
total = sum(p for _, p in whole["events"].values())

for point in ["compact-before-log-commit", "compact-after-log-commit"]:
    copy = os.path.join(work, point)
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(lake, copy)
    env = dict(os.environ, NOISEFLOOR_CRASH_AT=point)
    p = run(nf, "compact", "--lake", copy, env=env, check=False)
    assert p.returncode != 0 and "NOISEFLOOR_CRASH_AT" in p.stderr, (point, p.stderr)
    assert state(copy) == whole, point
    print(f"compaction killed at {point}: every engine reads the same rows as before")

# Readers loop (delta-rs and DuckDB, each reading the log afresh) while ingests and
# compactions commit: every read sees exactly the rows of some committed state.
from deltalake import DeltaTable
import pyarrow.compute as pc
con = duck()
seen, stop, errors = [], threading.Event(), []
def reader():
    while not stop.is_set():
        try:
            a = pc.sum(DeltaTable(lake).to_pyarrow_table(columns=["packets"]).column("packets")).as_py()
            b = con.execute(f"SELECT SUM(packets) FROM delta_scan('{lake}')").fetchone()[0]
            seen.append((a, int(b)))
        except Exception as e:  # a reader must never fail mid-compaction
            errors.append(repr(e))
t = threading.Thread(target=reader)
t.start()
extra = 0
for round in range(3):
    f = os.path.join(work, f"more{round}.pcap")
    run(synth, "--packets", "2000", "--seed", str(200 + round), "--out", f)
    run(nf, "ingest", f, "--sensor", "kobe", "--lake", lake)
    extra += 2000
    out = json.loads(run(nf, "compact", "--json", "--lake", lake).stdout)
    assert out[0]["version"] is not None, out
stop.set()
t.join()
assert not errors, errors[:3]
allowed = {total + 2000 * k for k in range(4)}
# The two readers read one after the other, so a commit may fall between them: each read
# on its own must be a committed state.
assert seen, "no read completed"
bad = [x for x in seen if x[0] not in allowed or x[1] not in allowed]
assert not bad, (bad[:5], sorted(allowed))
final = state(lake)
assert sum(p for _, p in final["events"].values()) == total + extra
print(f"{len(seen)} reads while 3 ingests and 3 compactions committed: every one a committed state")
files = DeltaTable(lake).file_uris()
assert len(files) == 1, files
old_on_disk = len(glob.glob(os.path.join(lake, "sensor=kobe", "date=*", "*.parquet")))
v = json.loads(run(nf, "vacuum", "--retention-hours", "0", "--json", "--lake", lake).stdout)
assert len(v["deleted"]) >= old_on_disk - 1, (v, old_on_disk)
assert state(lake) == final
print(f"vacuum deleted {len(v['deleted'])} files no version needs; numbers unchanged")

# --- damage: found and named by check, repaired, and a re-ingest gives the clean numbers ---
def damage(kind, lake):
    # A file of the current version (names carry a random token: pick by the log, not by
    # the directory, which may also hold removed files).
    import pyarrow as pa
    paths = pa.table(DeltaTable(lake).get_add_actions(flatten=True)).column("path").to_pylist()
    live = sorted(os.path.join(lake, urllib.parse.unquote(p))
                  for p in paths if p.startswith("sensor=osaka/"))
    target = live[0]
    if kind == "truncated":
        with open(target, "r+b") as f:
            f.truncate(os.path.getsize(target) // 2)
    elif kind == "removed":
        os.remove(target)
    elif kind == "overwritten":
        with open(target, "r+b") as f:
            f.seek(os.path.getsize(target) // 3)
            f.write(b"\xff" * 64)
    elif kind == "stray-file":
        shutil.copy(target, os.path.join(os.path.dirname(target), "stray.parquet"))
    elif kind == "stray-partition":
        d = os.path.join(lake, "sensor=nobody", "date=2026-02-02")
        os.makedirs(d)
        shutil.copy(target, d)
    return os.path.relpath(target, lake)

for kind in ["truncated", "removed", "overwritten", "stray-file", "stray-partition"]:
    lake = os.path.join(work, "damage-" + kind)
    shutil.rmtree(lake, ignore_errors=True)
    shutil.copytree(clean_after, lake)
    target = damage(kind, lake)
    p = run(nf, "check", "--json", "--lake", lake, check=False)
    found = json.loads(p.stdout)["findings"]
    stray = kind.startswith("stray")
    assert p.returncode == (0 if stray else 2), (kind, p.returncode, p.stderr)
    assert found and (stray or any(f["path"] == target for f in found)), (kind, found)
    assert all(f["kind"] == "stray" for f in found) == stray, (kind, found)
    r = json.loads(run(nf, "check", "--repair", "--json", "--lake", lake).stdout)
    for i in r["reingest"]:
        run(nf, "ingest", i, "--sensor", "osaka", "--lake", lake)
    assert json.loads(run(nf, "check", "--json", "--lake", lake).stdout)["findings"] == []
    assert state(lake) == after, (kind, state(lake), after)
    print(f"damage {kind}: named by check ({found[0]['kind']}), repaired, numbers equal a clean ingest")
print("delta oracle passed")
