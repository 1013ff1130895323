#!/usr/bin/env bash
# benches/peers.sh: craft against its peers (hping3, nping, scapy, and a C
# sendmmsg program that is the kernel's ceiling) on the same work, in one run.
#
#   sudo benches/peers.sh            # installs what is missing, builds craft, measures, prints a table
#
# Prints a markdown table (measurement | craft | peer | ratio craft/peer | goal)
# and writes it to benches/RESULTS.md with the date and `uname -r`.
#
# Everything live runs inside a private network namespace (`unshare -n`) with
# only `lo` up: nothing is sent outside 127.0.0.0/8 and the host's sysctls,
# firewall and sockets are untouched.
#
# Measurements
#  1. One-shot SYN, whole process (hyperfine, median wall ms) against a listening
#     `nc -lk`: craft syn --dport P | hping3 -c 1 -S -p P | nping --tcp -c 1 -p P.
#     Fairness: hping3 -c 1 exits as soon as the reply it counts arrives (its 1 s
#     COUNTREACHED_TIMEOUT only runs when the reply is missing), so it needs no
#     extra option. nping waits --delay (default 1 s) after its last probe
#     before it exits, so it runs with --delay 1ms; the reply on lo comes back in
#     ~40 us, and the script checks each tool really got its SYN-ACK.
#  2. RTT as each tool reports it, 20 probes 10 ms apart, median over RTT_REPS runs.
#  3. Build + serialize an Ether/IP/TCP SYN: craft's criterion bench `wire`
#     (`fresh, no options` = structs built from scratch, then emitted) against
#     scapy's bytes(Ether()/IP()/TCP(...)) in a loop.
#  4. SYN send rate to a closed port on lo (the kernel answers each with a RST):
#     craft send --count N --vary tcp.seq=1-1000000 (every frame built anew, sent
#     with sendmmsg in batches of 256), hping3 --flood for FLOOD_SECS,
#     and benches/sendmmsg_limit.c (sendmmsg, batches of 256). route_localnet
#     and accept_local are set to 1 in the namespace for this part so the kernel
#     accepts the injected frames; the kernel's RST counter proves it did.
#  5. Peak RSS (/usr/bin/time -v) of one `craft syn` and of the peers' one-shots.
#
#  6. Full SYN scan, craft scan against nmap -sS -p- -n -T4 (same listeners).
#  7. The send path against the C ceiling ../shared/bench/rawsend.c (RAWSEND_C).
#
# Environment knobs: RAW_ROUNDS (7), RAW_N (300000), RAWSEND_C, SCAN_REPS (3), SCAN_LISTENERS ("22 80 8080 40000"), RUNS (hyperfine runs, 20), RTT_REPS (5), SEND_N (200000),
# SEND_REPS (3), FLOOD_SECS (3), SCAPY_N (20000), PORT_OPEN (5555),
# PORT_CLOSED (9), CRAFT_SRC (the crate to build, default this repo),
# CARGO_TARGET_DIR (as cargo), SKIP_INSTALL=1, SKIP_CRITERION=1.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CRAFT_SRC=${CRAFT_SRC:-$REPO}
RUNS=${RUNS:-20}
RTT_REPS=${RTT_REPS:-5}
SEND_N=${SEND_N:-200000}
SEND_REPS=${SEND_REPS:-3}
FLOOD_SECS=${FLOOD_SECS:-3}
SCAPY_N=${SCAPY_N:-20000}
PORT_OPEN=${PORT_OPEN:-5555}
PORT_CLOSED=${PORT_CLOSED:-9}
SCAN_REPS=${SCAN_REPS:-3}
RAW_ROUNDS=${RAW_ROUNDS:-7}
RAW_N=${RAW_N:-300000}
RAWSEND_C=${RAWSEND_C:-$REPO/../shared/bench/rawsend.c}
SCAN_LISTENERS=${SCAN_LISTENERS:-"22 80 8080 40000"}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
now_ns() { date +%s%N; }

# ---------------------------------------------------------------- results store
# One "key value" line per result in $WORK/results; missing key = not measured.
put() { echo "$1 $2" >>"$WORK/results"; }
get() { awk -v k="$1" '$1 == k { v = $2 } END { if (v != "") print v; else print "n/a" }' "$WORK/results"; }

