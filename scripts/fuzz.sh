#!/bin/sh
# Runs the libFuzzer targets (tests/fuzz/fuzz-*.c) with AddressSanitizer and
# UndefinedBehaviorSanitizer, one after the other, each for SECONDS (default 300).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. sh scripts/fuzz.sh 60 sdp rtcp
#   RUNS=10000000 scripts/fuzz.sh 3600 twcc   a target also stops after RUNS executions
#
# Builds in build-fuzz (clang, -Dfuzzing=true). Each target fuzzes a working corpus in
# build-fuzz/fuzz/corpus/TARGET (kept between runs) together with the committed seeds in
# tests/fuzz/corpus/TARGET; afterwards the inputs that reach code the seeds do not are merged
# into tests/fuzz/corpus/TARGET (libFuzzer -merge=1, so only a minimal set is added). A crash,
# leak or timeout input goes to build-fuzz/fuzz/crashes/TARGET/. Prints the executions per target
# and in total; exits non-zero if a target failed. Runs under nice: fuzzing takes one core.
set -u
cd "$(dirname "$0")/.."

seconds=${1:-300}
[ $# -gt 0 ] && shift
targets=${*:-sdp rtp rtcp message token record audit peer config webpath forwarded twcc}
build=build-fuzz
out=$build/fuzz

# Inputs longer than any real one only slow the fuzzer down: a datagram fits one MTU; an SDP
# offer from a browser is under 16 KiB (the parser's 64 KiB cap is in the seeds).
max_len() {
  case $1 in
    rtp | rtcp) echo 1500 ;;
    sdp) echo 16384 ;;
    message) echo 8192 ;;
    peer) echo 4096 ;;   # a hearing's worth of operations
    webpath) echo 512 ;; # longer request paths are refused by their length alone
    forwarded) echo 8192 ;; # headers over 4 KiB are ignored by their length alone
    twcc) echo 2048 ;; # 511 arrivals: eight feedback windows; an RTCP packet fits one MTU
    *) echo 0 ;; # libFuzzer's default: the largest seed, at least 4096 bytes
  esac
}

# ASan keeps freed memory out of use (its quarantine, 256 MiB by default) to catch a use after
# free. An input of the peer target opens four SRTP sessions and libsrtp's NSS backend allocates
# for every packet; cycling through fresh quarantined pages took twice the time of the input
# itself. 1 MiB still holds what thousands of blocks freed, far more than a connection's
# lifetime inside one input. It also records two frames of each allocation's stack, not 30:
# reproduce a report with the binary alone (default options) for the whole stacks.
asan_options() {
  case $1 in
    peer) echo detect_leaks=1:quarantine_size_mb=1:malloc_context_size=2 ;;
    *) echo detect_leaks=1 ;;
  esac
}

# libFuzzer's entropic schedule counts every feature an input reaches; the peer target reaches
# about 16,000, and the counting took over a quarter of its time: it runs the plain schedule.
fuzzer_options() {
  case $1 in
    peer) echo -entropic=0 ;;
    *) echo ;;
  esac
}

if [ ! -d $build ]; then
  CC=clang meson setup $build -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
    >/dev/null || exit 1
fi
binaries=""
for t in $targets; do
  binaries="$binaries tests/fuzz/fuzz-$t"
done
ninja -C $build $binaries >/dev/null || { echo "fuzz build failed"; exit 1; }

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
total=0
report=""
for t in $targets; do
  seeds=tests/fuzz/corpus/$t
  mkdir -p $out/corpus/$t $out/crashes/$t
  log=$out/$t.log
  dict=""
  [ -f tests/fuzz/$t.dict ] && dict=-dict=tests/fuzz/$t.dict
  echo "fuzz-$t: ${seconds} s, log $log"
  ASAN_OPTIONS=$(asan_options "$t")
  export ASAN_OPTIONS
  # shellcheck disable=SC2046 # fuzzer_options: no option or one word
  timeout $((seconds + 120)) nice -n 10 $build/tests/fuzz/fuzz-$t $dict $(fuzzer_options $t) \
    -max_len="$(max_len $t)" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$out/crashes/$t/ \
    -max_total_time="$seconds" -runs="${RUNS:--1}" $out/corpus/$t $seeds >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  result=ok
  if [ $rc -ne 0 ]; then
    result="FAILED (exit $rc): $(grep -m1 -E '^(==[0-9]+== ?ERROR|SUMMARY)' "$log")"
    result="$result; input in $out/crashes/$t/"
    status=1
  fi
  # Inputs that reach new edges go into the committed seeds (edges only, not hit counts, so
  # few are added); a failed run's corpus is merged too (the input that failed is not in it).
  timeout 600 nice -n 10 $build/tests/fuzz/fuzz-$t -merge=1 -use_counters=0 -timeout=10 \
    $seeds $out/corpus/$t \
    >"$out/$t-merge.log" 2>&1 ||
    { result="$result; merge failed, see $out/$t-merge.log"; status=1; }
  total=$((total + ${runs:-0}))
  report="$report$(printf '%-8s %12s executions %8s/s  %s' "$t" "${runs:-?}" "${rate:-?}" "$result")
"
done
printf '%s' "$report"
printf '%-8s %12s executions\n' total "$total"
if ls $out/crashes/*/* >/dev/null 2>&1; then
  echo "inputs that crashed, leaked or timed out (kept until removed):"
  ls $out/crashes/*/*
fi
exit $status
