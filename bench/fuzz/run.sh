#!/bin/sh
# libFuzzer runs with ASan and UBSan of
#   model: the .ehm model loader + interpreter (firmware/model/fuzz_model_load.c)
#   frame: the device side of the link: COBS, header and CRC checks, every command's payload
#          parser, the model behind them (firmware/protocol/fuzz_frame.c over firmware/runtime)
# Usage: bench/fuzz/run.sh [RUNS] [WORKDIR]   (default 1000000 runs each, /tmp/ehm-fuzz)
#        FUZZERS="frame" bench/fuzz/run.sh ...  runs only those (default "model frame").
# Needs clang with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev; scripts/setup.sh).
# Exits non-zero on any crash, leak or sanitizer report.
set -eu
RUNS=${1:-1000000}
WORK=${2:-/tmp/ehm-fuzz}
FUZZERS=${FUZZERS:-model frame}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-clang}
# the model's sources: every C file of firmware/model and firmware/model/ops, less tools and fuzzers
MODEL_SRC=$(ls "$ROOT"/firmware/model/*.c "$ROOT"/firmware/model/ops/*.c 2>/dev/null | grep -v -e '_tool\.c$' -e '/fuzz_[^/]*\.c$')
KERNEL_SRC=$(ls "$ROOT"/kernels_c/src/*/*.c)
CFLAGS="-g -O1 -std=c99 -ffp-contract=off -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
INC="-I $ROOT/firmware/model -I $ROOT/firmware/model/ops -I $ROOT/kernels_c/include -I $ROOT/kernels_c/src"
start=$(date +%s)
for F in $FUZZERS; do
  mkdir -p "$WORK/$F/corpus"
  case $F in
    model)
      python3 "$ROOT/bench/fuzz/make_corpus.py" "$WORK/$F/seeds" 64
      # shellcheck disable=SC2086
      $CC $CFLAGS $INC "$ROOT/firmware/model/fuzz_model_load.c" $MODEL_SRC $KERNEL_SRC -o "$WORK/$F/fuzz"
      ARGS="-max_len=8192" ;;
    frame)
      python3 "$ROOT/bench/fuzz/make_corpus.py" --frame "$WORK/$F/seeds" 64
      # shellcheck disable=SC2086
      # no comparison tracing: the target builds every CRC itself, and the byte-level loops
      # (COBS, CRC) would spend most of the time in the comparison hooks
      $CC $CFLAGS -fno-sanitize-coverage=trace-cmp $INC -I "$ROOT/firmware/protocol" -I "$ROOT/firmware/runtime" -I "$ROOT/firmware/hal" \
          "$ROOT/firmware/protocol/fuzz_frame.c" "$ROOT/firmware/protocol/eh_proto.c" \
          "$ROOT/firmware/runtime/eh_runtime.c" $MODEL_SRC $KERNEL_SRC -o "$WORK/$F/fuzz"
      ARGS="-max_len=8192" ;;
    *) echo "unknown fuzzer $F (model, frame)" >&2; exit 2 ;;
  esac
  t0=$(date +%s)
  # shellcheck disable=SC2086
  (cd "$WORK/$F" && ./fuzz -runs="$RUNS" $ARGS -print_final_stats=1 corpus seeds > fuzz.log 2>&1) || {
    tail -n 40 "$WORK/$F/fuzz.log"; echo "fuzzer $F FAILED (log $WORK/$F/fuzz.log)"; exit 1; }
  tail -n 12 "$WORK/$F/fuzz.log"
  echo "fuzzer=$F runs=$RUNS wall_seconds=$(($(date +%s) - t0)) log=$WORK/$F/fuzz.log"
done
echo "all fuzzers passed: $FUZZERS, runs=$RUNS each, wall_seconds=$(($(date +%s) - start))"
