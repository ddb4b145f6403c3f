#!/usr/bin/env bash
# Builds the files `elastic demo` embeds (demo/assets/) from a trained
# language-model checkpoint. It never trains: give it the checkpoint.
#
#   scripts/make-demo-model.sh CHECKPOINT
#
# The shipped demo model was trained (needs `make data`; about 80 minutes on
# two cores; the best-validation weights go to out/demo-lstm512.best.safetensors)
# with
#
#   elastic lm train --cell lstm --hidden 512 --layers 2 --tied --dropout 0.3 \
#       --epochs 40 --max-minutes 80 --checkpoint-minutes 5 \
#       --out out/demo-lstm512.safetensors
#
# and its assets were made with
#
#   scripts/make-demo-model.sh out/demo-lstm512.best.safetensors
#
# Steps:
#   1. lm export --fp16: float16 weights, the tied table stored once, the
#      training metadata kept; also the vocabulary (vocab.txt, checked against
#      the checkpoint's fingerprint) and the first SAMPLE_TOKENS tokens of the
#      test split as text (sample.txt).
#   2. dmi fit on the float16 model (the little modules are tied to the exact
#      weights they were fitted to): CALIB_TOKENS training tokens, ε = EPS,
#      INT<BITS> weights. For a 512-unit LSTM layer, n = 4·512 = 2048 gate rows
#      and ε = 0.55 give k = 318 < 512 (eq. 3.9), so both projections reduce.
#   3. screen fit --lm on the same model: an INT4 screener of the tied
#      decoder at k/d = SCREEN_K_RATIO, fitted on SCREEN_TOKENS training
#      tokens, without the certified mode's bound (which would add 1.4 MB).
#      Tail shifts for m = 32 … 256 are calibrated on validation tokens (the
#      demo evaluates on the test books).
#   4. Checks the total size against LIMIT_BYTES and runs the demo's tests
#      and a short `elastic demo` on the new assets.
#
# Environment (defaults in brackets): EPS [0.55], BITS [4], CALIB_TOKENS
# [50000], SEED [1], SCREEN_K_RATIO [0.5], SCREEN_TOKENS [40000],
# SAMPLE_TOKENS [5000], DATA [the corpus default, /usr/lib/bible.data],
# ASSETS [demo/assets], LIMIT_BYTES [22000000 = 22 MB], THREADS [0: all cores].
set -euo pipefail

if [ $# -ne 1 ]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
ckpt=$1
[ -f "$ckpt" ] || { echo "make-demo-model: no checkpoint at $ckpt" >&2; exit 1; }

cd "$(dirname "$0")/.."
case $ckpt in /*) ;; *) ckpt=$OLDPWD/$ckpt ;; esac

EPS=${EPS:-0.55}
BITS=${BITS:-4}
SCREEN_K_RATIO=${SCREEN_K_RATIO:-0.5}
SCREEN_TOKENS=${SCREEN_TOKENS:-40000}
CALIB_TOKENS=${CALIB_TOKENS:-50000}
SEED=${SEED:-1}
SAMPLE_TOKENS=${SAMPLE_TOKENS:-5000}
ASSETS=${ASSETS:-demo/assets}
LIMIT_BYTES=${LIMIT_BYTES:-22000000}
THREADS=${THREADS:-0}
data=()
[ -z "${DATA:-}" ] || data=(--data "$DATA")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/elastic" ./cmd/elastic
mkdir -p "$ASSETS"

set -x
"$tmp/elastic" lm export --model "$ckpt" --out "$ASSETS/model.safetensors" --fp16 \
  --vocab "$ASSETS/vocab.txt" --sample "$ASSETS/sample.txt" --sample-tokens "$SAMPLE_TOKENS" "${data[@]}"
"$tmp/elastic" dmi fit --model "$ASSETS/model.safetensors" --out "$ASSETS/little.safetensors" \
  --eps "$EPS" --bits "$BITS" --calib-tokens "$CALIB_TOKENS" --seed "$SEED" --threads "$THREADS" "${data[@]}"
"$tmp/elastic" screen fit --lm --classifier "$ASSETS/model.safetensors" --out "$ASSETS/screener.safetensors" \
  --bits 4 --k-ratio "$SCREEN_K_RATIO" --tokens "$SCREEN_TOKENS" --no-bound --tail-m 32,64,128,256 \
  --seed "$SEED" --threads "$THREADS" "${data[@]}"
{ set +x; } 2>/dev/null

total=0
for f in model.safetensors little.safetensors screener.safetensors vocab.txt sample.txt; do
  n=$(stat -c %s "$ASSETS/$f")
  printf '%10d  %s\n' "$n" "$ASSETS/$f"
  total=$((total + n))
done
printf '%10d  total (limit %d)\n' "$total" "$LIMIT_BYTES"
if [ "$total" -gt "$LIMIT_BYTES" ]; then
  echo "make-demo-model: the assets exceed $LIMIT_BYTES bytes; try a larger EPS or a smaller SCREEN_K_RATIO" >&2
  exit 1
fi

if [ "$ASSETS" != demo/assets ]; then
  echo "make-demo-model: assets written to $ASSETS, not embedded; skipping the checks"
  exit 0
fi
# The binary embeds the assets: rebuild, then check them end to end.
go test -count=1 ./demo ./cmd/elastic
go run ./cmd/elastic demo --tokens 300 --plot "" --threads "$THREADS"
