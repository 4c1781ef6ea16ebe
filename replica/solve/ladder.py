"""RSB ansatze whose Parisi ladder collapses onto RS, solved on either side of the AT line.

An ansatz that declares the RS ansatz it reduces to (``ParisiLadder.rs``) has
the collapsed ladder q_0 = ... = q_k = q_RS among its stationary points at
every load, with its steps x_i undetermined there: Newton cannot start from
it (the Jacobian is singular) and, started near it, is drawn back to it even
where it is unstable. So a point is solved in up to three stages:

1. from an open ladder (a start that is not collapsed), the RSB saddle point
   itself (at the order it is given: a broken iteration is not retried with
   more nodes); it is the result if it converged to an open ladder that is a
   Parisi function (non-decreasing q_i and x_i);
2. else the RS reduction: if its replicon is >= 0 RS is stable and the point
   is the collapsed ladder, reported with its steps x_i missing;
3. else (RS unstable) the ladder is opened: a ladder of many steps from the
   solution of its one-step version (``ParisiLadder.one_step``, solved in
   these three stages itself), a one-step ladder from a grid of openings
   (width, where q_RS sits in the ladder, one x on every step): the solver
   starts from the openings that move phi furthest towards the declared
   extremum (``FreeEnergy.extremum``), until one converges to an open
   Parisi function.

A chain that crosses the AT line is then one chain: collapsed points carry
NaN steps, which sends the next point to stage 2, and the first point past
the line opens the ladder (stage 3); RSB points start the next from
themselves (stage 1).
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..compile import CompiledProblem, compile_free_energy
from .point import Solution, SolverOptions, failed_solution, result_observable_names, solve_fixed_ansatz

WIDTHS = (0.003, 0.01, 0.03, 0.1)  # opening widths, in units of min(q_RS, 1 - q_RS)
POSITIONS = (0.5, 0.8)  # where q_RS sits in the opened ladder
STEPS = (0.1, 0.2, 0.35, 0.5, 0.7, 0.9)  # the constant x(q) of an opening
TRIES = 3  # openings Newton starts from, best first


def solve_ladder(
    problem: CompiledProblem,
    params: dict[str, float],
    opts: SolverOptions,
    theta0=None,
    warm: bool = False,
    quad_order: int | None = None,
) -> Solution:
    """The saddle point of a collapsible RSB ansatz at ``params`` (see the module docstring)."""
    t_start = time.perf_counter()
    lad = problem.ladder
    notes: list[str] = []
    iterations = 0
    if theta0 is not None and not lad.is_collapsed(theta0, params):
        # no escalation of the nodes if it breaks: stages 2 and 3 are the fallback, and a ladder
        # re-solved cold at four times the order costs sixteen times as much
        sol = solve_fixed_ansatz(problem, params, opts, theta0, warm, quad_order, escalate=False)
        iterations += sol.iterations
        why = _not_open_parisi(problem, sol, params)
        if why is None:
            return sol
        notes.append(f"from the previous ladder: {why}")

    rs_problem = compile_free_energy(lad.rs)
    rs_theta0 = lad.rs_start(theta0, params) if theta0 is not None else None
    rs = solve_fixed_ansatz(rs_problem, params, opts, rs_theta0, rs_theta0 is not None, quad_order)
    iterations += rs.iterations
    if not rs.converged:
        return _failed(problem, rs, iterations, t_start, f"the RS reduction did not converge ({rs.status})", notes)
    replicon = rs.observables.get("replicon")
    if replicon is None or replicon >= 0:
        return _collapsed(problem, rs_problem, rs, params, iterations, t_start)

    tried = 0
    starts = []
    if lad.ladder.one_step is not None:  # by way of the one-step solution (opened from RS in turn)
        one = solve_ladder(compile_free_energy(lad.ladder.one_step), params, opts, None, False, rs.quad_order)
        iterations += one.iterations
        if one.converged and not np.isnan(one.theta).any():
            starts.append(lad.from_one_step(one.theta, params))
        else:
            notes.append(f"one step: {one.status}")
    for start in starts or _openings(problem, rs, params, opts):
        sol = solve_fixed_ansatz(problem, params, opts, start, False, rs.quad_order)
        iterations += sol.iterations
        tried += 1
        why = _not_open_parisi(problem, sol, params)
        if why is None:
            sol.iterations = iterations
            sol.status += f"; ladder opened from RS (replicon {replicon:.3g} < 0)"
            sol.wall_time = time.perf_counter() - t_start
            return sol
        notes.append(f"opening {tried}: {why}")
    if tried == 0:
        notes.append("no opening of the ladder moves phi past its RS value")
    reason = f"RS is unstable (replicon {replicon:.3g} < 0) and no open ladder was found"
    return _failed(problem, rs, iterations, t_start, reason, notes)


def _not_open_parisi(problem: CompiledProblem, sol: Solution, params) -> str | None:
    """None if ``sol`` converged to an open ladder that is a Parisi function, else why not."""
    if not sol.converged:
        return sol.status
    if problem.ladder.is_collapsed(sol.theta, params):
        return "the ladder collapsed"
    return problem.ladder.check(sol.theta, params)


def _openings(problem: CompiledProblem, rs: Solution, params, opts: SolverOptions) -> list[np.ndarray]:
    """Starting ladders around the RS solution, best first, that move phi past its RS value."""
    lad = problem.ladder
    quad = problem.quadrature(min(max(opts.quad_order, rs.quad_order), opts.max_quad_order))
    q = float(np.max(lad.parisi_function(np.nan_to_num(lad.embed(rs.theta, params), nan=0.5), params).qs))
    room = min(q, 1.0 - q)
    sign = -1.0 if problem.free_energy.extremum == "max" else 1.0
    phi_rs = float(problem.values(np.nan_to_num(lad.embed(rs.theta, params), nan=0.5), params, quad)["phi"])
    scored = []
    domain_ok = problem.free_energy.order_parameters
    for width in WIDTHS:
        for at in POSITIONS:
            for x in STEPS:
                theta = lad.opened(rs.theta, params, width * room, at, x)
                if not all(p.contains(float(t)) for p, t in zip(domain_ok, theta, strict=True)):
                    continue
                phi = float(problem.values(theta, params, quad)["phi"])
                if math.isfinite(phi) and sign * (phi - phi_rs) < 0:
                    scored.append((sign * phi, theta))
    scored.sort(key=lambda item: item[0])
    return [theta for _, theta in scored[:TRIES]]


def _collapsed(
    problem: CompiledProblem, rs_problem: CompiledProblem, rs: Solution, params, iterations: int, t_start: float
) -> Solution:
    """The collapsed ladder of a stable RS solution: RS values, steps x_i missing."""
    lad = problem.ladder
    theta = lad.embed(rs.theta, params)
    quad = problem.quadrature(rs.quad_order)
    values = problem.values(np.nan_to_num(theta, nan=0.5), params, quad)
    # the ladder's phi at collapse is the RS phi: their difference measures the field grid
    phi_rs = float(rs_problem.values(rs.theta, params, rs_problem.quadrature(rs.quad_order))["phi"])
    grid_error = abs(float(values["phi"]) - phi_rs)
    missing = set(lad.undetermined)
    names = problem.free_energy.order_parameter_names
    order_parameters = {n: (None if n in missing else float(t)) for n, t in zip(names, theta, strict=True)}
    observables = {}
    for k in result_observable_names(problem):
        observables[k] = None if k in missing else order_parameters.get(k, float(values[k]))
    replicon = rs.observables["replicon"]
    return Solution(
        order_parameters=order_parameters,
        observables=observables,
        converged=True,
        residual=rs.residual,
        iterations=iterations,
        method=rs.method,
        status=f"converged (replica symmetric: replicon {replicon:.3g} >= 0, the ladder is collapsed "
        f"and x(q) undetermined; {rs.status})",
        quad_order=rs.quad_order,
        quad_error=max(rs.quad_error, grid_error),
        stability={**rs.stability, "replicon": replicon},
        wall_time=time.perf_counter() - t_start,
        theta=theta,
    )


def _failed(problem: CompiledProblem, rs: Solution, iterations: int, t_start: float, reason: str, notes) -> Solution:
    status = reason + (f" ({'; '.join(notes)})" if notes else "")
    return failed_solution(problem, status, t_start, rs, iterations)
