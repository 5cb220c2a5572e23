#!/bin/sh
# libFuzzer run of the .ehm model loader + interpreter (firmware/model/fuzz_model_load.c) with
# ASan and UBSan. Usage: bench/fuzz/run.sh [RUNS] [WORKDIR]   (default 1000000 runs, /tmp/ehm-fuzz)
# Needs clang (apt-get install clang). Exits non-zero on any crash, leak or sanitizer report.
set -eu
RUNS=${1:-1000000}
WORK=${2:-/tmp/ehm-fuzz}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-clang}
mkdir -p "$WORK/corpus"
python3 "$ROOT/bench/fuzz/make_corpus.py" "$WORK/seeds" 64
$CC -g -O1 -std=c99 -ffp-contract=off -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I "$ROOT/firmware/model" -I "$ROOT/kernels_c/include" -I "$ROOT/kernels_c/src" \
    "$ROOT/firmware/model/fuzz_model_load.c" "$ROOT/firmware/model/eh_model.c" \
    "$ROOT"/kernels_c/src/common/*.c "$ROOT"/kernels_c/src/lif/*.c "$ROOT"/kernels_c/src/basic/*.c "$ROOT"/kernels_c/src/binary/*.c "$ROOT"/kernels_c/src/lmu/*.c "$ROOT"/kernels_c/src/mst/*.c "$ROOT"/kernels_c/src/shiftadd/*.c \
    -o "$WORK/fuzz_model_load"
cd "$WORK"
start=$(date +%s)
./fuzz_model_load -runs="$RUNS" -max_len=8192 -print_final_stats=1 corpus seeds 2>&1 | tee fuzz.log | tail -n 25
end=$(date +%s)
echo "runs=$RUNS wall_seconds=$((end - start)) log=$WORK/fuzz.log"
