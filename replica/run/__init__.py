"""Many points: sweeps, transition lines, the result store and plots."""

from .store import atomic_write, read_table, sidecar_path, write_results
from .sweep import Table, run_sweep, transition_lines

__all__ = ["Table", "atomic_write", "read_table", "run_sweep", "sidecar_path", "transition_lines", "write_results"]
