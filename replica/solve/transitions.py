"""Transitions: named kinds, each with one locating routine.

A transition is the value of one control parameter (``parameter``) at which
an indicator changes sign, the other controls held fixed:

- ``capacity``: an order parameter reaches its bound (spherical perceptron:
  q -> 1). The indicator is the coefficient C of phi ~ C / eps derived
  symbolically (``FreeEnergy.bound_coefficient``); no saddle point is needed.
- ``entropy_zero``: the observable ``entropy`` of the saddle point crosses
  zero (binary perceptron: the Krauth-Mezard capacity).
- ``at_instability``: the replicon eigenvalue of the saddle point crosses
  zero (de Almeida-Thouless line).
- ``complexity_zero``: the complexity crosses zero (frozen 1RSB of the
  binary perceptron: the Krauth-Mezard capacity).
- ``jamming``: the minimum of the jamming potential Phi (the q_M -> 1 limit
  of the spherical volume) crosses zero; solutions exist above it, so the
  scan walks the bracket downwards.

Locating: the bracket is scanned as a continuation chain (``scan`` points);
the first sign change between two consecutive converged points is refined
by ``scipy.optimize.brentq`` to ``tol``, every evaluation a warm-started
saddle point. Points beyond the model's capacity (where C <= 0 and no
solution exists) are skipped, never solved. If the refinement meets a point
that does not converge, the transition is reported as not found, with why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..compile import CompiledProblem
from ..errors import ModelError
from ..symbolic import FreeEnergy
from .continuation import solve_chain
from .point import Solution, SolverOptions, solve_point


@dataclass(frozen=True)
class TransitionKind:
    name: str
    description: str
    observable: str | None = None  # indicator = this observable of the solution
    bound_limit: bool = False  # indicator = bound coefficient of the same name
    from_above: bool = False  # the scan walks the bracket downwards (solutions exist above the transition)


KINDS: dict[str, TransitionKind] = {
    k.name: k
    for k in [
        TransitionKind("capacity", "an order parameter reaches its bound (q -> 1)", bound_limit=True),
        TransitionKind("entropy_zero", "the entropy crosses zero", observable="entropy"),
        TransitionKind("at_instability", "the replicon eigenvalue crosses zero (AT line)", observable="replicon"),
        TransitionKind(
            "complexity_zero", "the complexity Sigma crosses zero (frozen 1RSB: the capacity)", observable="complexity"
        ),
        TransitionKind(
            "jamming",
            "the minimum of the jamming potential Phi crosses zero (SAT/UNSAT)",
            observable="Phi",
            from_above=True,
        ),
    ]
}


def kind_available(fe: FreeEnergy, kind: str) -> str | None:
    """None if the model defines ``kind``, else the reason it does not."""
    spec = KINDS.get(kind)
    if spec is None:
        return f"unknown transition kind '{kind}' (known: {', '.join(KINDS)})"
    if spec.bound_limit and kind not in fe.bound_limits:
        return f"model '{fe.name}' has no '{kind}' limit (its order parameters do not reach a bound)"
    if spec.observable == "replicon" and fe.replicon is None:
        return f"model '{fe.name}' declares no replicon eigenvalue"
    if spec.observable not in (None, "replicon") and spec.observable not in fe.observables:
        return f"model '{fe.name}' has no observable '{spec.observable}'"
    return None


@dataclass
class TransitionRequest:
    """A transition to locate. ``options`` override the config's model options for it alone (e.g. another
    ansatz), and ``free_energy`` is then the model they build; None means the config's own."""

    kind: str
    parameter: str
    bracket: tuple[float, float]
    tol: float = 1e-9
    scan: int = 41
    options: dict = field(default_factory=dict)
    free_energy: FreeEnergy | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """The options this transition overrides, as text ('' for none)."""
        return ", ".join(f"{k}={v}" for k, v in self.options.items())


@dataclass
class Transition:
    kind: str
    parameter: str
    value: float | None
    tolerance: float
    found: bool
    message: str
    params: dict[str, float] = field(default_factory=dict)
    bracket: tuple[float, float] | None = None
    evaluations: int = 0
    options: str = ""  # the options overridden for this transition (TransitionRequest.label)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "parameter": self.parameter,
            "value": self.value,
            "tolerance": self.tolerance,
            "found": self.found,
            "message": self.message,
            "params": self.params,
            "bracket": list(self.bracket) if self.bracket else None,
            "options": self.options,
        }


class _RefineFailedError(Exception):
    pass


def capacity_skip(problem: CompiledProblem) -> Callable[[dict[str, float]], str | None] | None:
    """A test 'beyond capacity' for models with a capacity limit, else None."""
    if "capacity" not in problem.free_energy.bound_limits:
        return None

    def skip(params: dict[str, float]) -> str | None:
        c = problem.bound_coefficient("capacity", params)
        return None if c > 0 else "beyond capacity: no solution (q -> 1)"

    return skip


def bound_root(problem: CompiledProblem, kind: str, params: dict[str, float], parameter: str, xs, tol: float):
    """First sign change of the bound coefficient C along ``xs``, refined by brentq."""
    from scipy.optimize import brentq  # here, not at import: scipy.optimize costs every process start 0.15 s

    def coefficient(x: float) -> float:
        p = dict(params)
        p[parameter] = x
        return problem.bound_coefficient(kind, p)

    fs = [coefficient(x) for x in xs]
    for a, b, fa, fb in zip(xs[:-1], xs[1:], fs[:-1], fs[1:], strict=False):
        if np.isfinite(fa) and np.isfinite(fb) and fa * fb <= 0:
            if fa == 0:
                return float(a)
            return float(brentq(coefficient, a, b, xtol=tol, rtol=4 * np.finfo(float).eps))
    return None


