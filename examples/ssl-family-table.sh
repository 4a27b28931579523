#!/usr/bin/env bash
# The README's imbalanced-SSL table: FixMatch and its "+method" variants, ReMixMatch (+DASO) and
# FlexMatch on the embedded Fashion-MNIST-LT, γ_l = 100, γ_u ∈ {100, 1, 1/100}, seed 0, one short
# schedule shared by every row (pipelines/fixmatch.yaml cut to $ITERS steps; DASO's warm-up kept
# at 10% of it). Prints the markdown table (examples/ssl-family-table.mjs).
# Usage: examples/ssl-family-table.sh [out-dir]   (finished runs are skipped; a killed one resumes)
set -euo pipefail
out=${1:-runs/ssl-family-table}
ITERS=${ITERS:-500}
ssl="node $(dirname "$0")/../bin/ssl.js"
short=(--iterations "$ITERS" --eval-every $((ITERS / 20)) --checkpoint-every $((ITERS / 5)) --pl-window $((ITERS / 20)) --gamma-l 100 --progress none)
warm=(--daso-warmup $((ITERS / 10)))
run() {
  local id=$1; shift
  if [ -f "$out/$id/summary.json" ]; then return; fi
  if [ -f "$out/$id/checkpoint.json" ] || [ -d "$out/$id/checkpoint" ]; then $ssl run --resume "$out/$id"; return; fi
  echo "== $id" >&2
  $ssl run "$@" "${short[@]}" --out-dir "$out" --run-id "$id"
}
for gu in 100 1 0.01; do
  run "fixmatch-gu$gu" fixmatch --gamma-u "$gu"
  run "fixmatch-daso-gu$gu" fixmatch --with daso "${warm[@]}" --gamma-u "$gu"
  run "fixmatch-daso-la-gu$gu" fixmatch --with daso --with la "${warm[@]}" --gamma-u "$gu"
  run "fixmatch-abc-gu$gu" fixmatch --with abc --gamma-u "$gu"
  run "fixmatch-darp-gu$gu" fixmatch --with darp --gamma-u "$gu"
  run "fixmatch-crest-gu$gu" fixmatch --with crest --gamma-u "$gu"
  run "remixmatch-gu$gu" remixmatch --gamma-u "$gu"
  run "remixmatch-daso-gu$gu" remixmatch --with daso "${warm[@]}" --gamma-u "$gu"
  run "flexmatch-gu$gu" flexmatch --gamma-u "$gu"
done
node "$(dirname "$0")/ssl-family-table.mjs" "$out"
