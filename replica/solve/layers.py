"""Layered models: liquid layers held at zero, glassy ones solved, unstable liquids opened.

A model with ``LiquidLayers`` (symbolic/free_energy.py) has groups of order parameters
(layers) that vanish together. A liquid group is a stationary point at every value of
the controls, stable or not, so the set of glassy groups is decided by the groups'
stability criteria, not by where an iteration happens to go:

1. the glassy set is read from the start (groups whose order parameters are not zero; a cold
   start is all liquid); the liquid groups are held at zero and the others solved
   (``PinnedProblem``: the free order parameters only, with the usual quadrature
   check). Every solution in which a glassy group is liquid is a root too, close to
   the glassy one near a transition, and Newton is drawn to it; so the system is
   *deflated* (Farrell, Birkisson, Funke 2015): G(theta) is multiplied by
   prod_g (1 + 1/|theta_g|^2) over the glassy groups g, which has the same roots
   except those where a glassy group vanishes (M >= 1, so a small deflated residual
   is a small residual);
2. a glassy group that the solution brings back to zero is liquid (there is no glassy
   solution of it there: the transitions are continuous) and is held from then on;
3. every liquid group whose criterion is positive (its liquid is unstable) is opened:
   seeded along its instability at amplitudes SEED_AMPLITUDES (times c/(1 + c), c its
   criterion) in turn until the solution keeps it glassy; then the criteria are read again (ordering a
   layer can destabilise the next one), until no liquid group is unstable.

The point is then checked as a stationary point of the whole free entropy: the
residual of every equation, the held ones included, must be below ``tol``. A liquid
group whose criterion is positive but below MARGINAL (at its threshold, where the
glassy solution is still of the size of the tolerance) is left liquid, and the status
says so; so is a glassy start whose criterion is below MARGINAL (its glassy solution,
about 0.2 times the criterion, is of the size of the tolerances). Shared order
parameters that no glassy group determines (a common Parisi parameter while every
layer is liquid) are reported missing.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from ..compile import CompiledProblem
from .methods import domain_of, newton
from .pinned import PinnedProblem
from .point import Solution, SolverOptions, failed_solution, result_observable_names, solve_fixed_ansatz

# seed amplitudes, times c/(1 + c) for the largest criterion c of the layers opened (a continuous
# transition: the new order parameter grows like the distance to the threshold, q ~ 0.2 c in RS, and
# saturates far above it)
SEED_AMPLITUDES = (0.2, 0.6, 0.07, 1.0)
SEED_ITERATIONS = 100  # Newton iterations for one seed, and of the deflated stage
DEFLATED_TOL = 1e-7  # the deflated stage stops here; the plain system is solved from there
MARGINAL = 1e-7  # a criterion below this is at its threshold: the liquid is kept


def solve_layers(
    problem: CompiledProblem,
    params: dict[str, float],
    opts: SolverOptions,
    theta0=None,
    warm: bool = False,
    quad_order: int | None = None,
) -> Solution:
    """The saddle point of a layered model at ``params`` (see the module docstring)."""
    t_start = time.perf_counter()
    lay = problem.layers
    theta = problem.initial(params) if theta0 is None else np.array(theta0, dtype=float)
    theta = np.where(np.isfinite(theta), theta, problem.initial(params))
    glassy = lay.glassy(theta) - lay.kept
    notes: list[str] = []
    order = quad_order
    if glassy:  # a glassy start at or below its layer's threshold: the glassy solution is (about) zero there
        values = problem.values(theta, params, problem.quadrature(min(max(opts.quad_order, order or 0), 4096)))
        below = {g for g in glassy if not float(values[lay.criterion[g]]) > MARGINAL}
        if below:
            glassy -= below
            notes.append(f"{_names(lay, below)} at or below threshold: liquid")
    theta = lay.liquid(theta, glassy)
    iterations = 0
    for _ in range(2 * lay.count + 2):
        sol, theta = _solve_glassy(problem, params, opts, theta, glassy, warm, order)
        iterations += sol.iterations
        if not sol.converged:
            return failed_solution(
                problem, f"glassy layers {_names(lay, glassy)}: {sol.status}", t_start, sol, iterations
            )
        order = sol.quad_order
        collapsed = glassy - lay.glassy(theta)
        if collapsed:  # no glassy solution of these layers here: liquid
            glassy -= collapsed
            theta = lay.liquid(theta, glassy)
            notes.append(f"{_names(lay, collapsed)} liquid")
            continue
        values = problem.values(theta, params, problem.quadrature(order))
        criteria = {g: float(values[lay.criterion[g]]) for g in range(lay.count) if g not in glassy}
        unstable = {g for g, c in criteria.items() if c > MARGINAL and g not in lay.kept}
        marginal = {g for g, c in criteria.items() if 0 < c <= MARGINAL}
        held = {g for g, c in criteria.items() if c > MARGINAL and g in lay.kept}
        if held and not unstable:
            notes.append(f"{_names(lay, held)} held liquid although unstable (a glass transition is located there)")
        if not unstable:
            if marginal:
                notes.append(f"{_names(lay, marginal)} at threshold (criterion <= {MARGINAL:g}): kept liquid")
            return _finish(problem, params, opts, sol, theta, glassy, iterations, t_start, notes)
        opened = None
        largest = max(criteria[g] for g in unstable)
        seed_opts = dataclasses.replace(opts, max_iter=min(opts.max_iter, SEED_ITERATIONS))
        for factor in SEED_AMPLITUDES:
            start = lay.seeded(theta, params, unstable, factor * largest / (1 + largest))
            trial, trial_theta = _solve_glassy(problem, params, seed_opts, start, glassy | unstable, False, order)
            iterations += trial.iterations
            if trial.converged and unstable <= lay.glassy(trial_theta):
                opened = trial, trial_theta
                break
        if opened is None:
            reason = (
                f"{_names(lay, unstable)} unstable (criterion "
                + ", ".join(f"{criteria[g]:.3g}" for g in sorted(unstable))
                + ") but no glassy solution was found from the seeds"
            )
            return failed_solution(problem, reason, t_start, sol, iterations)
        sol, theta = opened
        glassy |= unstable
        order = sol.quad_order
        notes.append(f"{_names(lay, unstable)} opened (liquid unstable)")
        warm = True
    return failed_solution(problem, "the set of glassy layers did not settle", t_start, sol, iterations)


def _names(lay, groups) -> str:
    return ", ".join(lay.groups[g] for g in sorted(groups)) or "none"


def _solve_glassy(problem, params, opts, theta, glassy, warm, order) -> tuple[Solution, np.ndarray]:
    """Solve the free order parameters with the liquid groups held at zero; the full theta after.

    Two stages: Newton on the deflated system (away from the roots where a glassy group
    vanishes) to DEFLATED_TOL, then the point solver on the plain system from there (the
    deflation factor is large where the glassy solution is small, near its transition, and
    spoils the conditioning of the last steps).
    """
    lay = problem.layers
    theta = lay.liquid(theta, glassy)
    free = lay.free(glassy)
    if not free.any():  # everything liquid: nothing to iterate
        return _liquid_point(problem, params, opts, theta, order), theta
    deflated = PinnedProblem(problem, free, theta, [lay.members(g) for g in sorted(glassy)])
    order = min(max(opts.quad_order, order or 0), opts.max_quad_order)
    quad = problem.quadrature(order)
    iterations = 0
    if glassy and not problem.free_energy.maximised:  # (a min-max descent needs no deflation: it leaves the liquid)
        first = newton(
            lambda t: deflated.system(t, params, quad),
            lambda t: deflated.residual(t, params, quad),
            theta[deflated.index],
            domain_of(deflated.free_energy),
            tol=max(opts.tol, DEFLATED_TOL),
            max_iter=min(opts.max_iter, SEED_ITERATIONS),
            broyden=True,
        )
        iterations = first.iterations
        if np.all(np.isfinite(first.theta)):
            theta = deflated.full(first.theta)
    pinned = PinnedProblem(problem, free, theta)
    # a start from seeds is not warm for a min-max descent (Newton there may find another of the fixed
    # ladder's roots); a root finder is always started from the deflated stage's point
    warm = warm or not problem.free_energy.maximised
    sol = solve_fixed_ansatz(pinned, params, opts, theta[pinned.index], warm, order)
    sol.iterations += iterations
    full = pinned.full(sol.theta) if sol.theta is not None else theta
    return sol, full


def _liquid_point(problem, params, opts, theta, order) -> Solution:
    """All groups liquid: the values at zero, with the quadrature check."""
    order = min(max(opts.quad_order, order or 0), opts.max_quad_order)
    coarse = problem.values(theta, params, problem.quadrature(order))
    fine = problem.values(theta, params, problem.quadrature(2 * order))
    error = max(abs(float(fine[k]) - float(coarse[k])) for k in coarse)
    ok = math.isfinite(error) and error <= opts.quad_tol
    return Solution(
        order_parameters={},
        observables={k: float(coarse[k]) for k in result_observable_names(problem)},
        converged=ok,
        residual=0.0,
        iterations=0,
        method="liquid",
        status="converged (liquid)" if ok else f"liquid: values not resolved (error {error:.2e})",
        quad_order=order,
        quad_error=error,
        theta=theta,
        phi=float(coarse["phi"]),
    )


def _finish(problem, params, opts, sol, theta, glassy, iterations, t_start, notes) -> Solution:
    """The point in the whole model's terms, after checking the held equations too."""
    lay = problem.layers
    quad = problem.quadrature(sol.quad_order)
    residual = float(np.max(np.abs(problem.residual(theta, params, quad)))) if problem.n else 0.0
    if not residual <= opts.tol:
        reason = f"the liquid layers are not stationary: residual {residual:.2e} of the whole system"
        return failed_solution(problem, reason, t_start, sol, iterations)
    values = problem.values(theta, params, quad)
    missing = set(lay.undetermined(glassy))
    names = problem.free_energy.order_parameter_names
    order_parameters = {n: (None if n in missing else float(t)) for n, t in zip(names, theta, strict=True)}
    observables = {k: order_parameters.get(k, float(values[k])) for k in result_observable_names(problem)}
    liquid = [lay.groups[g] for g in range(lay.count) if g not in glassy]
    status = sol.status + f"; glassy: {_names(lay, glassy)}; liquid: {', '.join(liquid) or 'none'}"
    if notes:
        status += " (" + "; ".join(notes) + ")"
    stability = dict(sol.stability)
    if stability:
        stability["note"] = "Hessian in the order parameters of the glassy layers"
    return Solution(
        order_parameters=order_parameters,
        observables=observables,
        converged=True,
        residual=residual,
        iterations=iterations,
        method=sol.method,
        status=status,
        quad_order=sol.quad_order,
        quad_error=sol.quad_error,
        stability=stability,
        wall_time=time.perf_counter() - t_start,
        theta=theta,
        phi=float(values["phi"]),
    )
