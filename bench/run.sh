#!/usr/bin/env bash
# Decode-speed benchmark: noisefloor against tcpdump, libtrace's tracestats and tshark on
# the same deterministic darknet capture. Prints packets/s and ratios as a Markdown table.
#
#   bench/run.sh                 # 10 M packets (1.8 GB in bench/out/, kept for reruns)
#   PACKETS=1000000 bench/run.sh # quicker
#   PEERS=0 bench/run.sh         # noisefloor only
#
# Needs hyperfine, and for the peers tcpdump, libtrace-tools and tshark (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${PACKETS:-10000000}
runs=${RUNS:-5}
file=bench/out/darknet-${packets}.pcap
mkdir -p bench/out
cargo build --release -q  # default members: the same features as CI, so no second DataFusion build
if [ ! -f "$file" ]; then
  ./target/release/noisefloor-synth --packets "$packets" --seed 1 --out "$file"
fi
cat "$file" > /dev/null # page cache: every tool reads from memory
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "file: $file, $packets packets, $(du -h "$file" | cut -f1)"

# mean seconds of a command over $2 runs
mean() {
  hyperfine -N -w 1 -r "$2" --export-json /tmp/nf-bench.json "$1" > /dev/null 2>&1
  python3 -c "import json; r=json.load(open('/tmp/nf-bench.json'))['results'][0]; print(f\"{r['mean']:.3f} {r['min']:.3f}\")"
}

declare -a names cmds
names+=("noisefloor dissect --count-only --no-classes (decode all layers)"); cmds+=("./target/release/noisefloor dissect --count-only --no-classes -q $file")
names+=("noisefloor dissect --count-only (decode + classify)"); cmds+=("./target/release/noisefloor dissect --count-only -q $file")
names+=("noisefloor explain (decode + classify + aggregate + report)"); cmds+=("./target/release/noisefloor explain $file")
if [ "${PEERS:-1}" = 1 ]; then
  command -v tcpdump > /dev/null && { names+=("tcpdump -r FILE -w /dev/null (read + write, no decode)"); cmds+=("tcpdump -r $file -w /dev/null"); }
  command -v tracestats > /dev/null && { names+=("tracestats (libtrace, counts by BPF filter)"); cmds+=("tracestats pcapfile:$file"); }
fi
printf '\n| tool | mean s | best s | M packets/s (mean) | time vs noisefloor decode-only |\n|---|---|---|---|---|\n'
nf_mean=""
for i in "${!names[@]}"; do
  read -r m b < <(mean "${cmds[$i]}" "$runs")
  [ -z "$nf_mean" ] && nf_mean=$m # speed-ups are relative to decode-only
  python3 -c "m=$m; b=$b; n=$packets; nf=$nf_mean; print(f'| ${names[$i]} | {m:.3f} | {b:.3f} | {n/m/1e6:.1f} | {m/nf:.1f}x |')"
done
if [ "${PEERS:-1}" = 1 ] && command -v tshark > /dev/null; then
  # tshark is slow: one timed run, output discarded.
  start=$(date +%s.%N)
  tshark -r "$file" -T fields -e ip.proto > /dev/null 2>&1
  end=$(date +%s.%N)
  python3 -c "m=$end-$start; n=$packets; nf=$nf_mean; print(f'| tshark -r FILE -T fields -e ip.proto (1 run) | {m:.3f} | {m:.3f} | {n/m/1e6:.2f} | {m/nf:.0f}x |')"
fi
# Memory must not grow with the input: max RSS on this file.
/usr/bin/time -f "noisefloor dissect --count-only max RSS: %M KB" ./target/release/noisefloor dissect --count-only -q "$file" 2>&1 | tail -1
/usr/bin/time -f "noisefloor explain max RSS: %M KB" ./target/release/noisefloor explain "$file" 2>&1 > /dev/null | tail -1
