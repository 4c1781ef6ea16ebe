"""Continuation along a line of points in one control parameter.

Each point starts from its neighbour's solution, extrapolated linearly from
the two previous converged points (a secant predictor) when they are
adjacent in the chain. A point that does not converge from there is
approached in smaller steps from the previous converged point (the step is
halved on every failure, down to 1/64 of the gap; the intermediate solutions
are not points of the chain). A point that still fails is reported as failed;
the chain goes on from the last converged solution, and the next start is
cold only if no point has converged yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..compile import CompiledProblem
from .methods import Domain, domain_of
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


@dataclass
class ChainState:
    """What a chain carries from one point to the next.

    ``history``: the last (at most two) converged (x, theta) since the last
    failed or skipped point (the secant predictor's input); ``last``: the
    latest converged theta (or the chain's start); ``order``: the quadrature
    order of the latest converged point. ``record`` is the one rule that
    advances it, so a chain rebuilt from its finished rows (a resumed sweep)
    continues exactly as the uninterrupted chain would.
    """

    history: list[tuple[float, np.ndarray]] = field(default_factory=list)
    last: np.ndarray | None = None
    order: int | None = None

    def record(self, x: float, theta: np.ndarray | None, quad_order: int | None = None) -> None:
        """After the point at ``x``: its converged theta, or None if it failed or was skipped."""
        if theta is None:
            self.history.clear()
            return
        theta = np.array(theta, dtype=float)
        self.history.append((float(x), theta))
        del self.history[:-2]
        self.last = theta.copy()
        self.order = quad_order


def solve_chain(
    problem: CompiledProblem,
    base_params: dict[str, float],
    parameter: str,
    values: Sequence[float],
    opts: SolverOptions,
    theta0: np.ndarray | None = None,
    skip: Callable[[dict[str, float]], str | None] | None = None,
    quad_order: int | None = None,
    state: ChainState | None = None,
) -> Iterator[tuple[dict[str, float], Solution | None, str | None]]:
    """Yield (params, solution, skipped_reason) along ``values`` of ``parameter``.

    ``skip(params)`` may return a reason to not solve a point (e.g. beyond the
    capacity, where no solution exists); such points yield (params, None, reason)
    and break the predictor history. ``quad_order`` is the quadrature order of
    the first point (known from an earlier solution at a neighbouring point).
    ``state`` continues a chain whose earlier points are done (it replaces
    ``theta0`` and ``quad_order``, and is advanced in place).
    """
    domain = domain_of(problem.free_energy)
    if state is None:
        state = ChainState(last=None if theta0 is None else np.asarray(theta0, dtype=float), order=quad_order)
    for x in values:
        params = dict(base_params)
        params[parameter] = float(x)
        reason = skip(params) if skip is not None else None
        if reason is not None:
            state.record(x, None)
            yield params, None, reason
            continue
        guess = predict(state.history, float(x), domain)
        last, order = state.last, state.order  # the quadrature order carries along the chain with the solution
        start = guess if guess is not None else last
        sol = solve_point(problem, params, opts, theta0=start, warm=guess is not None, quad_order=order)
        if not sol.converged and guess is not None and last is not None and not np.array_equal(guess, last):
            # the predictor overshot: retry from the last solution
            retry = solve_point(problem, params, opts, theta0=state.history[-1][1], warm=True, quad_order=order)
            retry.iterations += sol.iterations
            sol = retry
        if not sol.converged and state.history:
            approached = _approach(problem, params, parameter, state.history[-1], order, opts)
            approached.iterations += sol.iterations
            sol = approached if approached.converged else sol
        state.record(x, sol.theta if sol.converged else None, sol.quad_order)
        yield params, sol, None


FINEST_STEP = 1 / 64  # of the gap between two chain points


def _approach(
    problem: CompiledProblem,
    params: dict[str, float],
    parameter: str,
    previous: tuple[float, np.ndarray],
    order: int | None,
    opts: SolverOptions,
) -> Solution:
    """Walk from the converged ``previous`` = (x0, theta0) to ``params`` in adaptive steps.

    The step starts at half the gap and is halved after every failed
    intermediate solve (down to FINEST_STEP of the gap); each intermediate
    point starts from the last converged one. Returns the solution at the
    target (its iterations count the whole walk), or the last failure.
    """
    x0, theta = previous
    target = params[parameter]
    gap = target - x0
    step, x, iterations = gap / 2, x0, 0
    while True:
        x_next = target if abs(target - x) <= abs(step) * (1 + 1e-12) else x + step
        point = dict(params)
        point[parameter] = x_next
        sol = solve_point(problem, point, opts, theta0=theta, warm=True, quad_order=order)
        iterations += sol.iterations
        if sol.converged:
            if x_next == target:
                sol.iterations = iterations
                return sol
            x, theta, order = x_next, sol.theta, sol.quad_order
        else:
            step /= 2
            if abs(step) < abs(gap) * FINEST_STEP:
                sol.iterations = iterations
                return sol
