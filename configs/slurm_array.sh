#!/bin/bash
# A sweep as a SLURM job array: each array task runs one shard of the grid
# (a set of whole continuation chains) and writes its own files; a last job
# merges them.
#
#   sbatch --array=0-9 configs/slurm_array.sh configs/spherical_rs.yaml results/spherical_rs.csv
#   # -> results/spherical_rs.shard-<i>-of-10.csv (+ .json), one per task
#   sbatch --dependency=afterany:<array job id> --wrap \
#       "replica merge results/spherical_rs.shard-*-of-10.csv -o results/spherical_rs.csv"
#
# The number of shards is the size of the array (SLURM_ARRAY_TASK_COUNT); the
# task's shard is SLURM_ARRAY_TASK_ID (--shard auto/N). --jobs uses the cores
# SLURM gave the task. --resume makes a requeued or re-submitted task keep
# the points it had finished. The compiled model is cached on disk
# (REPLICA_CACHE_DIR, here on the shared file system), so the tasks do not
# each derive it again.
#
#SBATCH --job-name=replica-sweep
#SBATCH --cpus-per-task=2
#SBATCH --time=01:00:00
#SBATCH --output=replica-sweep-%A_%a.log
#SBATCH --requeue
set -euo pipefail

config=${1:?usage: sbatch --array=0-N configs/slurm_array.sh CONFIG.yaml OUTPUT.csv}
output=${2:?usage: sbatch --array=0-N configs/slurm_array.sh CONFIG.yaml OUTPUT.csv}
shards=${SLURM_ARRAY_TASK_COUNT:?not in a job array: submit with sbatch --array=0-N}
export REPLICA_CACHE_DIR=${REPLICA_CACHE_DIR:-$PWD/.replica-cache}

replica sweep "$config" -o "$output" --shard "auto/$shards" --jobs "${SLURM_CPUS_PER_TASK:-1}" --resume
