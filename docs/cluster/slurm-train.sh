#!/bin/bash
# Slurm array job: the head grid (9 configurations x 36 seeds) in N shards of `milpf train`, CPU only.
# The seeds are cut into N units of SEEDS/N consecutive seeds (rounded up); task K trains unit K,
# every configuration of its seeds together. Then a merge writes the outputs of one run.
#   export SHARDS=6 SEEDS=36; jid=$(sbatch --parsable --array=0-$((SHARDS-1)) docs/cluster/slurm-train.sh)
#   sbatch --dependency=afterok:$jid --wrap "node bin/milpf.js train --store /work/embeddings/merged --seeds $SEEDS --seeds-per-unit $(( (SEEDS + SHARDS - 1) / SHARDS )) --merge-units $(seq -s, -f /work/train-shards/shard-%g 0 $((SHARDS-1))) --out /work/train --no-progress"
# The merge needs the store and settings of the tasks (--seeds, --seeds-per-unit, --configs, ...):
# a unit trained with other settings is refused, and so is a missing unit (a failed task), by name.
# A requeued / re-submitted task resumes from its finished units.
#SBATCH --job-name=milpf-train
#SBATCH --cpus-per-task=16
#SBATCH --mem=32G
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --output=logs/train-%A_%a.out
set -euo pipefail
N=${SHARDS:-6}                      # must match the --array range (0-based: --array=0-(N-1))
SEEDS=${SEEDS:-36}                  # seeds per configuration (the paper: 36)
cd "${MILPF_DIR:-/work/milpf}"
node bin/milpf.js train \
  --store /work/embeddings/merged \
  --seeds "$SEEDS" --seeds-per-unit $(( (SEEDS + N - 1) / N )) \
  --shard-count "$N" \
  --out "/work/train-shards/shard-${SLURM_ARRAY_TASK_ID}" \
  --no-progress
