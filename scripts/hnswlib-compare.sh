#!/usr/bin/env bash
# Issue 16: our HNSW against hnswlib (C++, Debian libhnswlib-dev) on the same
# data — a 100,000 × 512 classifier from screen/synth (seed 1), 1,000 inputs,
# bias folded as the last coordinate, M 16, efConstruction 100 — per ef the
# median ms per query (one thread, warm) and top-1 agreement, inner-product
# graph and IPPT (the Euclidean reduction), on this CPU's best kernels and on
# AVX2 (GODEBUG=cpu.avx512f=off; g++ -mno-avx512f).
#
#   scripts/hnswlib-compare.sh [DIR]      (default DIR /tmp/hnsw-compare)
#
# Graphs are cached in DIR; the first run builds four (a few minutes).
# Time nothing else meanwhile.
set -euo pipefail
dir=${1:-/tmp/hnsw-compare}
cd "$(dirname "$0")/.."
if [ ! -f /usr/include/hnswlib/hnswlib.h ] || ! command -v g++ >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq --no-install-recommends libhnswlib-dev g++
fi
mkdir -p "$dir"
g++ -O3 -march=native -std=c++17 -pthread -o "$dir/driver" scripts/hnswlib/driver.cpp
g++ -O3 -march=native -mno-avx512f -std=c++17 -pthread -o "$dir/driver-avx2" scripts/hnswlib/driver.cpp
go test -c -o "$dir/hnsw.test" ./baseline/hnsw
for isa in native avx2; do
  g=""; drv=driver
  if [ $isa = avx2 ]; then g=cpu.avx512f=off; drv=driver-avx2; fi
  echo "== $isa: ours"
  GODEBUG=$g ELASTIC_HNSW_DIR=$dir "$dir/hnsw.test" -test.run '^$' -test.bench QueryEf -test.benchtime 1x | grep Query
  echo "== $isa: hnswlib"
  "$dir/$drv" "$dir"
  "$dir/$drv" "$dir" ippt
done
