"""The Parisi function of every point of an RSB sweep, as a long table.

For a model with a ``ParisiLadder`` the sweep writes, beside ``x.csv``,
``x.parisi.csv``: one row per rung of every converged point, with the
point's controls, the rung i, its overlap q_i, the step of x(q) above it
(x_{i+1}; ``y`` in the jamming limit) and the weight of P(q) at q_i:

    q(x) = q_i for x_i < x < x_{i+1},
    P(q) = x_1 delta(q - q_0) + sum_i (x_{i+1} - x_i) delta(q - q_i) + (1 - x_k) delta(q - q_k).

A point whose ladder is collapsed (replica symmetric) has one row, weight 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..compile import CompiledProblem

PARISI_SUFFIX = ".parisi.csv"


def parisi_path(csv_path: str | Path) -> Path:
    """``results/x.csv`` -> ``results/x.parisi.csv``."""
    path = Path(csv_path)
    return path.with_name(path.stem + PARISI_SUFFIX)


def parisi_rungs(problem: CompiledProblem, params: dict, values: dict) -> list[dict] | None:
    """The rungs (rung, q, x, weight) of one converged point given by its order-parameter ``values``.

    None if the point has no values; one rung of weight 1 if its ladder is collapsed.
    """
    lad = problem.ladder
    names = problem.free_energy.order_parameter_names
    if any(values.get(n) is None and n not in lad.undetermined for n in names):
        return None
    params = {c: float(params[c]) for c in problem.free_energy.control_names}
    theta = np.array([np.nan if values.get(n) is None else float(values[n]) for n in names])
    if lad.rs is not None and lad.is_collapsed(theta, params):
        q = lad.parisi_function(np.nan_to_num(theta, nan=0.5), params).qs[0]
        return [{"rung": 0, "q": float(q), lad.x_name: None, "weight": 1.0}]
    return lad.parisi_function(theta, params).rows()


def parisi_table(problem: CompiledProblem, controls: list[str], rows: list[dict]) -> tuple[list[str], list[dict]]:
    """(columns, rows) of the long table of the Parisi functions of the converged ``rows``."""
    columns = [*controls, "rung", "q", problem.ladder.x_name, "weight"]
    out: list[dict] = []
    for row in rows:
        rungs = parisi_rungs(problem, row, row) if row.get("converged") else None
        out += [{**{c: row[c] for c in controls}, **rung} for rung in rungs or []]
    return columns, out
