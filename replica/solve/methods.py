"""Iterations that drive the saddle-point system G(theta) = 0.

- ``fixed_point``: damped iteration theta <- (1 - d) theta + d F(theta) of the
  model's fixed-point forms; robust from cold starts, linear convergence.
- ``anderson``: Anderson mixing (type II, memory m) of the same map; faster
  than plain damping when the map is contracting slowly.
- ``newton``: Newton's method with the symbolic Jacobian and a backtracking
  line search that keeps every iterate inside the order parameters' domain
  (scipy's root finders know nothing of domains such as 0 <= q < 1).

Each returns an ``Iteration`` with the final theta, the undamped residual
max_i |G_i(theta)|, the number of iterations and a status message; none of
them decides whether the point is a result (see ``point.solve_point``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Vector = np.ndarray


@dataclass
class Iteration:
    theta: Vector
    residual: float
    iterations: int
    converged: bool
    status: str


class Domain:
    """The box of order-parameter domains; ``inside`` tests, ``clip`` projects."""

    def __init__(self, parameters):
        self.parameters = list(parameters)

    def inside(self, theta: Vector) -> bool:
        return all(p.contains(float(x)) for p, x in zip(self.parameters, theta, strict=False))

    def clip(self, theta: Vector) -> Vector:
        """Project onto the domain, a little inside any open end."""
        out = np.array(theta, dtype=float)
        for i, p in enumerate(self.parameters):
            lo, hi = p.lower, p.upper
            span = 1e-12 * max(1.0, abs(lo) if np.isfinite(lo) else 1.0, abs(hi) if np.isfinite(hi) else 1.0)
            lo_eff = lo if p.lower_closed else lo + span
            hi_eff = hi if p.upper_closed else hi - span
            out[i] = min(max(out[i], lo_eff), hi_eff)
        return out


def _max_abs(g: Vector) -> float:
    g = np.asarray(g, dtype=float)
    return float(np.max(np.abs(g))) if np.all(np.isfinite(g)) else float("inf")


def fixed_point(
    fmap: Callable[[Vector], Vector],
    theta0: Vector,
    domain: Domain,
    *,
    damping: float,
    tol: float,
    max_iter: int,
    stop_at: float | None = None,
) -> Iteration:
    """Damped iteration of theta = F(theta) until max|theta - F(theta)| <= tol.

    ``stop_at`` ends the iteration early once the residual is below it (used
    by the hybrid method to hand over to Newton).
    """
    theta = domain.clip(theta0)
    target = tol if stop_at is None else max(tol, stop_at)
    residual = float("inf")
    for it in range(max_iter + 1):
        f = fmap(theta)
        residual = _max_abs(theta - f)
        if not np.isfinite(residual):
            return Iteration(theta, residual, it, False, "fixed point: non-finite map")
        if residual <= target:
            return Iteration(theta, residual, it, residual <= tol, "fixed point: converged")
        if it == max_iter:
            break
        theta = domain.clip((1.0 - damping) * theta + damping * f)
    return Iteration(theta, residual, max_iter, False, f"fixed point: no convergence in {max_iter} iterations")


def anderson(
    fmap: Callable[[Vector], Vector],
    theta0: Vector,
    domain: Domain,
    *,
    damping: float,
    tol: float,
    max_iter: int,
    memory: int = 5,
) -> Iteration:
    """Anderson-accelerated fixed point (type II) with a domain safeguard.

    With residuals f_k = F(x_k) - x_k, the step minimises |f_k - dF gamma| over
    the last ``memory`` differences and sets
    x_{k+1} = x_k + d f_k - (dX + d dF) gamma. A step that leaves the domain is
    replaced by a damped step and the history is cleared.
    """
    x = domain.clip(theta0)
    dxs: list[Vector] = []
    dfs: list[Vector] = []
    x_prev = f_prev = None
    residual = float("inf")
    for it in range(max_iter + 1):
        fx = fmap(x) - x
        residual = _max_abs(fx)
        if not np.isfinite(residual):
            return Iteration(x, residual, it, False, "anderson: non-finite map")
        if residual <= tol:
            return Iteration(x, residual, it, True, "anderson: converged")
        if it == max_iter:
            break
        if x_prev is not None:
            dxs.append(x - x_prev)
            dfs.append(fx - f_prev)
            if len(dxs) > memory:
                dxs.pop(0)
                dfs.pop(0)
        x_prev, f_prev = x, fx
        step = damping * fx
        if dxs:
            dX = np.column_stack(dxs)
            dF = np.column_stack(dfs)
            gamma, *_ = np.linalg.lstsq(dF, fx, rcond=None)
            step = step - (dX + damping * dF) @ gamma
        candidate = x + step
        if not domain.inside(candidate) or not np.all(np.isfinite(candidate)):
            candidate = domain.clip(x + damping * fx)
            dxs.clear()
            dfs.clear()
        x = candidate
    return Iteration(x, residual, max_iter, False, f"anderson: no convergence in {max_iter} iterations")


def newton(
    system: Callable[[Vector], tuple[Vector, np.ndarray]],
    residual_fn: Callable[[Vector], Vector],
    theta0: Vector,
    domain: Domain,
    *,
    tol: float,
    max_iter: int,
) -> Iteration:
    """Newton's method on G(theta) = 0 with the analytic Jacobian.

    Backtracking halves the step until the iterate is inside the domain and
    |G|_2 decreases (Armijo, c = 1e-4).
    """
    theta = np.array(theta0, dtype=float)
    if not domain.inside(theta):
        theta = domain.clip(theta)
    g, jac = system(theta)
    residual = _max_abs(g)
    for it in range(max_iter + 1):
        if np.isfinite(residual) and residual <= tol:  # converged, whatever the Jacobian there
            return Iteration(theta, residual, it, True, "newton: converged")
        if not np.isfinite(residual) or not np.all(np.isfinite(jac)):
            return Iteration(theta, residual, it, False, "newton: non-finite system")
        if it == max_iter:
            break
        try:
            step = np.linalg.solve(jac, -g)
        except np.linalg.LinAlgError:
            return Iteration(theta, residual, it, False, "newton: singular Jacobian")
        norm = float(np.linalg.norm(g))
        t = 1.0
        while True:
            trial = theta + t * step
            if domain.inside(trial):
                g_trial = residual_fn(trial) if t < 1.0 else None
                if g_trial is None:
                    g_new, jac_new = system(trial)
                    g_trial = g_new
                if np.all(np.isfinite(g_trial)) and np.linalg.norm(g_trial) <= (1.0 - 1e-4 * t) * norm:
                    break
            t *= 0.5
            if t < 1e-10:
                return Iteration(theta, residual, it, False, "newton: line search failed")
        theta = trial
        if t < 1.0:
            g, jac = system(theta)
        else:
            g, jac = g_new, jac_new
        residual = _max_abs(g)
    return Iteration(theta, residual, max_iter, False, f"newton: no convergence in {max_iter} iterations")
