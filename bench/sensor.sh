#!/usr/bin/env bash
# Live sensor throughput (issue 6): the highest send rate the sensor keeps without a single
# kernel drop, over NFLOG and over an interface. Runs as root: it builds two network
# namespaces joined by a veth pair (addresses 10.232.0.0/24, inside them only), and sends
# numbered SYNs from one with noisefloor-synth's raw-socket sender.
#
#   sudo bench/sensor.sh                  # 2 M packets per rate step
#   PACKETS=500000 RATES="100000 0" sudo bench/sensor.sh   # 0 = as fast as the sender can
#   SENDERS=2 RATES=0 sudo bench/sensor.sh    # two sender processes (one raw socket each)
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${PACKETS:-2000000}
rates=${RATES:-"50000 100000 200000 300000 0"}
senders=${SENDERS:-1}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q   # default members: the same features as CI
target="${CARGO_TARGET_DIR:-target}"
nf=$(realpath "$target/release/noisefloor")
synth=$(realpath "$target/release/noisefloor-synth")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GiB, kernel $(uname -r)"
S=nfbench-s C=nfbench-c
cleanup() { ip netns del $S 2>/dev/null || true; ip netns del $C 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $S; ip netns add $C
for ns in $S $C; do
  ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n $ns link set lo up
done
ip link add vs netns $S address 02:00:00:00:00:01 type veth peer name vc netns $C address 02:00:00:00:00:02
ip -n $S addr add 10.232.0.1/24 dev vs; ip -n $C addr add 10.232.0.2/24 dev vc
ip -n $S link set vs up; ip -n $C link set vc up
ip -n $C neigh replace 10.232.0.1 lladdr 02:00:00:00:00:01 dev vc nud permanent
ip netns exec $S iptables -A INPUT -i vs -j NFLOG --nflog-group 3
ip netns exec $S iptables -A INPUT -i vs -j DROP
work=$(mktemp -d)
for source in "--nflog-group 3" "--interface vs"; do
  for rate in $rates; do
    rm -rf "$work/lake"
    ip netns exec $S "$nf" sensor $source --sensor bench --lake "$work/lake" --rotate 1m --json \
      > "$work/summary.json" 2> "$work/sensor.log" &
    pid=$!
    sleep 1
    per=$((packets / senders))
    pids=()
    for i in $(seq 0 $((senders - 1))); do
      ip netns exec $C "$synth" --send-to 10.232.0.1 --send-from 10.232.0.2 \
        --send-mix numbered --count "$per" --first $((i * per)) --rate $((rate / senders)) > "$work/sent-$i.json" &
      pids+=($!)
    done
    wait "${pids[@]}"
    sent=$(python3 -c "
import json, glob
s = [json.load(open(f)) for f in glob.glob('$work/sent-*.json')]
print(json.dumps({'sent': sum(x['sent'] for x in s), 'rate': sum(x['sent'] for x in s) / max(x['seconds'] for x in s)}))")
    rm -f "$work"/sent-*.json
    sleep 2
    # CPU the sensor used (all threads), in clock ticks, before it is asked to stop.
    cpu=$(awk '{print $14 + $15}' /proc/$pid/stat)
    kill -TERM $pid; wait $pid
    python3 - "$source" "$rate" "$sent" "$work/summary.json" "$cpu" "$(getconf CLK_TCK)" <<'PY'
import json, sys
source, rate, sent, path = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
cpu_s = int(sys.argv[5]) / int(sys.argv[6])
s = json.load(open(path))
target = f"{rate:,}/s" if rate else "unpaced"
print(f"{source:16} send {target:>10}: achieved {sent['rate']:>9,.0f}/s, "
      f"kept {s['stored']:>9,} dropped {s['kernel_drops']:>9,} "
      f"({100*s['kernel_drops']/max(1,s['stored']+s['kernel_drops']):.2f} %), "
      f"kept+dropped {'==' if s['stored']+s['kernel_drops']==sent['sent'] else '!='} sent; "
      f"sensor CPU {cpu_s:.1f} s = {s['received']/max(cpu_s, 1e-9)/1e3:,.0f} k packets per CPU-second")
PY
  done
done
rm -rf "$work"
