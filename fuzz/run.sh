#!/bin/sh
# Runs every fuzz target for N seconds each (default 60), one after another.
#   fuzz/run.sh            # CI: a minute per target
#   fuzz/run.sh 3600       # by hand: an hour per target
# Exits non-zero on the first target that finds a crash; the input is saved
# under fuzz/artifacts/<target>/ (replay: fuzz/run.sh is not needed, see README.md).
set -eu
secs=${1:-60}
cd "$(dirname "$0")"

# libFuzzer needs a nightly compiler: use one if rustup has it, otherwise let
# the stable one accept nightly flags.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz="cargo +nightly fuzz"
else
    export RUSTC_BOOTSTRAP=1
    fuzz="cargo fuzz"
fi
command -v cargo-fuzz >/dev/null || { echo "run.sh: cargo install cargo-fuzz" >&2; exit 2; }

# -s none: no sanitizer (the fuzzed code is safe Rust; ~4x faster than ASan).
# -a: debug assertions, so integer overflow panics as it does in `cargo test`.
opts="-O -a -s none"
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
for t in decode pcap lang filter shell drill; do
    extra=""
    case $t in
        decode) extra="-max_len=1600" ;;   # an Ethernet frame and then some
        lang) extra="-timeout=10" ;;
    esac
    echo "== $t: $secs s"
    # shellcheck disable=SC2086
    $fuzz run $opts "$t" -- -max_total_time="$secs" -print_final_stats=1 $extra 2>&1 |
        grep -E '^(stat::|Done|==[0-9]+==|thread|SUMMARY|Test unit|artifact_prefix|.*panicked)' || true
    # grep hides libFuzzer's chatter; the pipeline's status is grep's, so look
    # for an input saved during this run instead.
    found=$(find "artifacts/$t" -type f -newer "$stamp" 2>/dev/null || true)
    if [ -n "$found" ]; then
        echo "== $t: found a failing input: $found" >&2
        exit 1
    fi
done
echo "== all targets ran ${secs}s without a failure"
