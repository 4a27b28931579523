#!/usr/bin/env bash
# The supervised long-tailed method table of the README: every method on the embedded
# Fashion-MNIST-LT (γ = 100, cnn-small) on one schedule (pipelines/supervised.yaml), seed 0, then
# the decoupled stage 2s on the CE run. Prints the markdown table (examples/long-tailed-table.mjs).
# Usage: examples/long-tailed-table.sh [out-dir]   (about 2 hours on a 2-core machine; finished runs are skipped)
set -euo pipefail
out=${1:-runs/long-tailed-table}
ssl="node $(dirname "$0")/../bin/ssl.js"
run() { local id=$1; shift; [ -f "$out/$id/summary.json" ] || $ssl run "$@" --gamma-l 100 --out-dir "$out" --run-id "$id" --progress lines; }
run ce supervised --loss ce
run cb-focal supervised --loss cb-focal
run ldam-drw supervised --loss ldam --drw
run balanced-softmax supervised --loss balanced-softmax
run la-loss supervised --loss la-loss
run lade supervised --loss lade
for c in crt tau-norm lws ncm; do
  [ -f "$out/$c/summary.json" ] || $ssl run decoupled --stage1 "$out/ce" --classifier "$c" --out-dir "$out" --run-id "$c" --progress lines
done
run bbn bbn
run remix supervised --remix
node "$(dirname "$0")/long-tailed-table.mjs" "$out"