# Median of numbers on stdin (one per line).
median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------- installation
APT_UPDATED=
apt_install() {
    have apt-get || return 1
    if [[ -z $APT_UPDATED ]]; then
        apt-get update -qq >/dev/null 2>&1 || true
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

# ensure COMMAND PACKAGE: install PACKAGE when COMMAND is missing; never fatal.
ensure() {
    have "$1" && return 0
    log "installing $2 (for $1)"
    apt_install "$2" || warn "could not install $2; $1 will be reported as not available"
    have "$1"
}

install_deps() {
    [[ ${SKIP_INSTALL:-} == 1 ]] && return 0
    ensure hping3 hping3 || true
    ensure nping nmap || true
    ensure hyperfine hyperfine || true
    ensure nc netcat-openbsd || true
    ensure python3 python3 || true
    ensure gcc gcc || true
    ensure strace strace || true
    ensure unshare util-linux || true
    ensure ip iproute2 || true
    [[ -x /usr/bin/time ]] || apt_install time || warn "no /usr/bin/time: RSS not measured"
    if have python3 && ! python3 -c 'import scapy' 2>/dev/null; then
        log "installing scapy"
        have pip3 || python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip || true
        python3 -m pip install -q scapy 2>/dev/null ||
            python3 -m pip install -q --break-system-packages scapy 2>/dev/null ||
            warn "could not install scapy; scapy will be reported as not available"
    fi
}

build_craft() {
    have cargo || die "cargo not found: install Rust (https://rustup.rs)"
    log "building craft (release) from $CRAFT_SRC"
    (cd "$CRAFT_SRC" && cargo build --release --quiet) || die "cargo build --release failed"
    local target=${CARGO_TARGET_DIR:-$CRAFT_SRC/target}
    CRAFT=$target/release/craft
    [[ -x $CRAFT ]] || die "no binary at $CRAFT"
}

# ---------------------------------------------------------------- offline parts
# 3a. craft's criterion bench; medians of every benchmark into results.
bench_criterion() {
    if [[ ${SKIP_CRITERION:-} == 1 ]]; then
        warn "SKIP_CRITERION=1: using criterion estimates already on disk"
    else
        log "cargo bench --bench wire -- --quick"
        (cd "$CRAFT_SRC" && cargo bench --quiet --bench wire -- --quick >"$WORK/criterion.log" 2>&1) ||
            { warn "cargo bench failed (see $WORK/criterion.log)"; return 0; }
    fi
    local dir=${CARGO_TARGET_DIR:-$CRAFT_SRC/target}/criterion
    # frames/s = 1e9 / median ns per iteration (each iteration is one frame).
    python3 - "$dir" >>"$WORK/results" <<'EOF'
import json, pathlib, sys
for est in pathlib.Path(sys.argv[1]).glob("**/new/estimates.json"):
    meta = json.loads((est.parent / "benchmark.json").read_text())
    ns = json.loads(est.read_text())["median"]["point_estimate"]
    key = (meta["group_id"] + "/" + (meta.get("function_id") or "")).replace(" ", "_")
    print(f"criterion:{key} {1e9 / ns:.0f}")
EOF
}

# 3b. scapy build + serialize rate, median of 3 timed loops.
bench_scapy() {
    python3 -c 'import scapy' 2>/dev/null || { warn "scapy not available"; return 0; }
    log "scapy: bytes(Ether()/IP()/TCP()) x $SCAPY_N, 3 runs"
    local rate
    rate=$(python3 - "$SCAPY_N" <<'EOF' 2>/dev/null
import statistics, sys, time
import logging; logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import Ether, IP, TCP, conf
conf.verb = 0
n = int(sys.argv[1])
def run(n):
    t = time.perf_counter()
    for i in range(n):
        bytes(Ether() / IP(dst="127.0.0.1") / TCP(sport=1024 + (i & 0x7fff), dport=1234, flags="S", seq=i))
    return n / (time.perf_counter() - t)
run(500)  # warm-up: imports, route and MAC caches
print(f"{statistics.median(run(n) for _ in range(3)):.0f}")
EOF
    ) || { warn "scapy run failed"; return 0; }
    put scapy_fps "$rate"
}

compile_c_limit() {
    have gcc || { warn "gcc not available: no C send limit"; return 0; }
    gcc -O2 -o "$WORK/sendmmsg_limit" "$REPO/benches/sendmmsg_limit.c" || warn "sendmmsg_limit.c did not compile"
    if [[ -f $RAWSEND_C ]]; then
        gcc -O2 -o "$WORK/rawsend" "$RAWSEND_C" || warn "$RAWSEND_C did not compile"
    fi
}

# ---------------------------------------------------------------- live parts (inside the netns)
# Kernel TCP OutRsts counter of this namespace (/proc/net/snmp is per netns).
out_rsts() {
    awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutRsts") c = i; h = 1 } else print $c }' /proc/net/snmp
}

wait_listen() {
    local i
    for i in $(seq 50); do
        ss -Hltn "sport = :$1" | grep -q . && return 0
        sleep 0.05
    done
    die "listener on port $1 did not come up"
}

# Median wall ms of each command: hyperfine when present, else our own loop.
# Usage: time_cmds NAME 'CMD' [NAME 'CMD' ...]; stores oneshot_ms_NAME.
time_cmds() {
    local names=() cmds=() i
    while (($#)); do names+=("$1"); cmds+=("$2"); shift 2; done
    if have hyperfine; then
        hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/oneshot.json" \
            "${cmds[@]}" >"$WORK/hyperfine.log" 2>&1 || { cat "$WORK/hyperfine.log" >&2; warn "hyperfine failed"; return 0; }
        python3 - "$WORK/oneshot.json" "${names[@]}" >>"$WORK/results" <<'EOF'
import json, sys
for name, r in zip(sys.argv[2:], json.load(open(sys.argv[1]))["results"]):
    print("oneshot_ms_%s %.2f" % (name, r["median"] * 1e3))
    print("oneshot_stddev_ms_%s %.2f" % (name, r["stddev"] * 1e3))
EOF
    else
        for i in "${!cmds[@]}"; do
            local r t
            for r in $(seq "$RUNS"); do
                t=$(now_ns); bash -c "${cmds[$i]}" >/dev/null 2>&1 || true
                echo $((($(now_ns) - t) / 1000))
            done | median | awk -v n="${names[$i]}" '{ printf "oneshot_ms_%s %.2f\n", n, $1 / 1000 }' >>"$WORK/results"
        done
    fi
}

# 1. One-shot SYN, whole process.
live_oneshot() {
    local P=$PORT_OPEN names=() cmds=()
    # Check each tool really gets its SYN-ACK before timing it.
    "$CRAFT" syn --dport "$P" >"$WORK/check_craft" 2>&1 && names+=(craft) && cmds+=("$CRAFT syn --dport $P") ||
        warn "craft syn got no SYN-ACK: $(cat "$WORK/check_craft")"
    if have hping3; then
        hping3 -c 1 -S -p "$P" 127.0.0.1 >"$WORK/check_hping3" 2>&1 || true
        if grep -q '1 packets received' "$WORK/check_hping3"; then
            names+=(hping3); cmds+=("hping3 -c 1 -S -p $P 127.0.0.1")
        else warn "hping3 got no reply"; fi
    fi
    if have nping; then
        nping --tcp -c 1 -p "$P" --delay 1ms 127.0.0.1 >"$WORK/check_nping" 2>&1 || true
        if grep -q 'Rcvd: 1 ' "$WORK/check_nping"; then
            names+=(nping); cmds+=("nping --tcp -c 1 -p $P --delay 1ms 127.0.0.1")
        else warn "nping got no reply"; fi
    fi
    local args=() i
    for i in "${!names[@]}"; do args+=("${names[$i]}" "${cmds[$i]}"); done
    log "1. one-shot SYN, $RUNS runs each: ${names[*]}"
    if ((${#args[@]})); then time_cmds "${args[@]}"; fi
}

# 2. RTT as reported by each tool (20 probes, 10 ms apart), medians over RTT_REPS.
live_rtt() {
    local P=$PORT_OPEN r
    log "2. RTT: 20 probes x $RTT_REPS runs per tool"
    for r in $(seq "$RTT_REPS"); do
        "$CRAFT" syn --dport "$P" --count 20 --interval 0.01 --json 2>/dev/null | tail -n 1 |
            python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["rtt_avg_us"], s["rtt_min_us"])' || true
    done >"$WORK/rtt_craft"
    if have nping; then
        for r in $(seq "$RTT_REPS"); do
            # "Max rtt: 0.057ms | Min rtt: 0.025ms | Avg rtt: 0.037ms" -> us
            nping --tcp -c 20 -p "$P" --delay 10ms 127.0.0.1 2>/dev/null |
                sed -n 's/.*Min rtt: \([0-9.]*\)ms.*Avg rtt: \([0-9.]*\)ms.*/\2 \1/p' |
                awk '{ print $1 * 1000, $2 * 1000 }' || true
        done >"$WORK/rtt_nping"
    fi
    if have hping3; then
        for r in $(seq "$RTT_REPS"); do
            # "round-trip min/avg/max = 0.8/0.8/0.8 ms" -> us (hping3 prints 0.1 ms resolution)
            hping3 -c 20 -S -p "$P" -i u10000 127.0.0.1 2>&1 |
                sed -n 's#.*min/avg/max = \([0-9.]*\)/\([0-9.]*\)/.*#\2 \1#p' |
                awk '{ print $1 * 1000, $2 * 1000 }' || true
        done >"$WORK/rtt_hping3"
    fi
    local t
    for t in craft nping hping3; do
        [[ -s $WORK/rtt_$t ]] || continue
        put "rtt_avg_us_$t" "$(awk '{ print $1 }' "$WORK/rtt_$t" | median)"
        put "rtt_min_us_$t" "$(awk '{ print $2 }' "$WORK/rtt_$t" | median)"
    done
}

# 5. Peak RSS (kB) of one-shots, median of 5.
live_rss() {
    [[ -x /usr/bin/time ]] || return 0
    local P=$PORT_OPEN name cmd r
    log "5. peak RSS"
    for name in craft hping3 nping; do
        case $name in
        craft) cmd="$CRAFT syn --dport $P" ;;
        hping3) have hping3 || continue; cmd="hping3 -c 1 -S -p $P 127.0.0.1" ;;
        nping) have nping || continue; cmd="nping --tcp -c 1 -p $P --delay 1ms 127.0.0.1" ;;
        esac
        for r in 1 2 3 4 5; do
            # shellcheck disable=SC2086
            /usr/bin/time -v $cmd 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { print $2 }' || true
        done | median | { read -r v; put "rss_kb_$name" "$v"; }
    done
}

# Phases and slowest syscalls of one strace'd run (strace -f -T -tt output in $1):
# start -> first frame sent, -> result printed, -> exit; fds named by socket family.
strace_summary() {
    awk '
    function secs(ts,   a) { split(ts, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
    {
        t = secs($2); if (NR == 1) t0 = t; tend = t
        if (match($0, /socket\((AF_[A-Z0-9]+)/)) { fam = substr($0, RSTART + 7, RLENGTH - 7); if (match($0, /= [0-9]+ </)) fd[substr($0, RSTART + 2, RLENGTH - 4) + 0] = fam }
        if (!tsend && $3 ~ /^(sendto|sendmsg|sendmmsg)\(/ && fd[substr($3, index($3, "(") + 1) + 0] ~ /AF_PACKET|AF_INET/ && $0 !~ /NETLINK/) tsend = t
        if ($3 ~ /^write\([12],/) tout = t
        if (match($0, /<[0-9.]+>$/)) {
            d = substr($0, RSTART + 1, RLENGTH - 2) + 0
            if (d >= 0.0005) { call = $3; for (i = 4; i <= NF && i < 7; i++) call = call " " $i
                if (match(call, /^close\([0-9]+/)) call = call " [" fd[substr(call, 7) + 0] "]"
                slow[++n] = sprintf("%8.3f ms  %s", d * 1000, substr(call, 1, 90)) }
        }
    }
    END {
        printf "whole process %.1f ms: start -> first frame sent %.1f ms, -> last output %.1f ms, -> exit %.1f ms\n",
            (tend - t0) * 1000, (tsend - t0) * 1000, (tout - tsend) * 1000, (tend - tout) * 1000
        for (i = 1; i <= n; i++) print slow[i]
    }' "$1"
}

# Where the time of a one-shot goes (craft and peers): strace phases, perf stat.
live_diagnose() {
    have strace || return 0
    log "diagnostics: strace -T of one one-shot per tool"
    local name cmd
    {
        echo "Where a one-shot's wall time goes (one run each under \`strace -f -T -tt\`, which adds overhead; syscalls ≥ 0.5 ms listed):"
        for name in craft hping3 nping; do
            case $name in
            craft) cmd="$CRAFT syn --dport $PORT_OPEN" ;;
            hping3) have hping3 || continue; cmd="hping3 -c 1 -S -p $PORT_OPEN 127.0.0.1" ;;
            nping) have nping || continue; cmd="nping --tcp -c 1 -p $PORT_OPEN --delay 1ms 127.0.0.1" ;;
            esac
            # shellcheck disable=SC2086
            strace -f -T -tt -o "$WORK/strace_$name.txt" $cmd >/dev/null 2>&1 || true
            echo; echo "$name:"; echo '```'
            strace_summary "$WORK/strace_$name.txt" || true
            echo '```'
        done
    } >"$WORK/diagnose.md"
    if have perf && perf stat -e task-clock true >/dev/null 2>&1; then
        perf stat -r 10 -e task-clock,context-switches,page-faults \
            "$CRAFT" syn --dport "$PORT_OPEN" 2>&1 >/dev/null | grep -E 'task-clock|context|faults|elapsed' |
            sed 's/^ */    /' >"$WORK/perf.txt" || true
        { echo; echo "perf stat -r 10 of craft syn (CPU time vs wall):"; echo '```'; cat "$WORK/perf.txt"; echo '```'; } >>"$WORK/diagnose.md"
    fi
}

# 4. SYN send rate to a closed port (needs route_localnet/accept_local on lo).
live_send_rate() {
    local P=$PORT_CLOSED r t0 t1 r0 n
    sysctl -qw net.ipv4.conf.lo.route_localnet=1 net.ipv4.conf.lo.accept_local=1
    local expr="Ether()/IP(dst=\"127.0.0.1\")/TCP(dport=$P, flags=\"S\")"
    log "4. send rate: craft send --count $SEND_N x $SEND_REPS"
    # Whole process with N frames, and with 1 frame to take out the fixed cost.
    for r in $(seq "$SEND_REPS"); do
        t0=$(now_ns); "$CRAFT" send "$expr" --count 1 >/dev/null 2>&1 || true; t1=$(now_ns)
        echo "one $(((t1 - t0) / 1000))"
        r0=$(out_rsts)
        t0=$(now_ns); "$CRAFT" send "$expr" --count "$SEND_N" --vary tcp.seq=1-1000000 >/dev/null 2>&1 || warn "craft send failed"; t1=$(now_ns)
        echo "many $(((t1 - t0) / 1000)) $(($(out_rsts) - r0))"
    done >"$WORK/send_craft"
    local one many
    one=$(awk '$1 == "one" { print $2 }' "$WORK/send_craft" | median)
    many=$(awk '$1 == "many" { print $2 }' "$WORK/send_craft" | median)
    put send_pps_craft "$(awk -v n="$SEND_N" -v us="$many" 'BEGIN { printf "%.0f", n / us * 1e6 }')"
    put send_pps_marginal_craft "$(awk -v n="$SEND_N" -v a="$many" -v b="$one" 'BEGIN { printf "%.0f", (n - 1) / (a - b) * 1e6 }')"
    put send_rst_frac_craft "$(awk -v n="$SEND_N" '$1 == "many" { f = $3 / n } END { printf "%.2f", f }' "$WORK/send_craft")"

    if [[ -x $WORK/sendmmsg_limit ]]; then
        log "4. send rate: C sendmmsg limit x $SEND_REPS"
        for r in $(seq "$SEND_REPS"); do
            r0=$(out_rsts)
            t0=$(now_ns)
            "$WORK/sendmmsg_limit" "$SEND_N" "$P" lo | sed -n 's/.*pps=\([0-9]*\).*/\1/p' | tr '\n' ' ' || true
            t1=$(now_ns)
            echo "$(((t1 - t0) / 1000)) $(($(out_rsts) - r0))"
        done >"$WORK/send_c"
        put send_pps_c "$(awk -v n="$SEND_N" '{ printf "%.0f\n", n / $2 * 1e6 }' "$WORK/send_c" | median)"
        put send_pps_loop_c "$(awk '{ print $1 }' "$WORK/send_c" | median)"
        put send_rst_frac_c "$(awk -v n="$SEND_N" '{ f = $3 / n } END { printf "%.2f", f }' "$WORK/send_c")"
    fi

    if have hping3; then
        log "4. send rate: hping3 --flood for ${FLOOD_SECS}s x $SEND_REPS"
        for r in $(seq "$SEND_REPS"); do
            r0=$(out_rsts)
            t0=$(now_ns)
            n=$(timeout -s INT "$FLOOD_SECS" hping3 --flood -S -p "$P" 127.0.0.1 2>&1 |
                sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' || true)
            t1=$(now_ns)
            echo "${n:-0} $(((t1 - t0) / 1000)) $(($(out_rsts) - r0))"
        done >"$WORK/send_hping3"
        put send_pps_hping3 "$(awk '{ printf "%.0f\n", $1 / $2 * 1e6 }' "$WORK/send_hping3" | median)"
        put send_rst_frac_hping3 "$(awk '{ f = ($1 ? $3 / $1 : 0) } END { printf "%.2f", f }' "$WORK/send_hping3")"
    fi
    sysctl -qw net.ipv4.conf.lo.route_localnet=0 net.ipv4.conf.lo.accept_local=0
}

# 6. Full SYN scan of 127.0.0.1 (ports 1-65535) with SCAN_LISTENERS nc
#    listeners: craft scan against nmap -sS -p- -n -T4, median wall ms of
#    SCAN_REPS alternating runs; both must find the same open ports.
live_scan() {
    have nmap || { warn "nmap not available: no scan comparison"; return 0; }
    log "SYN scan of 1-65535: craft scan vs nmap -sS -T4, $SCAN_REPS rounds"
    local pids=() p
    for p in $SCAN_LISTENERS; do
        nc -dlk 127.0.0.1 "$p" >/dev/null 2>&1 &
        pids+=($!)
        wait_listen "$p"
    done
    local want craft_ports nmap_ports t0 t1 c=() n=()
    want=$(for p in $PORT_OPEN $SCAN_LISTENERS; do echo "$p"; done | sort -n | tr '\n' ' ')
    for _ in $(seq "$SCAN_REPS"); do
        t0=$(now_ns)
        craft_ports=$("$CRAFT" scan --ports 1-65535 2>/dev/null | awk -F/ '/\/tcp open/ { print $1 }' | sort -n | tr '\n' ' ')
        t1=$(now_ns)
        c+=($(((t1 - t0) / 1000000)))
        t0=$(now_ns)
        nmap_ports=$(nmap -sS -p- -n -T4 127.0.0.1 2>/dev/null | awk -F/ '/\/tcp +open/ { print $1 }' | sort -n | tr '\n' ' ')
        t1=$(now_ns)
        n+=($(((t1 - t0) / 1000000)))
    done
    kill "${pids[@]}" 2>/dev/null || true
    [[ $craft_ports == "$want" ]] || warn "craft scan found '$craft_ports', expected '$want'"
    [[ $nmap_ports == "$want" ]] || warn "nmap found '$nmap_ports', expected '$want'"
    put scan_ms_craft "$(printf '%s\n' "${c[@]}" | median)"
    put scan_ms_nmap "$(printf '%s\n' "${n[@]}" | median)"
    put scan_same_ports "$([[ $craft_ports == "$nmap_ports" ]] && echo yes || echo no)"
}

# 7. Issue 16's measure: 300,000 SYNs, each built by craft (--vary tcp.seq),
#    against the C reference ../shared/bench/rawsend.c (RAWSEND_C) sending
#    prebuilt frames with sendmmsg, batches of 64, PACKET_QDISC_BYPASS; whole
#    process, RAW_ROUNDS alternating rounds, each rate from lo's tx_packets
#    before and after, halved (the kernel answers each SYN with a RST); the
#    median of the paired ratios.
live_send_ceiling() {
    [[ -x $WORK/rawsend ]] || { warn "no rawsend (RAWSEND_C=$RAWSEND_C): no C ceiling ratio"; return 0; }
    sysctl -qw net.ipv4.conf.lo.route_localnet=1 net.ipv4.conf.lo.accept_local=1
    log "7. send ceiling: craft send vs rawsend, $RAW_ROUNDS paired rounds of $RAW_N"
    local tx a b t0 t1 c r
    tx() { awk '/lo:/ { print $11 }' /proc/net/dev; }
    for r in $(seq "$RAW_ROUNDS"); do
        a=$(tx); t0=$(now_ns)
        "$WORK/rawsend" --mode sendmmsg --batch 64 --bypass --count "$RAW_N" --dport "$PORT_CLOSED" >/dev/null 2>&1 || true
        t1=$(now_ns); b=$(tx)
        c=$(awk -v f=$(((b - a) / 2)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", f / ns * 1e9 }')
        a=$(tx); t0=$(now_ns)
        "$CRAFT" send "Ether()/IP(dst=\"127.0.0.1\")/TCP(sport=40000, dport=$PORT_CLOSED, flags=\"S\")" \
            --count "$RAW_N" --vary tcp.seq=1-"$RAW_N" >/dev/null 2>&1 || warn "craft send failed"
        t1=$(now_ns); b=$(tx)
        echo "$c $(awk -v f=$(((b - a) / 2)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", f / ns * 1e9 }')"
    done >"$WORK/send_ceiling"
    put ceiling_pps_c "$(awk '{ print $1 }' "$WORK/send_ceiling" | median)"
    put ceiling_pps_craft "$(awk '{ print $2 }' "$WORK/send_ceiling" | median)"
    put ceiling_ratio "$(awk '{ printf "%.3f\n", $2 / $1 }' "$WORK/send_ceiling" | median)"
    sysctl -qw net.ipv4.conf.lo.route_localnet=0 net.ipv4.conf.lo.accept_local=0
}

# Entry point inside `unshare -n`: a fresh namespace with only lo.
in_netns() {
    ip link set lo up
    nc -dlk 127.0.0.1 "$PORT_OPEN" >/dev/null 2>&1 &
    NC_PID=$!
    trap 'kill "$NC_PID" 2>/dev/null || true' EXIT # also when a step fails
    wait_listen "$PORT_OPEN"
    live_oneshot
    live_rtt
    live_rss
    live_diagnose
    live_send_rate
    live_send_ceiling
    live_scan
}

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else { r = a / b; printf (r >= 100 ? "%.0f" : (r >= 1 ? "%.2f" : "%.3f")), r } }'; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "n/a") print "not available"; else if (v + 0 >= 1000) printf "%\047.0f\n", v; else print v }'; }
# row MEASUREMENT CRAFT_VALUE PEER_NAME PEER_VALUE GOAL
row() {
    local peer
    if [[ $4 == n/a ]]; then peer="$3: not available"; else peer="$3 $(fmt "$4")"; fi
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$(fmt "$2")" "$peer" "$(ratio "$2" "$4")" "$5"
}

craft_version() {
    if (cd "$CRAFT_SRC" && git rev-parse --git-dir >/dev/null 2>&1); then
        (cd "$CRAFT_SRC" && echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+uncommitted changes')")
    else
        echo "built from $CRAFT_SRC"
    fi
}

report() {
    local fresh tmpl emit
    fresh=$(get 'criterion:build+emit_SYN/fresh,_no_options')
    tmpl=$(get 'criterion:build+emit_SYN/template_clone,_20B_options')
    emit=$(get 'criterion:build+emit_SYN/emit_only_(reused_packet)')
    {
        echo "# craft vs peers"
        echo
        echo "$(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs, craft $(craft_version). Produced by \`benches/peers.sh\`; ratios are craft/peer."
        echo
        echo "| measurement | craft | peer | ratio craft/peer | goal |"
        echo "|---|---|---|---|---|"
        row "1. one-shot SYN, whole process, median wall ms ($RUNS runs)" "$(get oneshot_ms_craft)" hping3 "$(get oneshot_ms_hping3)" "≤ 0.5"
        row "1. one-shot SYN, whole process, median wall ms ($RUNS runs)" "$(get oneshot_ms_craft)" nping "$(get oneshot_ms_nping)" ""
        row "2. RTT avg µs (20 probes, median of $RTT_REPS)" "$(get rtt_avg_us_craft)" nping "$(get rtt_avg_us_nping)" "≤ 1"
        row "2. RTT avg µs (20 probes, median of $RTT_REPS)" "$(get rtt_avg_us_craft)" hping3 "$(get rtt_avg_us_hping3)" ""
        row "2. RTT min µs" "$(get rtt_min_us_craft)" nping "$(get rtt_min_us_nping)" ""
        row "3. build+serialize SYN, frames/s (craft: criterion fresh, no options)" "$fresh" scapy "$(get scapy_fps)" "≥ 4000"
        row "4. SYN send rate to closed port, pps (craft send, whole process, N=$SEND_N)" "$(get send_pps_craft)" "C sendmmsg limit" "$(get send_pps_c)" "≥ 0.9"
        row "4. SYN send rate, pps" "$(get send_pps_craft)" "hping3 --flood" "$(get send_pps_hping3)" "≥ 1.5"
        row "5. peak RSS kB, one-shot SYN" "$(get rss_kb_craft)" hping3 "$(get rss_kb_hping3)" "craft ≤ 10 MB"
        row "5. peak RSS kB, one-shot SYN" "$(get rss_kb_craft)" nping "$(get rss_kb_nping)" ""
        row "7. SYN send rate, pps, whole process, median of $RAW_ROUNDS paired rounds (N=$RAW_N)" "$(get ceiling_pps_craft)" "rawsend.c (sendmmsg 64, bypass)" "$(get ceiling_pps_c)" "≥ 0.95"
        row "6. SYN scan 1-65535, median wall ms ($SCAN_REPS rounds)" "$(get scan_ms_craft)" "nmap -sS -T4" "$(get scan_ms_nmap)" "≤ 0.5"
        echo
        echo "Notes"
        echo
        echo "- 1: hyperfine -N, 3 warm-ups; stddev craft $(get oneshot_stddev_ms_craft) ms, hping3 $(get oneshot_stddev_ms_hping3) ms, nping $(get oneshot_stddev_ms_nping) ms. Commands: \`craft syn --dport $PORT_OPEN\`, \`hping3 -c 1 -S -p $PORT_OPEN 127.0.0.1\` (exits on the reply), \`nping --tcp -c 1 -p $PORT_OPEN --delay 1ms 127.0.0.1\` (without --delay nping idles 1 s after its last probe). Target: \`nc -dlk 127.0.0.1 $PORT_OPEN\`. craft here includes preparing lo (the sysctls; a SYN probe needs no RST guard) and undoing it."
        echo "- 2: each tool's own RTT. craft: \`--count 20 --interval 0.01 --json\`; nping \`--delay 10ms\`; hping3 \`-i u10000\` (0.1 ms resolution)."
        echo "- 3: other craft benches: template clone + 20 B options $(fmt "$tmpl") frames/s, emit only $(fmt "$emit") frames/s (\`cargo bench --bench wire -- --quick\`). scapy: \`bytes(Ether()/IP(dst=\"127.0.0.1\")/TCP(sport=.., dport=1234, flags=\"S\", seq=i))\`, $SCAPY_N iterations, median of 3."
        echo "- 4: craft's rate without its fixed start/stop cost ((N-1)/(t(N)-t(1))): $(fmt "$(get send_pps_marginal_craft)") pps; C send loop alone (no process start/exit): $(fmt "$(get send_pps_loop_c)") pps. Frames the kernel answered with a RST (TcpOutRsts delta / frames sent): craft $(get send_rst_frac_craft), C $(get send_rst_frac_c), hping3 $(get send_rst_frac_hping3). hping3: \`timeout -s INT $FLOOD_SECS hping3 --flood -S -p $PORT_CLOSED 127.0.0.1\`, packets transmitted / wall time. route_localnet=1 and accept_local=1 in the namespace for this part."
        echo "- 5: /usr/bin/time -v, median of 5."
        echo "- 7: rates from lo's tx_packets (/proc/net/dev) halved, the kernel answering each SYN with a RST; the median of the paired ratios is $(get ceiling_ratio) (the column is the ratio of medians)."
        echo "- 6: \`craft scan --ports 1-65535\` against \`nmap -sS -p- -n -T4 127.0.0.1\`, alternating, listeners on $PORT_OPEN $SCAN_LISTENERS; same open ports found: $(get scan_same_ports)."
        if [[ -s $WORK/diagnose.md ]]; then echo; cat "$WORK/diagnose.md"; fi
    } >"$WORK/RESULTS.md"
}

main() {
    [[ $EUID -eq 0 ]] || die "run as root (raw sockets and unshare -n)"
    if [[ ${1:-} == --in-netns ]]; then
        WORK=$2 CRAFT=$3
        in_netns
        return
    fi
    install_deps
    have python3 || die "python3 is needed to read the measurements"
    build_craft
    WORK=$(mktemp -d /tmp/craft-peers.XXXXXX)
    trap 'rm -rf "$WORK"' EXIT
    : >"$WORK/results"
    bench_criterion
    bench_scapy
    compile_c_limit
    log "live measurements in a private network namespace"
    unshare -n "${BASH_SOURCE[0]}" --in-netns "$WORK" "$CRAFT"
    report
    cp "$WORK/RESULTS.md" "$REPO/benches/RESULTS.md"
    echo
    cat "$WORK/RESULTS.md"
}

main "$@"
