"""Many points: sweeps (chains, shards, executors, resume), transition lines, the result store, merges and plots."""

from .grid import shard_path
from .merge import merge_shards
from .store import atomic_write, read_table, sidecar_path, write_results
from .sweep import Table, run_sweep, transition_lines

__all__ = [
    "Table",
    "atomic_write",
    "merge_shards",
    "read_table",
    "run_sweep",
    "shard_path",
    "sidecar_path",
    "transition_lines",
    "write_results",
]
