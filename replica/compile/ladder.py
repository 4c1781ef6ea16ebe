"""The numeric side of a ParisiLadder declaration: q(x), P(q), collapse, opening.

A ``ParisiLadder`` (symbolic/free_energy.py) says how an RSB ansatz's order
parameters make its Parisi function, which ansatz it reduces to when the
ladder collapses, and how a ladder is opened around that reduction. This
module lowers those expressions (no averages in them: plain ``lambdify``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp

from ..symbolic import OPEN_AT, OPEN_WIDTH, OPEN_X, FreeEnergy

COLLAPSED = 1e-10  # a ladder whose width q_k - q_0 is below this is replica symmetric


@dataclass
class ParisiFunction:
    """One point's Parisi function: the ladder q_0..q_k, the steps x_1..x_k and the weights of P(q)."""

    qs: np.ndarray
    xs: np.ndarray
    x_name: str = "x"

    @property
    def weights(self) -> np.ndarray:
        """P(q) = sum_i weights_i delta(q - q_i): x_1, x_2 - x_1, ..., 1 - x_k (x, not y)."""
        edges = np.concatenate([[0.0], self.xs, [1.0]])
        return np.diff(edges)

    @property
    def width(self) -> float:
        return float(self.qs[-1] - self.qs[0])

    def rows(self) -> list[dict]:
        """The long table: one row per rung, (rung, q, x on the step above it, weight of P(q) there)."""
        xs = np.concatenate([self.xs, [np.nan]])
        weights = self.weights if self.x_name == "x" else np.full(len(self.qs), np.nan)
        return [
            {"rung": i, "q": float(q), self.x_name: _float(x), "weight": _float(w)}
            for i, (q, x, w) in enumerate(zip(self.qs, xs, weights, strict=True))
        ]


def _float(x) -> float | None:
    return float(x) if np.isfinite(x) else None


class CompiledLadder:
    """Lowered maps of a FreeEnergy's ladder; ``rs`` is the FreeEnergy it collapses onto (or None)."""

    def __init__(self, free_energy: FreeEnergy):
        self.free_energy = free_energy
        self.ladder = free_energy.ladder
        if self.ladder is None:
            raise ValueError(f"model {free_energy.name} declares no Parisi ladder")
        self.x_name = self.ladder.x_name
        names = free_energy.order_parameter_names
        # the order parameters a collapsed ladder leaves undetermined (its steps x_i)
        self.undetermined = [n for n in names if n not in self.ladder.embedding] if self.ladder.rs else []

    @property
    def rs(self) -> FreeEnergy | None:
        return self.ladder.rs

    @cached_property
    def _args(self) -> list[sp.Symbol]:
        return self.free_energy.theta + self.free_energy.control_symbols

    @cached_property
    def _function(self):
        lad = self.ladder
        return sp.lambdify(self._args, [*lad.qs, *lad.xs], modules="numpy")

    def parisi_function(self, theta, params: dict[str, float]) -> ParisiFunction:
        controls = [params[c] for c in self.free_energy.control_names]
        values = np.array(self._function(*theta, *controls), dtype=float)
        k = self.ladder.steps
        return ParisiFunction(values[: k + 1], values[k + 1 :], self.x_name)

    def is_collapsed(self, theta, params: dict[str, float]) -> bool:
        """Whether ``theta`` is a collapsed ladder (its width below COLLAPSED, or its steps undetermined)."""
        theta = np.asarray(theta, dtype=float)
        index = [self.free_energy.order_parameter_names.index(n) for n in self.undetermined]
        if index and np.any(np.isnan(theta[index])):
            return True
        qs = self.parisi_function(np.nan_to_num(theta, nan=0.5), params).qs
        return bool(np.isfinite(qs).all() and qs[-1] - qs[0] < COLLAPSED)

    # collapse and opening: maps from the RS order parameters -----------------------------
    @cached_property
    def _rs_args(self) -> list[sp.Symbol]:
        return self.rs.theta + self.free_energy.control_symbols + [OPEN_WIDTH, OPEN_AT, OPEN_X]

    @cached_property
    def _embed(self):
        emb = self.ladder.embedding
        exprs = [emb.get(n, sp.nan) for n in self.free_energy.order_parameter_names]
        return sp.lambdify(self._rs_args, exprs, modules="numpy")

    @cached_property
    def _open(self):
        opening = self.ladder.opening
        exprs = [opening[n] for n in self.free_energy.order_parameter_names]
        return sp.lambdify(self._rs_args, exprs, modules="numpy")

    def _call(self, fn, rs_theta, params, width=0.0, at=0.5, x=0.5) -> np.ndarray:
        controls = [params[c] for c in self.free_energy.control_names]
        return np.array(fn(*rs_theta, *controls, width, at, x), dtype=float)

    def embed(self, rs_theta, params: dict[str, float]) -> np.ndarray:
        """The collapsed ladder of an RS solution; its undetermined steps are NaN."""
        return self._call(self._embed, rs_theta, params)

    def opened(self, rs_theta, params: dict[str, float], width: float, at: float, x: float) -> np.ndarray:
        """A ladder of ``width`` around the RS solution (the RS overlap at fraction ``at``), x(q) = ``x``."""
        return self._call(self._open, rs_theta, params, width, at, x)

    @cached_property
    def _from_one_step(self):
        exprs = [self.ladder.from_one_step[n] for n in self.free_energy.order_parameter_names]
        args = self.ladder.one_step.theta + self.free_energy.control_symbols
        return sp.lambdify(args, exprs, modules="numpy")

    def from_one_step(self, theta1, params: dict[str, float]) -> np.ndarray:
        """The ladder equal to a one-step solution ``theta1`` (one x on every step)."""
        controls = [params[c] for c in self.free_energy.control_names]
        return np.array(self._from_one_step(*theta1, *controls), dtype=float)

    def rs_start(self, theta, params: dict[str, float]) -> np.ndarray | None:
        """RS order parameters read back from a ladder (where one of its order parameters is an RS one)."""
        theta = np.asarray(theta, dtype=float)
        names = self.free_energy.order_parameter_names
        out = []
        for r in self.rs.theta:
            at = next((i for i, n in enumerate(names) if self.ladder.embedding.get(n) == r), None)
            if at is None or not np.isfinite(theta[at]):
                return None
            out.append(theta[at])
        return np.array(out)

    def check(self, theta, params: dict[str, float]) -> str | None:
        """None if ``theta`` is a Parisi function (non-decreasing q_i and x_i, x_k <= 1), else why not."""
        f = self.parisi_function(theta, params)
        if not (np.all(np.isfinite(f.qs)) and np.all(np.isfinite(f.xs))):
            return "the ladder is not finite"
        tol = 1e-9
        if np.any(np.diff(f.qs) < -tol):
            return "the overlaps q_i decrease along the ladder"
        if np.any(np.diff(f.xs) < -tol) or (self.x_name == "x" and f.xs.size and f.xs[-1] > 1 + tol):
            return f"{self.x_name}(q) decreases along the ladder: not a Parisi function"
        return None
