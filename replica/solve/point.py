"""One saddle point: method dispatch, quadrature check, stability, honest status.

``solve_point`` runs the requested method at the starting quadrature order,
then checks the quadrature: at the solution, phi and every observable are
evaluated again with twice as many nodes, and the order parameters are moved
by one Newton step of the equations at twice as many nodes. If any of them
moves by more than ``quad_tol`` the order is doubled and the point re-solved
(warm), up to ``max_quad_order``. The point is a result (``converged``) only
if the residual is below ``tol`` *and* the quadrature check passed;
otherwise its values are withheld and the reason is in ``status``.

Two declarations of a model change what a point is:

- no order parameters (an analytic branch, e.g. perfect generalization at
  q = 1): nothing to iterate; the values are evaluated, with the same check;
- a reference saddle (``FreeEnergy.reference``): it is solved first, as a
  point of its own (cached per control values, with its own quadrature
  check), and its order parameters enter as given values. phi is not
  stationary in them, so d phi / d c along the solution carries the chain
  term (d phi / d g) (d g / d c), with d g / d c = -J_ref^-1 d G_ref / d c.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field, fields

import numpy as np

from ..compile import CompiledProblem
from .methods import Iteration, anderson, descend, domain_of, fixed_point, newton
from .saddle import descend_saddle, is_min_max

METHODS = ("hybrid", "newton", "fixed_point", "anderson", "descent")
FINISH_WITH_NEWTON = 1e-5  # descent that stalls below this gradient hands over to Newton
WARM_NEWTON = 30  # Newton iterations from a warm start before the fallback

# the largest product grid of nested averages a point may use (64 MB per array): nested averages
# over three variables cost order^3, and their Jacobian holds many such arrays at once
MAX_GRID_POINTS = 2**23
# the largest array of a Parisi ladder (field grid times nodes, 256 MB): every step keeps one,
# so a ladder at order 2048 (8 steps: 1.4 GB) is the most a point may use; order 4096 would
# need 1.1 GB per step
MAX_LADDER_POINTS = 2**25


def _affordable(problem: CompiledProblem, order: int) -> bool:
    return problem.grid_points(order) <= MAX_GRID_POINTS and problem.ladder_points(order) <= MAX_LADDER_POINTS


def _budget(problem: CompiledProblem, order: int) -> str:
    """The sizes at ``order`` against their budgets, for a status message."""
    text = f"a grid of {problem.grid_points(order)} points (budget {MAX_GRID_POINTS})"
    if problem.ladder_points(order):
        text += f", a ladder array of {problem.ladder_points(order)} points (budget {MAX_LADDER_POINTS})"
    return text


@dataclass(frozen=True)
class SolverOptions:
    """Settings of the point solver (the ``solver`` section of a config)."""

    method: str = "hybrid"
    tol: float = 1e-10
    max_iter: int = 2000
    damping: float = 0.5
    anderson_memory: int = 5
    quad_order: int = 64
    max_quad_order: int = 4096
    quad_tol: float = 1e-8

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass
class Solution:
    """The result of one point. Values are None unless ``converged``."""

    order_parameters: dict[str, float | None]
    observables: dict[str, float | None]
    converged: bool
    residual: float
    iterations: int
    method: str
    status: str
    quad_order: int
    quad_error: float
    stability: dict = field(default_factory=dict)
    wall_time: float = 0.0
    theta: np.ndarray | None = None  # last iterate, for continuation only; never reported
    phi: float | None = None  # the free entropy of the saddle point (comparing branches)

    @property
    def values(self) -> dict[str, float | None]:
        """Order parameters then observables (order parameters win on a name clash)."""
        out = dict(self.observables)
        out.update(self.order_parameters)
        return out

    def to_dict(self) -> dict:
        return {
            "order_parameters": self.order_parameters,
            "observables": self.observables,
            "converged": self.converged,
            "residual": _json_float(self.residual),
            "iterations": self.iterations,
            "method": self.method,
            "status": self.status,
            "quad_order": self.quad_order,
            "quad_error": _json_float(self.quad_error),
            "stability": self.stability,
            "wall_time": self.wall_time,
        }


def _json_float(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _run_method(
    problem: CompiledProblem, opts: SolverOptions, theta0, params, quad, warm: bool, jac0=None
) -> Iteration:
    """One run of the requested method; ``jac0`` seeds a Broyden Newton (numeric Jacobians)."""
    domain = domain_of(problem.free_energy)
    secant = {"broyden": True, "jac0": jac0} if problem.jacobian_is_numeric else {}

    def fmap(t):
        return problem.fixed_map(t, params, quad)

    def system(t):
        return problem.system(t, params, quad)

    def residual_fn(t):
        return problem.residual(t, params, quad)

    common = dict(tol=opts.tol, max_iter=opts.max_iter)
    has_fp = problem.has_fixed_point
    extremum = problem.free_energy.extremum
    if problem.free_energy.maximised and opts.method in ("hybrid", "descent"):
        # a min-max saddle (phi maximised in the declared conjugates): from a warm start Newton on
        # grad phi = 0, kept where its root is the min-max point; else descent of max_y phi
        if warm and opts.method == "hybrid":
            near = newton(system, residual_fn, theta0, domain, tol=opts.tol, max_iter=WARM_NEWTON, **secant)
            if near.converged and is_min_max(problem, near.theta, params, quad):
                return Iteration(near.theta, near.residual, near.iterations, True, "newton (warm, min-max checked)")
        it = descend_saddle(problem, params, quad, theta0, **common)
        if it.converged or not it.residual < FINISH_WITH_NEWTON:
            return it
        near = newton(system, residual_fn, it.theta, domain, **common, broyden=problem.jacobian_is_numeric)
        status = f"{it.status}+newton" + ("" if near.converged else f" ({near.status})")
        return Iteration(near.theta, near.residual, it.iterations + near.iterations, near.converged, status)
    if opts.method == "descent" or (opts.method == "hybrid" and extremum is not None and not has_fp):
        # hybrid, for a model whose saddle point is an extremum and that has no fixed-point form
        if extremum is None:
            return Iteration(np.asarray(theta0, float), math.inf, 0, False, "descent: the model declares no extremum")
        it = descend(
            lambda t: problem.objective(t, params, quad),
            lambda t: problem.hessian(t, params, quad),
            theta0,
            domain,
            sign=-1.0 if extremum == "max" else 1.0,
            hess0=jac0,
            **common,
        )
        if it.converged or not it.residual < FINISH_WITH_NEWTON:
            status = "descent" + ("" if it.converged else f" ({it.status})")
            return Iteration(it.theta, it.residual, it.iterations, it.converged, status, it.jacobian)
        # close to the minimum phi is level to its rounding and discretisation error, while the
        # gradient is still resolved: Newton on grad phi = 0 takes it from here
        near = newton(
            system, residual_fn, it.theta, domain, **common, broyden=problem.jacobian_is_numeric, jac0=it.jacobian
        )
        status = "descent+newton" + ("" if near.converged else f" ({it.status}; {near.status})")
        total = it.iterations + near.iterations
        return Iteration(near.theta, near.residual, total, near.converged, status, near.jacobian)
    if opts.method == "newton":
        return newton(system, residual_fn, theta0, domain, **common, **secant)
    if opts.method in ("fixed_point", "anderson") and not has_fp:
        return Iteration(
            np.asarray(theta0, float), math.inf, 0, False, f"{opts.method}: the model has no fixed-point form"
        )
    if opts.method == "fixed_point":
        return fixed_point(fmap, theta0, domain, damping=opts.damping, **common)
    if opts.method == "anderson":
        return anderson(fmap, theta0, domain, damping=opts.damping, memory=opts.anderson_memory, **common)

    # hybrid: Newton from a warm start; otherwise fixed point to get close,
    # then Newton; Anderson as the fallback. Iterations are summed.
    total = 0
    stages = []
    if warm:
        it = newton(system, residual_fn, theta0, domain, tol=opts.tol, max_iter=WARM_NEWTON, **secant)
        total += it.iterations
        stages.append("newton")
        if it.converged:
            return Iteration(it.theta, it.residual, total, True, "+".join(stages), it.jacobian)
        if secant:
            secant["jac0"] = it.jacobian
    start = np.asarray(theta0, float)
    if has_fp:
        it = fixed_point(fmap, start, domain, damping=opts.damping, stop_at=1e-4, **common)
        total += it.iterations
        stages.append("fixed_point")
        if it.converged:
            return Iteration(it.theta, it.residual, total, True, "+".join(stages))
        if np.isfinite(it.residual):
            start = it.theta
    it = newton(system, residual_fn, start, domain, **common, **secant)
    total += it.iterations
    stages.append("newton")
    if it.converged or not has_fp:
        status = "+".join(stages) + ("" if it.converged else f" ({it.status})")
        return Iteration(it.theta, it.residual, total, it.converged, status, it.jacobian)
    it = anderson(fmap, np.asarray(theta0, float), domain, damping=opts.damping, memory=opts.anderson_memory, **common)
    total += it.iterations
    stages.append("anderson")
    status = "+".join(stages) + ("" if it.converged else f" ({it.status})")
    return Iteration(it.theta, it.residual, total, it.converged, status)


def solve_point(
    problem: CompiledProblem,
    params: dict[str, float],
    opts: SolverOptions,
    theta0=None,
    warm: bool = False,
    quad_order: int | None = None,
) -> Solution:
    """Solve the saddle point at ``params``, from ``theta0`` (model init if None).

    ``quad_order`` starts the quadrature at more nodes than ``opts.quad_order``
    (a continuation chain passes its previous point's order on). An RSB
    ansatz whose ladder can collapse onto RS is solved by ``ladder.solve_ladder``
    (RS where RS is stable, the ladder opened where it is not); a layered model by
    ``layers.solve_layers`` (liquid layers held at zero, unstable ones opened). A
    model's plateau (``FreeEnergy.plateau``) is the result where it holds; a
    converged point where an observable the model declares ``nonnegative`` is
    negative says so in its status.
    """
    if problem.free_energy.plateau is not None:
        plateau = _plateau_point(problem, params, opts)
        if plateau is not None:
            return plateau
        if theta0 is not None and not domain_of(problem.free_energy).inside(theta0):
            theta0, warm = None, False  # a plateau point (on the boundary) is no start for the interior
    sol = _solve_interior(problem, params, opts, theta0, warm, quad_order)
    if sol.converged:
        for name, meaning in problem.free_energy.nonnegative.items():
            value = sol.observables.get(name)
            if value is not None and value < 0:
                sol.status += f"; {name} = {value:.3g} < 0: {meaning}"
    return sol


def _solve_interior(problem: CompiledProblem, params, opts: SolverOptions, theta0, warm, quad_order) -> Solution:
    """``solve_point`` after the plateau: a layered model, a collapsible ladder, or the ansatz as it stands."""
    if problem.free_energy.layers is not None:
        from .layers import solve_layers

        return solve_layers(problem, params, opts, theta0, warm, quad_order)
    if problem.ladder is not None and problem.ladder.rs is not None:
        from .ladder import solve_ladder

        return solve_ladder(problem, params, opts, theta0, warm, quad_order)
    return solve_fixed_ansatz(problem, params, opts, theta0, warm, quad_order)


def solve_fixed_ansatz(
    problem: CompiledProblem,
    params: dict[str, float],
    opts: SolverOptions,
    theta0=None,
    warm: bool = False,
    quad_order: int | None = None,
    escalate: bool = True,
) -> Solution:
    """The saddle point of ``problem`` as it stands (no reduction of the ansatz): see ``solve_point``.

    ``escalate``: an iteration that breaks where the rule does not resolve the integrands is
    started again with four times the nodes (False: it is reported as it is, for a caller
    with a fallback of its own).
    """
    t_start = time.perf_counter()
    fe = problem.free_energy
    reference = None
    if fe.reference is not None:
        reference = _reference_point(problem, params, opts)
        if not reference.converged:
            return failed_solution(
                problem, f"reference saddle point ({fe.reference.description}): {reference.status}", t_start
            )
        params = {**params, **reference.order_parameters}
    if theta0 is None:
        theta0 = problem.initial(params)
    order = start_order = min(max(opts.quad_order, quad_order or 0), opts.max_quad_order)
    if problem.n == 0:
        return _analytic_point(problem, params, opts, order, t_start)
    iterations = 0
    theta = start = np.asarray(theta0, dtype=float)
    quad_error = math.inf
    coarse_values: dict = {}
    jac = None  # a numeric Jacobian carried from one quadrature order to the next
    while True:
        quad = problem.quadrature(order)
        it = _run_method(problem, opts, theta, params, quad, warm, jac)
        jac = it.jacobian if problem.jacobian_is_numeric or it.status.startswith("descent") else None
        iterations += it.iterations
        theta = it.theta
        stuck = domain_of(fe).at_open_end(theta) if it.converged else []
        if stuck:
            it.converged = False
            it.status = f"{it.status}, but at the open end of the domain of {', '.join(stuck)} (not a solution)"
        if not it.converged:
            status = it.status
            if (
                escalate
                and 4 * order <= opts.max_quad_order
                and _affordable(problem, 8 * order)
                and not _resolved(problem, theta, params, quad, opts.quad_tol)
            ):
                order *= 4  # the rule does not resolve the integrands where the iteration went: more nodes
                theta = start
                continue
            break
        if not _affordable(problem, 2 * order):
            it.converged = False
            status = f"quadrature: checking {order} nodes needs {_budget(problem, 2 * order)}"
            break
        fine = problem.quadrature(2 * order)
        coarse_values = problem.values(theta, params, quad)
        fine_values = problem.values(theta, params, fine)
        diffs = [abs(float(fine_values[k]) - float(coarse_values[k])) for k in coarse_values]
        diffs.append(_order_parameter_shift(problem, theta, params, quad, fine, jac))
        quad_error = max(diffs) if all(np.isfinite(diffs)) else math.inf
        if quad_error <= opts.quad_tol:
            status = f"converged ({it.status})"
            break
        if 2 * order > opts.max_quad_order or not _affordable(problem, 4 * order):
            it.converged = False
            status = (
                f"quadrature: results move by {quad_error:.2e} > quad_tol={opts.quad_tol:g} "
                f"between {order} and {2 * order} nodes (max_quad_order={opts.max_quad_order}"
                + ("" if _affordable(problem, 4 * order) else f"; checking more needs {_budget(problem, 4 * order)}")
                + ")"
            )
            break
        order *= 2
        warm = True

    names = fe.order_parameter_names
    if it.converged:
        values = {k: float(v) for k, v in coarse_values.items()}
        # a numeric Hessian (n + 1 gradients) at the starting order: its quadrature error is
        # that of the gradient there, far below what the eigenvalues' signs need
        hess_quad = problem.quadrature(start_order) if problem.jacobian_is_numeric else quad
        hess = problem.hessian(theta, params, hess_quad)
        eig = np.linalg.eigvalsh(0.5 * (hess + hess.T)) if np.all(np.isfinite(hess)) else [math.nan] * len(names)
        stability = {"hessian_eigenvalues": [float(x) for x in eig], "hessian_quad_order": hess_quad.order}
        if "replicon" in values:
            stability["replicon"] = values["replicon"]
        if reference is not None:
            _chain_rule_partials(problem, reference, theta, params, quad, values)
        observables = {k: values[k] for k in result_observable_names(problem)}
        order_parameters = {n: float(x) for n, x in zip(names, theta, strict=False)}
        # an observable that is an order parameter (e.g. q) keeps that value
        observables = {k: order_parameters.get(k, v) for k, v in observables.items()}
    else:
        stability = {}
        order_parameters = {n: None for n in names}
        observables = {k: None for k in result_observable_names(problem)}
    return Solution(
        order_parameters=order_parameters,
        observables=observables,
        converged=it.converged,
        residual=it.residual,
        iterations=iterations,
        method=opts.method,
        status=status,
        quad_order=order,
        quad_error=quad_error,
        stability=stability,
        wall_time=time.perf_counter() - t_start,
        theta=theta,
        phi=values["phi"] if it.converged else None,
    )


PLATEAU_HOLDS = "plateau_holds"


def _plateau_point(problem: CompiledProblem, params, opts: SolverOptions) -> Solution | None:
    """The model's plateau (``FreeEnergy.plateau``) at ``params`` if it holds there, else None."""
    from ..compile import compile_free_energy

    fe = problem.free_energy
    sol = solve_fixed_ansatz(compile_free_energy(fe.plateau), params, opts)
    holds = sol.observables.get(PLATEAU_HOLDS)
    if not sol.converged or holds is None or holds < 0:
        return None
    values = sol.observables
    order_parameters = {n: values[n] for n in fe.order_parameter_names}
    observables = {k: order_parameters.get(k, values.get(k)) for k in result_observable_names(problem)}
    return dataclasses.replace(
        sol,
        order_parameters=order_parameters,
        observables=observables,
        status=f"converged (on the plateau: {fe.plateau.description}; {PLATEAU_HOLDS} = {holds:.3g} >= 0)",
        stability={},
        theta=np.array([order_parameters[n] for n in fe.order_parameter_names], dtype=float),
    )


def failed_solution(
    problem: CompiledProblem, status: str, t_start: float, last: Solution | None = None, iterations: int = 0
) -> Solution:
    """A point that did not converge: no values, ``status`` says why; ``last`` (the last attempt, if any)
    gives the residual, method and quadrature order it reached."""
    names = problem.free_energy.order_parameter_names
    return Solution(
        order_parameters={n: None for n in names},
        observables={k: None for k in result_observable_names(problem)},
        converged=False,
        residual=last.residual if last is not None else math.inf,
        iterations=iterations,
        method=last.method if last is not None else "-",
        status=status,
        quad_order=last.quad_order if last is not None else 0,
        quad_error=math.inf,
        wall_time=time.perf_counter() - t_start,
    )


def _analytic_point(problem: CompiledProblem, params, opts: SolverOptions, order: int, t_start: float) -> Solution:
    """A branch with no order parameters: its values, checked like any quadrature."""
    while True:
        coarse = problem.values([], params, problem.quadrature(order))
        fine = problem.values([], params, problem.quadrature(2 * order))
        diffs = [abs(float(fine[k]) - float(coarse[k])) for k in coarse]
        error = max(diffs, default=0.0) if all(np.isfinite(diffs)) else math.inf
        if error <= opts.quad_tol or 2 * order > opts.max_quad_order:
            break
        order *= 2
    if not error <= opts.quad_tol:
        return failed_solution(
            problem, f"analytic branch: values not finite or not resolved (error {error:.2e})", t_start
        )
    values = {k: float(v) for k, v in coarse.items()}
    return Solution(
        order_parameters={},
        observables={k: values[k] for k in result_observable_names(problem)},
        converged=True,
        residual=0.0,
        iterations=0,
        method="analytic",
        status="converged (analytic branch: no order parameters)",
        quad_order=order,
        quad_error=error,
        stability={},
        wall_time=time.perf_counter() - t_start,
        theta=np.zeros(0),
        phi=values["phi"],
    )


def _reference_point(problem: CompiledProblem, params, opts: SolverOptions) -> Solution:
    """The reference saddle point at these control values (solved once, then cached on the problem)."""
    from ..compile import compile_free_energy

    ref = compile_free_energy(problem.free_energy.reference)
    key = (tuple(float(params[c]) for c in ref.control_names), opts)
    cache = problem.__dict__.setdefault("_reference_solutions", {})
    if key not in cache:
        if len(cache) > 512:
            cache.clear()
        cache[key] = solve_point(ref, {c: params[c] for c in ref.control_names}, opts)
    return cache[key]


def _chain_rule_partials(problem: CompiledProblem, reference: Solution, theta, params, quad, values: dict) -> None:
    """Add (d phi / d g)(d g / d c) to d phi / d c for the controls the reference saddle depends on."""
    from ..compile import compile_free_energy

    ref = compile_free_energy(problem.free_energy.reference)
    ref_params = {c: params[c] for c in ref.control_names}
    ref_quad = ref.quadrature(reference.quad_order)
    _, jac = ref.system(reference.theta, ref_params, ref_quad)
    dphi_dg = problem.given_partials(theta, params, quad)
    for c in ref.control_names:
        key = "dphi_d" + c
        if key not in values:
            continue
        dg_dc = -np.linalg.solve(jac, ref.equation_partials(c, reference.theta, ref_params, ref_quad))
        values[key] = float(values[key] + dphi_dg @ dg_dc)


def _resolved(problem: CompiledProblem, theta: np.ndarray, params, quad, quad_tol: float) -> bool:
    """Whether the residual at ``theta`` is the same (within ``quad_tol``) at twice the nodes."""
    fine = problem.quadrature(2 * quad.order)
    coarse_g = np.asarray(problem.residual(theta, params, quad), dtype=float)
    fine_g = np.asarray(problem.residual(theta, params, fine), dtype=float)
    diff = np.abs(fine_g - coarse_g)
    return bool(np.all(np.isfinite(diff)) and np.max(diff) <= quad_tol)


def _order_parameter_shift(problem: CompiledProblem, theta: np.ndarray, params, coarse, fine, jac=None) -> float:
    """max |delta theta|: how far the root moves from n to 2n quadrature nodes.

    To first order, delta = -J^-1 (G_2n - G_n)(theta): bounding it bounds
    the quadrature error of the order parameters themselves, not only of the
    residual (an ill-conditioned J amplifies the latter). J is the Jacobian
    at n nodes (``jac`` when the iteration carried one). Where J is not
    finite (a square-root branch point at the solution) |G_2n - G_n| is used.
    """
    if jac is None:
        g_coarse, jac = problem.system(theta, params, coarse)
    else:
        g_coarse = problem.residual(theta, params, coarse)
    g = np.asarray(problem.residual(theta, params, fine), dtype=float) - np.asarray(g_coarse, dtype=float)
    if not np.all(np.isfinite(g)):
        return math.inf
    if not np.all(np.isfinite(jac)):  # e.g. sqrt(q) at q = 0: bound by the change of the residual itself
        return float(np.max(np.abs(g)))
    try:
        step = np.linalg.solve(np.asarray(jac, dtype=float), g)
    except np.linalg.LinAlgError:  # singular at the solution (two branches cross): the smallest step
        step = np.linalg.lstsq(np.asarray(jac, dtype=float), g, rcond=None)[0]
    return float(np.max(np.abs(step)))


def result_observable_names(problem: CompiledProblem) -> list[str]:
    """Names of the observables a Solution of this problem reports, in order."""
    return [n for n in problem.value_names if n != "phi"]
