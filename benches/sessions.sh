#!/usr/bin/env bash
# benches/sessions.sh: craft's TCP sessions against the kernel's, on the same
# work, in one run (issue: "client TCP that holds its own").
#
#   sudo benches/sessions.sh        # builds craft, measures, prints a table
#
# Prints a markdown table (measurement | craft | peer | ratio | goal) and
# writes it to benches/SESSIONS.md with the date and `uname -r`. Everything
# runs in a private network namespace (`unshare -n`) on lo: only 127.0.0.1.
#
# Measurements
#  1. GET of 10 MiB from socat serving a file: craft's session (recv until the
#     FIN) against curl; median wall seconds of GET_REPS runs (ns clock, each
#     whole process), and peak RSS (/usr/bin/time %M, the largest of the runs).
#  2. A receiver (tests/servers/slow_reader.py, 4 KiB receive buffer) that
#     pauses PAUSE_SHORT s: seconds from its first read to the last byte of
#     1 MiB, craft against a kernel sender (python sendall), median of 3.
#  3. The same with PAUSE_LONG s: craft's upload byte-exact (yes/no).
#  4. A 10 MiB upload to nc -l: the share of data segments under 1000 bytes in
#     a capture of lo, craft against a kernel sender (nc).
#  5. Six request/response round trips with recv(until="\n") against a line
#     server (socat EXEC:cat): craft run's wall seconds against python's
#     socket client doing the same, median of 5.
#  6. Ten concurrent 4 MiB downloads (ten craft processes) from socat: how
#     many are byte-exact, and the server's retransmissions in a capture.
#
# Knobs: GET_REPS (5), PAUSE_SHORT (1.5), PAUSE_LONG (15), CONCURRENT (10).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GET_REPS=${GET_REPS:-5}
PAUSE_SHORT=${PAUSE_SHORT:-1.5}
PAUSE_LONG=${PAUSE_LONG:-15}
CONCURRENT=${CONCURRENT:-10}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }
secs() { date +%s.%N; }

