"""Continuation along a line of points in one control parameter.

Each point starts from its neighbour's solution, extrapolated linearly from
the two previous converged points (a secant predictor) when they are
adjacent in the chain. A point that fails is reported as failed; the chain
goes on from the last converged solution, and the next start is cold only if
no point has converged yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ..compile import CompiledProblem
from .methods import Domain
from .point import Solution, SolverOptions, solve_point


def predict(history: list[tuple[float, np.ndarray]], x: float, domain: Domain) -> np.ndarray | None:
    """Secant extrapolation of theta to x from the last two (x, theta) pairs."""
    if not history:
        return None
    x1, t1 = history[-1]
    if len(history) < 2:
        return t1
    x0, t0 = history[-2]
    if x1 == x0:
        return t1
    guess = t1 + (t1 - t0) * (x - x1) / (x1 - x0)
    return guess if domain.inside(guess) and np.all(np.isfinite(guess)) else t1


def solve_chain(
    problem: CompiledProblem,
    base_params: dict[str, float],
    parameter: str,
    values: Sequence[float],
    opts: SolverOptions,
    theta0: np.ndarray | None = None,
    skip: Callable[[dict[str, float]], str | None] | None = None,
    quad_order: int | None = None,
) -> Iterator[tuple[dict[str, float], Solution | None, str | None]]:
    """Yield (params, solution, skipped_reason) along ``values`` of ``parameter``.

    ``skip(params)`` may return a reason to not solve a point (e.g. beyond the
    capacity, where no solution exists); such points yield (params, None, reason)
    and break the predictor history. ``quad_order`` is the quadrature order of
    the first point (known from an earlier solution at a neighbouring point).
    """
    domain = Domain(problem.free_energy.order_parameters)
    history: list[tuple[float, np.ndarray]] = []
    last = theta0
    order = quad_order  # the quadrature order carries along the chain with the solution
    for x in values:
        params = dict(base_params)
        params[parameter] = float(x)
        reason = skip(params) if skip is not None else None
        if reason is not None:
            history.clear()
            yield params, None, reason
            continue
        guess = predict(history, float(x), domain)
        start = guess if guess is not None else last
        sol = solve_point(problem, params, opts, theta0=start, warm=guess is not None, quad_order=order)
        if not sol.converged and guess is not None and last is not None and not np.array_equal(guess, last):
            # the predictor overshot: retry from the last solution
            retry = solve_point(problem, params, opts, theta0=history[-1][1], warm=True, quad_order=order)
            retry.iterations += sol.iterations
            sol = retry
        if sol.converged:
            history.append((float(x), sol.theta.copy()))
            if len(history) > 2:
                history.pop(0)
            last = sol.theta.copy()
            order = sol.quad_order
        else:
            history.clear()
        yield params, sol, None
