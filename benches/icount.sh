#!/bin/bash
# prints per-iteration instruction counts for each mode
cd "$(dirname "$0")/.." && cargo build --release --example wire_icount -q || exit 1
bin=${CARGO_TARGET_DIR:-target}/release/examples/wire_icount
for m in emit clone decode view view6; do
  a=$(valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null $bin $m 0 2>&1 | grep 'I *refs' | tr -d ',' | awk '{print $NF}')
  b=$(valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null $bin $m 100000 2>&1 | grep 'I *refs' | tr -d ',' | awk '{print $NF}')
  echo "$m: $(( (b - a) / 100000 )).$(( ((b - a) % 100000) / 1000 )) instructions/iter"
done