if [[ -z ${CRAFT_IN_NETNS:-} ]]; then
    [[ $(id -u) == 0 ]] || die "needs root (unshare -n, CAP_NET_RAW, CAP_NET_ADMIN)"
    for t in socat curl nc tcpdump python3; do
        command -v "$t" >/dev/null || die "$t is missing (apt-get install -y socat curl netcat-openbsd tcpdump python3)"
    done
    [[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install -y time)"
    log "building craft (release)"
    (cd "$REPO" && cargo build --release --quiet)
    CRAFT=${CARGO_TARGET_DIR:-$REPO/target}/release/craft
    exec unshare -n env CRAFT_IN_NETNS=1 CRAFT="$CRAFT" bash "${BASH_SOURCE[0]}"
fi

ip link set lo up
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
wait_port() { for _ in $(seq 100); do ss -ltn | grep -q ":$1 " && return 0; sleep 0.05; done; return 1; }
SLOW=$REPO/tests/servers/slow_reader.py

# ---------------------------------------------------------------- 1. GET 10 MiB
log "1. GET of 10 MiB: craft against curl"
head -c 10485760 /dev/urandom > "$WORK/body"
{ printf 'HTTP/1.0 200 OK\r\nContent-Length: 10485760\r\n\r\n'; cat "$WORK/body"; } > "$WORK/resp"
socat TCP-LISTEN:8080,reuseaddr,fork SYSTEM:"cat $WORK/resp" &
SOCAT=$!
wait_port 8080
cat > "$WORK/get.craft" <<EOF
c = connect("127.0.0.1", 8080, verbose=false, wscale=7, window=4194304)
c.syn()
c.ack()
c.send("GET / HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n")
body = c.recv(timeout=2)
expect len(body) == $(stat -c %s "$WORK/resp")
c.close(timeout=0.2)
EOF
: > "$WORK/get_craft"; : > "$WORK/get_curl"
# timed NAME CMD...: wall seconds (ns clock) and peak RSS KB of CMD, appended to $WORK/NAME.
timed() {
    local name=$1 a b
    shift
    a=$(secs)
    /usr/bin/time -f "%M" -o "$WORK/t" "$@" > /dev/null 2>&1 || die "$name failed"
    b=$(secs)
    echo "$(awk -v a="$a" -v b="$b" 'BEGIN { print b - a }') $(cat "$WORK/t")" >> "$WORK/$name"
}
for _ in $(seq "$GET_REPS"); do
    timed get_craft "$CRAFT" run "$WORK/get.craft"
    timed get_curl curl -s -o /dev/null http://127.0.0.1:8080/
done
kill $SOCAT; wait $SOCAT 2>/dev/null || true
get_craft=$(awk '{print $1}' "$WORK/get_craft" | median)
get_curl=$(awk '{print $1}' "$WORK/get_curl" | median)
rss_craft=$(awk '$2 > m { m = $2 } END { printf "%.1f", m / 1024 }' "$WORK/get_craft")
rss_curl=$(awk '$2 > m { m = $2 } END { printf "%.1f", m / 1024 }' "$WORK/get_curl")

# ---------------------------------------------------------------- 2./3. shut window
head -c 1048576 /dev/urandom > "$WORK/mib"
want=$(sha256sum < "$WORK/mib" | cut -c1-64)
cat > "$WORK/up.craft" <<EOF
c = connect("127.0.0.1", 1234, verbose=false)
c.syn()
c.ack()
c.send(read_file("$WORK/mib"))
c.close(timeout=0.2)
EOF
# drain SENDER PAUSE: the receiver's seconds from first read to last byte.
drain() {
    python3 "$SLOW" 1234 "$2" 4096 > "$WORK/slow" &
    local srv=$!
    wait_port 1234
    if [[ $1 == craft ]]; then
        "$CRAFT" run "$WORK/up.craft" > /dev/null 2>&1 || true
    else
        python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",1234)); s.sendall(open(sys.argv[1],"rb").read()); s.close()' "$WORK/mib"
    fi
    wait $srv || true
    grep -q "sha256=$want" "$WORK/slow" || { echo "n/a"; return; }
    sed 's/.*drain=//' "$WORK/slow"
}
log "2. window shut for $PAUSE_SHORT s: how soon sending resumes"
zw_craft=$(for _ in 1 2 3; do drain craft "$PAUSE_SHORT"; done | median)
zw_kernel=$(for _ in 1 2 3; do drain kernel "$PAUSE_SHORT"; done | median)
log "3. window shut for $PAUSE_LONG s"
long=$(drain craft "$PAUSE_LONG")
[[ $long == n/a ]] && long_ok=no || long_ok=yes

# ---------------------------------------------------------------- 4. small segments
log "4. 10 MiB upload to nc -l: data segments under 1000 bytes"
cat > "$WORK/big.craft" <<EOF
c = connect("127.0.0.1", 1234, verbose=false, wscale=7, window=1048576)
c.syn()
c.ack()
c.send(read_file("$WORK/body"))
c.close(timeout=0.2)
EOF
# small SENDER: percent of data segments to port 1234 under 1000 bytes.
small() {
    tcpdump -i lo --immediate-mode -U -nn -s 96 -B 65536 -w "$WORK/cap" 'tcp dst port 1234' 2> "$WORK/td" &
    local td=$!
    for _ in $(seq 100); do grep -q listening "$WORK/td" && break; sleep 0.05; done
    nc -l 127.0.0.1 1234 > /dev/null &
    local srv=$!
    wait_port 1234
    if [[ $1 == craft ]]; then
        "$CRAFT" run "$WORK/big.craft" > /dev/null 2>&1 || true
    else
        nc -N 127.0.0.1 1234 < "$WORK/body"
    fi
    wait $srv || true
    sleep 0.2; kill $td; wait $td 2>/dev/null || true
    tcpdump -r "$WORK/cap" -nn 2>/dev/null | awk '/length [1-9]/ { n++; if ($NF + 0 < 1000) s++ } END { if (n) printf "%.2f", 100 * s / n; else print "n/a" }'
}
small_craft=$(small craft)
small_kernel=$(small kernel)

# ---------------------------------------------------------------- 5. round trips
log "5. six round trips with recv(until=)"
socat TCP-LISTEN:7777,reuseaddr,fork EXEC:cat &
SOCAT=$!
wait_port 7777
cat > "$WORK/rt.craft" <<'EOF'
c = connect("127.0.0.1", 7777, verbose=false)
c.syn()
c.ack()
for i in range(6) {
    c.send("ping\n")
    expect c.recv(until="\n", timeout=2) == "ping\n"
}
c.close(timeout=0.2)
EOF
rt_craft=$(for _ in 1 2 3 4 5; do a=$(secs); "$CRAFT" run "$WORK/rt.craft" > /dev/null 2>&1 || echo fail >&2; b=$(secs); awk -v a="$a" -v b="$b" 'BEGIN { print b - a }'; done | median)
rt_kernel=$(for _ in 1 2 3 4 5; do a=$(secs); python3 -c '
import socket
s = socket.create_connection(("127.0.0.1", 7777))
f = s.makefile("rb")
for _ in range(6):
    s.sendall(b"ping\n")
    assert f.readline() == b"ping\n"
s.close()'; b=$(secs); awk -v a="$a" -v b="$b" 'BEGIN { print b - a }'; done | median)
kill $SOCAT; wait $SOCAT 2>/dev/null || true

# ---------------------------------------------------------------- 6. concurrency
log "6. $CONCURRENT concurrent 4 MiB downloads"
head -c 4194304 "$WORK/body" > "$WORK/four"
{ printf 'HTTP/1.0 200 OK\r\n\r\n'; cat "$WORK/four"; } > "$WORK/resp4"
socat TCP-LISTEN:8081,reuseaddr,fork SYSTEM:"cat $WORK/resp4" &
SOCAT=$!
wait_port 8081
cat > "$WORK/four.craft" <<EOF
c = connect("127.0.0.1", 8081, verbose=false, wscale=7, window=4194304)
c.syn()
c.ack()
c.send("GET / HTTP/1.0\\r\\n\\r\\n")
expect c.recv(timeout=2) == read_file("$WORK/resp4")
c.close(timeout=0.2)
EOF
tcpdump -i lo --immediate-mode -U -nn -s 96 -B 65536 -w "$WORK/cap6" 'tcp src port 8081' 2> "$WORK/td" &
TD=$!
for _ in $(seq 100); do grep -q listening "$WORK/td" && break; sleep 0.05; done
pids=()
for i in $(seq "$CONCURRENT"); do
    "$CRAFT" run "$WORK/four.craft" > "$WORK/c$i" 2>&1 &
    pids+=($!)
done
exact=0
for p in "${pids[@]}"; do wait "$p" && exact=$((exact + 1)); done
sleep 0.2; kill $TD; wait $TD 2>/dev/null || true
kill $SOCAT; wait $SOCAT 2>/dev/null || true
# A retransmission: a data segment whose (flow, start seq) was seen before.
rexmit=$(tcpdump -r "$WORK/cap6" -nn 2>/dev/null | awk '/length [1-9]/ { for (i = 1; i <= NF; i++) if ($i == "seq") { split($(i + 1), s, ":"); k = $3 " " $5 " " s[1]; if (k in seen) r++; seen[k] = 1 } } END { print r + 0 }')

# ---------------------------------------------------------------- table
table=$(cat <<EOF
| measurement | craft | peer | ratio craft/peer | goal |
|---|---|---|---|---|
| GET 10 MiB from socat, median s (craft / curl) | $get_craft | $get_curl | $(ratio "$get_craft" "$get_curl") | ≤ 1.5 |
| GET 10 MiB, peak RSS MB (craft / curl) | $rss_craft | $rss_curl | $(ratio "$rss_craft" "$rss_curl") | craft ≤ 41.5 MB (3 × data + 10 MB) |
| window shut $PAUSE_SHORT s: first read to last byte of 1 MiB, s (craft / kernel) | $zw_craft | $zw_kernel | $(ratio "$zw_craft" "$zw_kernel") | craft resumes within 1 s |
| window shut $PAUSE_LONG s: 1 MiB upload byte-exact | $long_ok | | | yes |
| 10 MiB upload to nc: data segments under 1000 bytes, % (craft / kernel) | $small_craft | $small_kernel | | craft < 1 % |
| six round trips with recv(until=), s (craft run / python client) | $rt_craft | $rt_kernel | $(ratio "$rt_craft" "$rt_kernel") | craft < 0.6 s |
| $CONCURRENT concurrent 4 MiB downloads: byte-exact | $exact / $CONCURRENT | | | all |
| the same: server retransmissions in the capture | $rexmit | | | 0 |
EOF
)
echo "$table"
{
    echo "# craft sessions against the kernel's ($(date -u +%Y-%m-%d), $(uname -r))"
    echo
    echo "Measured by benches/sessions.sh; see its header for the method."
    echo
    echo "$table"
} > "$REPO/benches/SESSIONS.md"
