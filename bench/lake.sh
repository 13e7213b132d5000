#!/usr/bin/env bash
# Lake speed and size (issue 5 targets):
#  - ingest of the 10 M-packet bench capture, Parquet included (target >= 5 M packets/s);
#  - Parquet bytes per event (target <= 12);
#  - the full report over 100 M events: the capture ingested as ten sensors (<= 5 s).
#
#   bench/lake.sh               # uses/creates bench/out/darknet-10000000.pcap (bench/run.sh)
#   COPIES=3 bench/lake.sh      # a smaller report lake
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${COPIES:-10}
file=bench/out/darknet-10000000.pcap
mkdir -p bench/out
cargo build --release -q   # default members: the same features as CI
nf=./target/release/noisefloor
[ -f "$file" ] || ./target/release/noisefloor-synth --packets 10000000 --seed 1 --out "$file"
cat "$file" > /dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GiB"
lake=bench/out/lake-bench
for run in 1 2 3; do
  rm -rf "$lake"
  /usr/bin/time -f "%e s %M KB" -o /tmp/nf-ingest-time "$nf" ingest "$file" --sensor s0 --lake "$lake" > /dev/null
  read -r secs _ kb _ < /tmp/nf-ingest-time
  echo "ingest run $run: ${secs} s, $(python3 -c "print(f'{10_000_000/$secs/1e6:.2f}')") M packets/s, max RSS $((kb / 1024)) MB"
done
bytes=$(find "$lake/sensor=s0" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "parquet (events): $bytes bytes for 10000000 events = $(python3 -c "print(f'{$bytes/10_000_000:.2f}')") bytes/event"
rbytes=$(find "$lake/_rollup" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "parquet (rollup): $rbytes bytes = $(python3 -c "print(f'{$rbytes/10_000_000:.2f}')") bytes/event"
"$nf" sql --lake "$lake" --format csv "SELECT column_name FROM information_schema.columns WHERE table_name = 'events'" > /dev/null
python3 - "$lake" <<'PY' || true
import sys, pyarrow.parquet as pq, pathlib, collections
sizes = collections.Counter()
for f in (pathlib.Path(sys.argv[1]) / "sensor=s0").rglob("*.parquet"):
    md = pq.ParquetFile(f).metadata
    for rg in range(md.num_row_groups):
        for c in range(md.num_columns):
            col = md.row_group(rg).column(c)
            sizes[col.path_in_schema] += col.total_compressed_size
total = sum(sizes.values())
print("bytes/event by column (largest first):", ", ".join(f"{k} {v/1e7:.2f}" for k, v in sizes.most_common(12)))
PY
# The floor any lossless column-by-column encoding of these events has (bench/size_floor.py).
python3 bench/size_floor.py "$lake" || true
big=bench/out/lake-100m
# .complete-N-rollup: lakes built before the rollup existed are rebuilt.
if [ ! -f "$big/.complete-$copies-rollup" ]; then
  rm -rf "$big"
  for i in $(seq 1 "$copies"); do "$nf" ingest "$file" --sensor "s$i" --lake "$big" > /dev/null; done
  touch "$big/.complete-$copies-rollup"
fi
rows=$("$nf" sql --lake "$big" --format csv "SELECT COUNT(*) AS n FROM events" | tail -1)
echo "report lake: $rows events"
hyperfine -N -w 1 -r "${RUNS:-3}" --export-json /tmp/nf-report.json "$nf report --lake $big --format json" > /dev/null 2>&1
python3 -c "import json; r=json.load(open('/tmp/nf-report.json'))['results'][0]; print(f\"full report over $rows events: mean {r['mean']:.2f} s, best {r['min']:.2f} s\")"
