#!/usr/bin/env bash
# Log-parsing speed: criterion on one core (netfilter syslog lines), then `explain` end to
# end on a generated kern.log (TCP SYN, UDP and GRE PROTO=47 lines, random sources).
#
#   bench/logs.sh                # 1 M lines (235 MB in bench/out/, kept for reruns)
#   LINES=5000000 bench/logs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${LINES:-1000000}
file=bench/out/netfilter-${lines}.log
mkdir -p bench/out
cargo build --release -q
if [ ! -f "$file" ]; then
  python3 - "$lines" "$file" <<'PY'
import random, sys
n, out = int(sys.argv[1]), sys.argv[2]
random.seed(1)
L = [
 "Nov 20 03:{m:02d}:{s:02d} fw1 kernel: [50028442.088484] IPTABLES-DROP: IN=eth0 OUT= MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC={a} DST=51.15.166.67 LEN=40 TOS=0x00 PREC=0x00 TTL=245 ID={id} PROTO=TCP SPT={sp} DPT={dp} WINDOW=1024 RES=0x00 SYN URGP=0",
 "Nov 20 03:{m:02d}:{s:02d} fw1 kernel: [50028442.088485] IPTABLES-DROP: IN=eth0 OUT= MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC={a} DST=51.15.166.67 LEN=564 TOS=0x00 PREC=0x00 TTL=52 ID={id} DF PROTO=47 ",
 "Nov 20 03:{m:02d}:{s:02d} fw1 kernel: [50028442.088486] IPTABLES-DROP: IN=eth0 OUT= MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC={a} DST=51.15.166.67 LEN=76 TOS=0x00 PREC=0x00 TTL=64 ID={id} DF PROTO=UDP SPT={sp} DPT={dp} LEN=56 ",
]
with open(out, "w") as f:
    for i in range(n):
        a = f"{random.randint(1,223)}.{random.randint(0,255)}.{random.randint(0,255)}.{random.randint(1,254)}"
        f.write(random.choice(L).format(m=(i // 60000) % 60, s=(i // 1000) % 60, a=a, id=random.randint(0, 65535),
                sp=random.randint(1024, 65535), dp=random.choice([23, 22, 80, 443, 53, 123, 2323])) + "\n")
PY
fi
cat "$file" > /dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "file: $file, $lines lines, $(du -h "$file" | cut -f1)"
cargo bench -q -p noisefloor-capture --bench logs 2>&1 | grep -E "thrpt" | sed 's/^ */criterion, one core: /'
hyperfine -N -w 1 -r "${RUNS:-5}" --export-json /tmp/nf-logs.json "./target/release/noisefloor explain --year 2026 $file" > /dev/null 2>&1
python3 -c "import json; r=json.load(open('/tmp/nf-logs.json'))['results'][0]; n=$lines; print(f\"explain end to end ($(nproc) cores): mean {r['mean']:.3f} s, best {r['min']:.3f} s, {n/r['mean']/1e6:.2f} M lines/s\")"
