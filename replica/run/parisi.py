"""The Parisi function of every point of an RSB sweep, as a long table.

For a model with a ``ParisiLadder`` the sweep writes, beside ``x.csv``,
``x.parisi.csv``: one row per rung of every converged point, with the
point's controls, the rung i, its overlap q_i, the step of x(q) above it
(x_{i+1}; ``y`` in the jamming limit) and the weight of P(q) at q_i:

    q(x) = q_i for x_i < x < x_{i+1},
    P(q) = x_1 delta(q - q_0) + sum_i (x_{i+1} - x_i) delta(q - q_i) + (1 - x_k) delta(q - q_k).

A point whose ladder is collapsed (replica symmetric) has one row, weight 1.

For a layered RSB ansatz (``FreeEnergy.layer_ladders``: the deep network) the table is keyed
by layer instead: one row per layer l and level i of every converged point, with the point's
controls, x_i and x_{i+1} (the level holds for x_i < x < x_{i+1}) and the value of every
Parisi function of that layer there (q(x, l), Q(x, l); clamped layers are constant ladders).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sympy as sp

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


def layer_table(problem: CompiledProblem, controls: list[str], rows: list[dict]) -> tuple[list[str], list[dict]]:
    """(columns, rows) of the long table q(x, l) of a layered RSB ansatz (module docstring)."""
    fe = problem.free_energy
    lad = fe.layer_ladders
    names = sorted(lad.ladders)
    layers = sorted({layer for ladders in lad.ladders.values() for layer in ladders})
    symbols = fe.theta
    exprs = [sp.Tuple(*lad.xs)] + [
        sp.Tuple(*lad.ladders[n][layer]) for n in names for layer in layers if layer in lad.ladders[n]
    ]
    evaluate = sp.lambdify(symbols, exprs, modules="numpy")
    columns = [*controls, "layer", "rung", "x_from", "x_to", *names]
    out: list[dict] = []
    for row in rows:
        if not row.get("converged"):
            continue
        theta = [0.0 if row.get(n) is None else float(row[n]) for n in fe.order_parameter_names]
        values = iter(evaluate(*theta))
        xs = [0.0, *(float(x) for x in next(values)), 1.0]
        levels = {(n, layer): next(values) for n in names for layer in layers if layer in lad.ladders[n]}
        for layer in layers:
            for i in range(len(xs) - 1):
                level = {n: (float(levels[n, layer][i]) if (n, layer) in levels else None) for n in names}
                out.append(
                    {
                        **{c: row[c] for c in controls},
                        "layer": layer,
                        "rung": i,
                        "x_from": xs[i],
                        "x_to": xs[i + 1],
                        **level,
                    }
                )
    return columns, out
