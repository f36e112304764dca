#!/usr/bin/env bash
# End-to-end wall times: `make demo` from a clean results folder, and the full NeuroLIP 5-fold training on
# real ABIDE (needs NILEARN_DATA pointing at a cache that holds ABIDE_pcp; skipped otherwise).
#   bash benchmarks/end_to_end.sh            # both
#   SKIP_DEMO=1 bash benchmarks/end_to_end.sh  # ABIDE only
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo)"
if [ -z "${SKIP_DEMO:-}" ]; then
  rm -rf results/simulated results/report.html
  start=$(date +%s)
  make demo >/tmp/neurolip-demo.log 2>&1
  echo "make demo: $(( $(date +%s) - start )) s (log: /tmp/neurolip-demo.log)"
fi
if [ -n "${NILEARN_DATA:-}" ] && [ -d "${NILEARN_DATA}/ABIDE_pcp" ]; then
  out=$(mktemp -d)
  start=$(date +%s)
  .venv/bin/snakemake "${out}/abide/data/text_features.safetensors" "${out}/abide/data/folds.tsv" \
    --cores "$(nproc)" -q --configfile config/abide.yaml --config "results_dir=${out}" >/dev/null
  echo "ABIDE data stage + text features: $(( $(date +%s) - start )) s"
  start=$(date +%s)
  /usr/bin/time -f "peak memory of the largest process: %M KB" .venv/bin/snakemake \
    $(for f in 0 1 2 3 4; do echo "${out}/abide/predictions/neurolip/fold${f}.csv"; done) \
    --cores "$(nproc)" -q --configfile config/abide.yaml --config "results_dir=${out}" 2>&1 >/dev/null | tail -1
  echo "NeuroLIP, 5 folds of real ABIDE: $(( $(date +%s) - start )) s"
  rm -rf "${out}"
fi