def _scan_points(problem: CompiledProblem, request: TransitionRequest, params, xs: np.ndarray) -> np.ndarray:
    """Scan points, accumulating geometrically towards the capacity if it is inside.

    Near the capacity q -> 1 and the transitions of interest (the AT line
    close to kappa = 0) crowd against it: points at x_c - h 2^-k, k = 1..10,
    with h the scan spacing, resolve them. Points beyond x_c are dropped.
    """
    if "capacity" not in problem.free_energy.bound_limits:
        return xs
    x_c = bound_root(problem, "capacity", params, request.parameter, xs, 1e-12)
    if x_c is None:
        return xs
    inside = problem.bound_coefficient("capacity", {**params, request.parameter: xs[0]}) > 0
    h = abs(xs[1] - xs[0])
    accumulate = x_c - h * 0.5 ** np.arange(1, 11) if inside else x_c + h * 0.5 ** np.arange(1, 11)
    kept = xs[xs < x_c] if inside else xs[xs > x_c]
    return (
        np.concatenate([kept, accumulate if inside else accumulate[::-1]])
        if inside
        else np.concatenate([accumulate[::-1], kept])
    )


def _indicator(kind: TransitionKind, sol: Solution) -> float:
    value = sol.observables.get(kind.observable)
    return math.nan if value is None else float(value)


def locate(
    problem: CompiledProblem,
    request: TransitionRequest,
    params: dict[str, float],
    opts: SolverOptions,
    theta0: np.ndarray | None = None,
    quad_order: int | None = None,
) -> Transition:
    """Locate one transition at fixed ``params`` (the requested parameter varies).

    ``theta0`` and ``quad_order`` start the scan from a known solution near
    the lower end of the bracket (e.g. a sweep's row) instead of cold.
    """
    reason = kind_available(problem.free_energy, request.kind)
    if reason is not None:
        raise ModelError(f"transitions: {request.kind}", reason)
    kind = KINDS[request.kind]
    others = {k: v for k, v in params.items() if k != request.parameter}
    lo, hi = request.bracket
    result = Transition(request.kind, request.parameter, None, request.tol, False, "", others, (lo, hi))
    result.options = request.label
    xs = np.linspace(lo, hi, max(request.scan, 2))

    if kind.bound_limit:
        root = bound_root(problem, request.kind, params, request.parameter, xs, request.tol)
        result.evaluations = len(xs)
        if root is None:
            result.message = f"no sign change of the {request.kind} coefficient on [{lo:g}, {hi:g}]"
            return result
        result.value, result.found = root, True
        result.message = f"{kind.description}: coefficient of phi ~ C/eps changes sign"
        return result

    xs = _scan_points(problem, request, params, xs)
    if kind.from_above:
        xs = xs[::-1]
    skip = capacity_skip(problem)
    prev: tuple[float, float, np.ndarray, int] | None = None
    converged = failed = skipped = 0
    last_ok = None
    chain = solve_chain(problem, params, request.parameter, xs, opts, theta0=theta0, skip=skip, quad_order=quad_order)
    for p, sol, _why in chain:
        x = p[request.parameter]
        if sol is None:
            skipped += 1
            prev = None
            continue
        result.evaluations += 1
        if not sol.converged:
            failed += 1
            prev = None
            continue
        converged += 1
        last_ok = x
        f = _indicator(kind, sol)
        if prev is not None and np.isfinite(f) and np.sign(f) != np.sign(prev[1]):
            return _refine(problem, request, kind, params, prev, (x, f, sol.theta, sol.quad_order), opts, result)
        prev = (x, f, sol.theta, sol.quad_order)
    if last_ok is None:
        extent = f"[{lo:g}, {hi:g}]"
    else:
        extent = f"[{last_ok:g}, {hi:g}]" if kind.from_above else f"[{lo:g}, {last_ok:g}]"
    result.message = (
        f"no sign change of {kind.observable} on {extent}: {converged} points converged, "
        f"{failed} failed, {skipped} beyond capacity"
    )
    return result


def _refine(problem, request, kind, params, left, right, opts, result) -> Transition:
    """brentq between two converged points with indicators of opposite sign.

    Every evaluation starts from the nearer known solution and at the larger
    of the two ends' quadrature orders (the check may still raise it).
    """
    from scipy.optimize import brentq

    if left[0] > right[0]:  # a scan from above
        left, right = right, left
    (a, fa, ta, order_a), (b, _fb, tb, order_b) = left, right
    order = max(order_a, order_b)
    state = {"theta": ta, "x": a}

    def g(x: float) -> float:
        p = dict(params)
        p[request.parameter] = x
        start = ta if abs(x - a) <= abs(x - b) else tb
        if abs(x - state["x"]) < abs(x - (a if start is ta else b)):
            start = state["theta"]
        sol = solve_point(problem, p, opts, theta0=start, warm=True, quad_order=order)
        result.evaluations += 1
        if not sol.converged:
            where = f"{request.parameter}={x:.12g}"
            raise _RefineFailedError(f"the saddle point at {where} did not converge ({sol.status})")
        state["theta"], state["x"] = sol.theta, x
        return _indicator(kind, sol)

    if fa == 0:
        value = a
    else:
        try:
            value = brentq(g, a, b, xtol=request.tol, rtol=4 * np.finfo(float).eps)
        except _RefineFailedError as exc:
            result.message = f"sign change of {kind.observable} in [{a:.6g}, {b:.6g}] but {exc}"
            result.bracket = (a, b)
            return result
    result.value, result.found = float(value), True
    result.message = f"{kind.description}: sign change of {kind.observable} refined by brentq"
    return result
