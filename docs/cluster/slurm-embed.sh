#!/bin/bash
# Slurm array job: N shards of `milpf embed`, one GPU each.
#   export SHARDS=8; jid=$(sbatch --parsable --array=0-$((SHARDS-1)) docs/cluster/slurm-embed.sh)
#   sbatch --dependency=afterok:$jid --wrap "node bin/milpf.js embed merge $(seq -f /work/embeddings/shard-%g 0 $((SHARDS-1))) --out /work/embeddings/merged"
# (sbatch passes the exported SHARDS to every task, so the array and the shard count agree.)
# (bash does not expand {0..$((N-1))}: brace expansion comes before arithmetic, hence seq.)
# The merge refuses a set with a shard missing (a failed task) unless --allow-partial.
# A requeued / re-submitted task resumes from its chunk files.
#SBATCH --job-name=milpf-embed
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=12:00:00
#SBATCH --requeue
#SBATCH --output=logs/embed-%A_%a.out
set -euo pipefail
N=${SHARDS:-8}                      # must match the --array range (0-based: --array=0-(N-1))
cd "${MILPF_DIR:-/work/milpf}"
node bin/milpf.js embed \
  --manifest /work/tiles/manifest.json \
  --encoder /work/models/dinov2-g14-518 \
  --provider cuda --batch 32 --dtype float16 \
  --shard-count "$N" \
  --out "/work/embeddings/shard-${SLURM_ARRAY_TASK_ID}" \
  --no-progress
