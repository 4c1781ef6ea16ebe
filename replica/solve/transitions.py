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
- ``d_min``: the Franz-Parisi potential S_FP crosses zero at small distance
  d (below d_min no solution lies at that distance from a typical one). The
  scan is a continuation chain from the top of the bracket downwards,
  starting where the potential is large and easy.
- ``glass``: a liquid layer of a layered model turns glassy: the layer's stability
  function (its observable ``glass_<layer>``, positive where its liquid is unstable)
  crosses zero; the request names the ``layer``.
- ``external_entropy_zero``: the external entropy S_E of the local-entropy measure crosses zero
  (at y_s: beyond it the replica-symmetric count of references is negative).
- ``dense_region_loss``: the conjugate p_hat of the distance of the frozen (y = inf) local
  entropy reaches 0 (from above): the local entropy S_I(d) stops being monotonic, dense regions
  are lost. At fixed d it is the sign change of p_hat along the parameter (alpha_0(d)); with
  ``over: {d: [lo, hi]}`` the transition is the smallest alpha_0(d) over that range (alpha_U,
  where p_hat first reaches 0), minimised by bounded Brent in d, each alpha_0(d) a located
  sign change.
- ``first_order``: the free entropies phi of two branches cross. The
  branches are those of continuation forwards (from the low end of the
  bracket) and backwards (from the high end; the model's ``backward_branch``
  if it declares one, e.g. perfect generalization); the difference
  phi_forward - phi_backward is bracketed on the two scans, where the two
  solutions differ, and refined by brentq, each evaluation solving both
  branches warm.
- ``spinodal``: a branch ends at a fold, where d(control)/d theta = 0 and
  the Jacobian of the saddle-point system is singular. The continuation
  scan brackets the end (the last converged point before the chain fails or
  jumps); from there the branch is parametrised by the order parameter
  theta_j that moves most near the fold (the component of the Jacobian's
  smallest singular vector), the control x becoming an unknown of the
  bordered system G(theta, x) = 0 (pseudo-arclength style), and the fold is
  the zero of dx/d theta_j (implicit function theorem), refined by brentq.
  The quadrature is checked by repeating the refinement at twice the order.

Locating: the bracket is scanned as a continuation chain (``scan`` points);
the first sign change between two consecutive converged points is refined
by ``scipy.optimize.brentq`` to ``tol``, every evaluation a warm-started
saddle point. Points beyond the model's capacity (where C <= 0 and no
solution exists) are skipped, never solved. If the refinement meets a point
that does not converge, the transition is reported as not found, with why.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..compile import CompiledProblem, compile_free_energy
from ..errors import ModelError
from ..symbolic import FreeEnergy, OrderParameter
from .continuation import solve_chain
from .methods import Domain, newton
from .point import Solution, SolverOptions, solve_point


@dataclass(frozen=True)
class TransitionKind:
    name: str
    description: str
    observable: str | None = None  # indicator = this observable of the solution
    bound_limit: bool = False  # indicator = bound coefficient of the same name
    downwards: bool = False  # scan the bracket from its high end down
    routine: str = "sign_change"  # sign_change | first_order | spinodal
    model: str | None = None  # the kind belongs to this model (its indicator's name may recur elsewhere)


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
            downwards=True,
            model="perceptron",  # the jamming potential (local_entropy's Phi is another quantity)
        ),
        TransitionKind("external_entropy_zero", "the external entropy S_E crosses zero (y_s)", observable="S_E"),
        TransitionKind(
            "dense_region_loss",
            "p_hat of the frozen local entropy reaches 0: dense regions are lost (alpha_U)",
            observable="p_hat",
            model="local_entropy",
        ),
        TransitionKind(
            "glass", "a liquid layer turns glassy (its stability function crosses zero)", observable="glass"
        ),
        TransitionKind("first_order", "the free entropies of two branches cross", routine="first_order"),
        TransitionKind("spinodal", "a branch ends at a fold (d control / d theta = 0)", routine="spinodal"),
        TransitionKind(
            "d_min", "the Franz-Parisi potential crosses zero at small distance", observable="S_FP", downwards=True
        ),
    ]
}
BRANCHES = ("forward", "backward")


def kind_available(fe: FreeEnergy, kind: str) -> str | None:
    """None if the model defines ``kind``, else the reason it does not."""
    name = kind
    spec = KINDS.get(kind)
    if spec is None:
        return f"unknown transition kind '{kind}' (known: {', '.join(KINDS)})"
    if spec.model is not None and fe.name != spec.model:
        return f"kind '{kind}' belongs to model '{spec.model}', not '{fe.name}'"
    if spec.bound_limit and kind not in fe.bound_limits:
        return f"model '{fe.name}' has no '{kind}' limit (its order parameters do not reach a bound)"
    if spec.routine != "sign_change" and not fe.order_parameters:
        return f"model '{fe.name}' (this branch) has no order parameters: it neither folds nor crosses"
    if name == "glass":
        if fe.layers is None:
            return f"model '{fe.name}' has no layers that can turn glassy (this depth has no hidden layer)"
        return None
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

    branch: str = "forward"  # spinodal: the end of the forward or of the backward branch
    spacing: str = "linear"  # of the scan points: linear | log (a transition at small values, e.g. d_min)
    layer: int | None = None  # glass: the layer that turns glassy
    # (control, lo, hi): the transition is the smallest value of the parameter over this range of another
    # control (dense_region_loss: alpha_U = min_d alpha_0(d)); tolerance ``over_tol`` in that control
    over: tuple[str, float, float] | None = None
    over_tol: float = 1e-4
    # solver settings of this transition alone, over the config's (e.g. a looser quad_tol for a ladder whose
    # order parameters are ill-determined along flat directions while the indicator is resolved)
    solver: dict = field(default_factory=dict)


def request_kind(request: TransitionRequest) -> TransitionKind:
    """The kind of ``request``, its indicator made specific (glass: the requested layer's stability function)."""
    kind = KINDS[request.kind]
    if request.kind == "glass":
        return dataclasses.replace(kind, observable=f"glass_{request.layer}")
    return kind


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
    branch: str | None = None  # spinodal: which branch ends
    layer: int | None = None  # glass: which layer

    def to_dict(self) -> dict:
        out = {
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
        if self.branch is not None:
            out["branch"] = self.branch
        if self.layer is not None:
            out["layer"] = self.layer
        return out


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


ACCUMULATE = 20  # scan points at x_c - h 2^-k, k = 1 .. ACCUMULATE, below a capacity inside the bracket


def _scan_points(problem: CompiledProblem, request: TransitionRequest, params, xs: np.ndarray) -> np.ndarray:
    """Scan points, accumulating geometrically towards the capacity if it is inside.

    Near the capacity q -> 1 and the transitions of interest (the AT line
    close to kappa = 0, the 1RSB jamming point, whose UNSAT window below the RS
    capacity narrows as kappa -> 0) crowd against it: points at x_c - h 2^-k,
    k = 1..ACCUMULATE, with h the scan spacing, resolve them. Points beyond x_c
    are dropped.
    """
    if "capacity" not in problem.free_energy.bound_limits:
        return xs
    x_c = bound_root(problem, "capacity", params, request.parameter, xs, 1e-12)
    if x_c is None:
        return xs
    inside = problem.bound_coefficient("capacity", {**params, request.parameter: xs[0]}) > 0
    h = abs(xs[1] - xs[0])
    steps = h * 0.5 ** np.arange(1, ACCUMULATE + 1)
    accumulate = x_c - steps if inside else x_c + steps
    kept = xs[xs < x_c] if inside else xs[xs > x_c]
    return (
        np.concatenate([kept, accumulate if inside else accumulate[::-1]])
        if inside
        else np.concatenate([accumulate[::-1], kept])
    )


def _indicator(kind: TransitionKind, sol: Solution) -> float:
    value = sol.observables.get(kind.observable)
    return math.nan if value is None else float(value)


def backward_problem(problem: CompiledProblem) -> CompiledProblem:
    """The problem a continuation from the high end follows: the model's backward branch, else itself."""
    branch = problem.free_energy.backward_branch
    return problem if branch is None else compile_free_energy(branch)


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
    kind = request_kind(request)
    if request.solver:
        opts = dataclasses.replace(opts, **request.solver)
    if request.over is not None:
        return _minimum_over(problem, request, params, opts, theta0, quad_order)
    others = {k: v for k, v in params.items() if k != request.parameter}
    lo, hi = request.bracket
    result = Transition(request.kind, request.parameter, None, request.tol, False, "", others, (lo, hi))
    result.options = request.label
    result.layer = request.layer
    if request.kind == "glass":
        problem, theta0, quad_order, why = _liquid_side(problem, request, params, opts, theta0, quad_order)
        if why is not None:
            result.message = why
            return result
    count = max(request.scan, 2)
    xs = np.geomspace(lo, hi, count) if request.spacing == "log" else np.linspace(lo, hi, count)
    if kind.routine == "first_order":
        return _first_order(problem, request, params, opts, xs, result, theta0)
    if kind.routine == "spinodal":
        result.branch = request.branch
        return _spinodal(problem, request, params, opts, xs, result, theta0)

    if kind.bound_limit:
        root = bound_root(problem, request.kind, params, request.parameter, xs, request.tol)
        result.evaluations = len(xs)
        if root is None:
            result.message = f"no sign change of the {request.kind} coefficient on [{lo:g}, {hi:g}]"
            return result
        result.value, result.found = root, True
        result.message = f"{kind.description}: coefficient of phi ~ C/eps changes sign"
        return result

    ladder = problem.free_energy.ladder
    if request.kind == "jamming" and ladder is not None and ladder.one_step is not None:
        return _jamming_from_one_step(problem, request, kind, params, opts, result)

    xs = _scan_points(problem, request, params, xs)
    if kind.downwards:
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
            here = (x, f, sol.theta, sol.quad_order)
            if kind.downwards:
                prev, here = _narrow(problem, request, kind, params, prev, here, opts, result)
            left, right = (prev, here) if prev[0] < here[0] else (here, prev)
            return _refine(problem, request, kind, params, left, right, opts, result)
        prev = (x, f, sol.theta, sol.quad_order)
    start = hi if kind.downwards else lo
    extent = f"[{min(start, last_ok):g}, {max(start, last_ok):g}]" if last_ok is not None else f"[{lo:g}, {hi:g}]"
    result.message = (
        f"no sign change of {kind.observable} on {extent}: {converged} points converged, "
        f"{failed} failed, {skipped} beyond capacity"
    )
    return result


def _liquid_side(problem, request, params, opts, theta0, quad_order):
    """The problem a glass transition of ``request.layer`` is located on: the layers liquid at the low
    end of the bracket held liquid over the whole scan.

    The transition is where the liquid of the layer turns unstable (its stability function, computed
    on the liquid, crosses zero), with the layers glassy at the low end glassy throughout: the scan
    then never opens a layer just above its threshold, where the new glassy solution is of the size
    of the tolerances. Returns (problem, start, order, None), or a reason the bracket cannot be used.
    """
    p = dict(params)
    p[request.parameter] = request.bracket[0]
    sol = solve_point(problem, p, opts, theta0=theta0, warm=theta0 is not None, quad_order=quad_order)
    where = f"{request.parameter} = {request.bracket[0]:g}"
    if not sol.converged:
        return problem, theta0, quad_order, f"the low end of the bracket ({where}) did not converge ({sol.status})"
    lay = problem.layers
    glassy = lay.glassy(sol.theta)
    if request.layer - 1 in glassy:
        return problem, theta0, quad_order, f"layer {request.layer} is already glassy at the low end ({where})"
    held = problem.keeping_liquid(set(range(lay.count)) - glassy)
    return held, sol.theta, sol.quad_order, None


JAMMING_WALK, JAMMING_HALVINGS, JAMMING_ITERATIONS = 30, 6, 100


def _jamming_from_one_step(problem, request, kind, params, opts, result) -> Transition:
    """The jamming point of a ladder of several steps, reached from that of its one-step version.

    Phi_min(alpha) is a minimum over the ansatz, so it is concave in alpha
    (a minimum of functions linear in alpha) and decreases with the ansatz:
    at the one-step point alpha_1 (located first, on the request's bracket)
    the ladder started from the 1RSB solution (``ParisiLadder.from_one_step``)
    has Phi <= 0. From there Newton's method on Phi, with the slope
    dPhi/dalpha = the energetic term (envelope theorem), walks down to the
    zero, each point warm from the last. On a concave decreasing Phi the
    Newton iterates approach the zero from above and never cross it, so
    every point stays on the UNSAT side, where the interior minimum exists
    (below alpha_J it soon ends). Converged when the Newton step is below
    ``tol``; a point that does not converge (the walk left the branch) is
    retried with half the step.
    """
    par = request.parameter
    one = compile_free_energy(problem.free_energy.ladder.one_step)
    first = locate(one, request, params, opts)
    result.evaluations += first.evaluations
    if not first.found:
        result.message = f"the one-step jamming point, where the ladder starts, was not found ({first.message})"
        return result
    x = float(first.value)
    point = {**params, par: x}
    start = solve_point(one, point, opts)
    result.evaluations += 1
    if not start.converged:
        result.message = f"the one-step solution at {par}={x:.12g} did not converge ({start.status})"
        return result
    sol = solve_point(problem, point, opts, theta0=problem.ladder.from_one_step(start.theta, point))
    result.evaluations += 1
    # a warm point converges in tens of iterations; off the branch it would spend them all
    walk = dataclasses.replace(opts, max_iter=min(opts.max_iter, JAMMING_ITERATIONS))
    halvings = 0
    for _ in range(JAMMING_WALK):
        if not sol.converged:
            result.message = f"the ladder at {par}={x:.12g} did not converge ({sol.status})"
            return result
        f, slope = _indicator(kind, sol), sol.observables.get("dphi_d" + par)
        step = f / slope if slope is not None and slope < 0 else math.nan
        if not (abs(step) <= request.tol or step > 0):  # within tol of the zero (either side), or above it
            result.message = f"Phi = {f:.3g} with slope {slope} at {par}={x:.12g}: no way down to its zero"
            return result
        if abs(step) <= request.tol:
            result.value, result.found = float(x - step), True
            result.message = f"{kind.description}: Newton on Phi from the one-step point {first.value:.9g}"
            return result
        while True:
            trial = solve_point(problem, {**params, par: x - step}, walk, sol.theta, True, sol.quad_order)
            result.evaluations += 1
            if trial.converged or halvings >= JAMMING_HALVINGS:
                break
            halvings += 1
            step /= 2
        x, sol = x - step, trial
    result.message = f"Phi still negative after {JAMMING_WALK} Newton steps below the one-step point {first.value:.9g}"
    return result


def _minimum_over(problem, request, params, opts, theta0, quad_order) -> Transition:
    """min over c in [lo, hi] of the transition x_0(c) located at fixed c (bounded Brent in c).

    Every evaluation locates the transition on the requested bracket at that c (a scan and a
    brentq refinement). A c where it is not found ends the search, reported as not found.
    """
    from dataclasses import replace

    from scipy.optimize import minimize_scalar

    name, lo, hi = request.over
    inner = replace(request, over=None)
    located: dict[float, Transition] = {}

    def x0(c: float) -> float:
        t = locate(problem, inner, {**params, name: c}, opts, theta0, quad_order)
        located[c] = t
        if not t.found:
            raise _RefineFailedError(f"at {name}={c:.8g}: {t.message}")
        return t.value

    others = {k: v for k, v in params.items() if k not in (request.parameter, name)}
    result = Transition(request.kind, request.parameter, None, request.tol, False, "", others, request.bracket)
    result.options = request.label
    try:
        best = minimize_scalar(x0, bounds=(lo, hi), method="bounded", options={"xatol": request.over_tol})
    except _RefineFailedError as exc:
        result.message = f"minimum over {name} in [{lo:g}, {hi:g}] not found: {exc}"
        result.evaluations = sum(t.evaluations for t in located.values())
        return result
    c_best = min(located, key=lambda c: located[c].value)
    result.evaluations = sum(t.evaluations for t in located.values())
    result.value, result.found = located[c_best].value, True
    result.params[name] = float(c_best)
    result.message = (
        f"{KINDS[request.kind].description}: smallest {request.parameter} over {name} in [{lo:g}, {hi:g}] "
        f"at {name}={c_best:.6g} (bounded Brent, {best.nfev} located transitions, {name} to {request.over_tol:g})"
    )
    return result


NARROW_POINTS, NARROW_DEPTH = 8, 2


def _narrow(problem, request, kind, params, upper, lower, opts, result, depth: int = NARROW_DEPTH):
    """A tighter bracket along the branch followed from above: (upper, lower) points.

    A kind scanned downwards may see its sign change only because the lower
    point jumped to another branch (the followed one ended in between). The
    bracket is walked from its upper end in NARROW_POINTS steps; the first
    sign change between consecutive converged points of that walk replaces
    it (``depth`` times). If the walk fails before a sign change, the
    bracket is kept (the refinement then reports where it failed).
    """
    if depth == 0:
        return upper, lower
    xs = np.linspace(upper[0], lower[0], NARROW_POINTS + 2)[1:-1]
    prev = upper
    chain = solve_chain(problem, params, request.parameter, xs, opts, theta0=upper[2], quad_order=upper[3])
    for p, sol, _why in chain:
        result.evaluations += 1
        if sol is None or not sol.converged:
            return upper, lower
        here = (p[request.parameter], _indicator(kind, sol), sol.theta, sol.quad_order)
        if np.isfinite(here[1]) and np.sign(here[1]) != np.sign(prev[1]):
            return _narrow(problem, request, kind, params, prev, here, opts, result, depth - 1)
        prev = here
    return prev, lower


REFINE_STARTS = 3  # known solutions a brentq evaluation may start from, nearest first


def _refine(problem, request, kind, params, left, right, opts, result) -> Transition:
    """brentq between two converged points with indicators of opposite sign.

    Every evaluation starts from the nearest solution known so far (the two
    ends, then brentq's evaluations) and at the larger of the two ends'
    quadrature orders (the check may still raise it). A kind scanned
    downwards follows its branch from above: each evaluation starts from the
    nearest known solution at a larger value (below the transition the
    lower end may lie on another branch, e.g. the degenerate mu -> infinity
    minimum of the jamming potential).
    """
    if left[0] > right[0]:  # a scan from above
        left, right = right, left
    (a, fa, ta, order_a), (b, fb, tb, order_b) = left, right
    order = max(order_a, order_b)
    known: list[tuple[float, np.ndarray]] = [(a, ta), (b, tb)]

    def g(x: float) -> float:
        if x in (a, b):  # the ends are known: brentq asks for them first
            return fa if x == a else fb
        p = dict(params)
        p[request.parameter] = x
        candidates = [k for k in known if k[0] >= x] if kind.downwards else known
        for _, start in sorted(candidates, key=lambda k: abs(k[0] - x))[:REFINE_STARTS]:
            # the nearest known solution first; from another if that one leads off the branch
            # (e.g. to the open end q -> 1, where the scaled equations of a capacity vanish too)
            sol = solve_point(problem, p, opts, theta0=start, warm=True, quad_order=order)
            result.evaluations += 1
            if sol.converged:
                break
        if not sol.converged:
            where = f"{request.parameter}={x:.12g}"
            raise _RefineFailedError(f"the saddle point at {where} did not converge ({sol.status})")
        known.append((x, sol.theta))
        return _indicator(kind, sol)

    found = f"{kind.description}: sign change of {kind.observable} refined by brentq"
    if fa == 0 or fb == 0:
        result.value, result.found, result.message = float(a if fa == 0 else b), True, found
        return result
    return _brentq(result, g, a, b, request.tol, f"sign change of {kind.observable}", found)


def _brentq(result: Transition, g, a: float, b: float, tol: float, what: str, found: str) -> Transition:
    """``result`` with the zero of g on [a, b] (brentq to ``tol``), or why an evaluation failed there."""
    from scipy.optimize import brentq

    try:
        value = brentq(g, a, b, xtol=tol, rtol=4 * np.finfo(float).eps)
    except _RefineFailedError as exc:
        result.message = f"{what} in [{a:.6g}, {b:.6g}] but {exc}"
        result.bracket = (a, b)
        return result
    result.value, result.found, result.message = float(value), True, found
    return result


# --- first-order transitions: two branches ---------------------------------------------------------


def _distinct(sf: Solution, sb: Solution) -> bool:
    """Whether two converged points are different solutions (not one branch reached twice)."""
    if len(sf.theta) != len(sb.theta):
        return True
    return bool(np.max(np.abs(np.asarray(sf.theta) - np.asarray(sb.theta)), initial=0.0) > 1e-6)


def _first_order(problem, request, params, opts, xs, result, theta0) -> Transition:
    """phi_forward - phi_backward changes sign: bracketed on the two scans, refined by brentq."""
    other = backward_problem(problem)
    par = request.parameter
    start = None if other is not problem else theta0
    # each branch as far as it goes: beyond its end a chain only fails (slowly) or lands on the other branch
    ends = [
        _branch_end(solve_chain(problem, params, par, xs, opts, theta0=theta0))[0],
        _branch_end(solve_chain(other, params, par, xs[::-1], opts, theta0=start))[0],
    ]
    forward, backward = ({p[par]: sol for p, sol in points} for points in ends)
    forward = [forward.get(float(x)) for x in xs]
    backward = [backward.get(float(x)) for x in xs]
    result.evaluations = sum(len(points) for points in ends)
    diff = [
        f.phi - b.phi if f is not None and b is not None and f.converged and b.converged and _distinct(f, b) else np.nan
        for f, b in zip(forward, backward, strict=True)
    ]
    both = int(np.sum(np.isfinite(diff)))
    for i in range(len(xs) - 1):
        if np.isfinite(diff[i]) and np.isfinite(diff[i + 1]) and np.sign(diff[i]) != np.sign(diff[i + 1]):
            break
    else:
        result.message = (
            f"no crossing of phi between the forward and backward branches on [{xs[0]:g}, {xs[-1]:g}] "
            f"({both} of {len(xs)} points with two distinct branches)"
        )
        return result
    a, b = float(xs[i]), float(xs[i + 1])
    warm = {"f": (a, forward[i]), "b": (b, backward[i + 1])}

    def solve(which: str, prob: CompiledProblem, x: float) -> Solution:
        near, sol0 = warm[which]
        p = dict(params)
        p[par] = x
        sol = solve_point(prob, p, opts, theta0=sol0.theta, warm=True, quad_order=sol0.quad_order)
        result.evaluations += 1
        if not sol.converged:
            raise _RefineFailedError(f"the {which} branch at {par}={x:.12g} did not converge ({sol.status})")
        warm[which] = (x, sol)
        return sol

    def g(x: float) -> float:
        return solve("f", problem, x).phi - solve("b", other, x).phi

    found = f"{KINDS['first_order'].description}: phi_forward - phi_backward refined by brentq"
    return _brentq(result, g, a, b, request.tol, "phi of the two branches crosses", found)


# --- spinodals: the end of a branch ----------------------------------------------------------------


def _branch_end(chain) -> tuple[list, str]:
    """The converged points of a continuation up to where it fails or jumps, and why it stopped.

    A jump (onto another branch) is a step in theta more than five times the
    previous one and larger than 0.05.
    """
    points: list = []
    for p, sol, why in chain:
        if sol is None or not sol.converged:
            return points, f"the continuation fails ({why or sol.status})"
        if len(points) >= 2:
            last = np.max(np.abs(sol.theta - points[-1][1].theta), initial=0.0)
            before = np.max(np.abs(points[-1][1].theta - points[-2][1].theta), initial=0.0)
            if last > max(5 * before, 0.05):
                return points, "the continuation jumps to another solution"
        points.append((p, sol))
    return points, ""


class _Bordered:
    """The branch through (theta, x) parametrised by theta_j: G(theta, x) = 0 in y = (theta_-j, x)."""

    def __init__(self, problem: CompiledProblem, params, parameter: str, j: int, quad_order: int):
        self.problem, self.params, self.parameter, self.j = problem, dict(params), parameter, j
        self.quad = problem.quadrature(quad_order)
        fe = problem.free_energy
        others = [p for i, p in enumerate(fe.order_parameters) if i != j]
        control = next(c for c in fe.controls if c.name == parameter)
        as_unknown = OrderParameter(parameter, 0.0, control.lower, control.upper, True, True)
        self.domain = Domain(others + [as_unknown])

    def theta(self, y, s) -> np.ndarray:
        return np.insert(np.asarray(y[:-1], dtype=float), self.j, s)

    def _params(self, x):
        p = dict(self.params)
        p[self.parameter] = float(x)
        return p

    def system(self, y, s):
        theta, p = self.theta(y, s), self._params(y[-1])
        g, jac = self.problem.system(theta, p, self.quad)
        dg_dx = self.problem.equation_partials(self.parameter, theta, p, self.quad)
        bordered = np.column_stack([np.delete(jac, self.j, axis=1), dg_dx])
        return g, bordered, jac[:, self.j]

    def solve(self, y0, s, tol: float):
        tol = max(tol, 1e-11)  # the bordered residual mixes scales: its rounding floor is near 1e-12
        it = newton(
            lambda y: self.system(y, s)[:2],
            lambda y: self.problem.residual(self.theta(y, s), self._params(y[-1]), self.quad),
            np.asarray(y0, dtype=float),
            self.domain,
            tol=tol,
            max_iter=50,
        )
        return it.theta if it.converged else None

    def slope(self, y, s) -> float:
        """dx/ds along the branch: dy/ds = -(dG/dy)^-1 dG/ds."""
        _, bordered, dg_ds = self.system(y, s)
        return float(-np.linalg.solve(bordered, dg_ds)[-1])


def _fold(problem, params, parameter, sol: Solution, x0: float, direction: float, opts, order: int, tol: float):
    """Walk the branch in s = theta_j from (sol, x0) until dx/ds changes sign; brentq on dx/ds there.

    ``direction`` is the sign of the chain's steps in x (+1 forwards). Returns (x*, s*, j) or a reason.
    """
    from scipy.optimize import brentq

    theta = np.asarray(sol.theta, dtype=float)
    p0 = dict(params)
    p0[parameter] = x0
    _, jac = problem.system(theta, p0, problem.quadrature(order))
    j = int(np.argmax(np.abs(np.linalg.svd(jac)[2][-1])))
    walk = _Bordered(problem, params, parameter, j, order)
    y = np.append(np.delete(theta, j), x0)
    s = float(theta[j])
    slope = walk.slope(y, s)
    if not np.isfinite(slope) or slope == 0:
        return f"the branch cannot be parametrised by {problem.free_energy.order_parameters[j].name} here"
    ds = np.sign(slope * direction)  # move s so that x moves on in the chain's direction
    h = 1e-3 * max(1.0, abs(s))
    states = {s: y}
    for _ in range(400):
        y_new = walk.solve(y, s + ds * h, opts.tol)
        if y_new is None:
            h /= 2
            if h < 1e-12:
                return "the bordered continuation failed before the fold"
            continue
        new_slope = walk.slope(y_new, s + ds * h)
        if np.sign(new_slope) != np.sign(slope):
            a, b = s, s + ds * h
            states[b] = y_new

            def dxds(t: float) -> float:
                near = min(states, key=lambda k: abs(k - t))
                y_t = walk.solve(states[near], t, opts.tol)
                if y_t is None:
                    raise _RefineFailedError(f"the bordered system did not converge at theta_j={t:.12g}")
                states[t] = y_t
                return walk.slope(y_t, t)

            s_star = brentq(dxds, min(a, b), max(a, b), xtol=1e-10 * max(1.0, abs(s)), rtol=4 * np.finfo(float).eps)
            y_star = walk.solve(states[min(states, key=lambda k: abs(k - s_star))], s_star, opts.tol)
            return float(y_star[-1]), s_star, j, walk.theta(y_star, s_star)
        s, y, slope = s + ds * h, y_new, new_slope
        states[s] = y
        h = min(2 * h, 0.05 * max(1.0, abs(s)))
    return "no fold within 400 steps of the bordered continuation"


def _spinodal(problem, request, params, opts, xs, result, theta0) -> Transition:
    """The end of the forward (or backward) branch: a fold, located on the branch parametrised by theta_j."""
    prob = problem if request.branch == "forward" else backward_problem(problem)
    if not prob.free_energy.order_parameters:
        result.message = f"the {request.branch} branch is analytic (no order parameters): it does not end"
        return result
    values = xs if request.branch == "forward" else xs[::-1]
    start = theta0 if prob is problem else None
    points, why = _branch_end(solve_chain(prob, params, request.parameter, values, opts, theta0=start))
    result.evaluations = len(points) + 1
    if not why:
        result.message = f"the {request.branch} branch does not end on [{xs[0]:g}, {xs[-1]:g}]"
        return result
    if not points:
        result.message = f"the {request.branch} branch has no converged point on [{xs[0]:g}, {xs[-1]:g}]"
        return result
    p_last, sol = points[-1]
    direction = 1.0 if request.branch == "forward" else -1.0
    order = sol.quad_order
    previous = None
    try:
        while True:
            x_last = p_last[request.parameter]
            found = _fold(prob, params, request.parameter, sol, x_last, direction, opts, order, request.tol)
            if isinstance(found, str):
                result.message = f"{why}, but {found}"
                return result
            if previous is not None and abs(found[0] - previous[0]) <= max(request.tol, opts.quad_tol):
                break
            if 2 * order > opts.max_quad_order:
                result.message = f"the fold moves by more than the tolerance up to {order} quadrature nodes"
                return result
            previous, order = found, 2 * order
    except (_RefineFailedError, np.linalg.LinAlgError) as exc:
        result.message = f"{why}, but the fold could not be refined: {exc}"
        return result
    x_star, s_star, j, _theta = found
    name = prob.free_energy.order_parameters[j].name
    result.value, result.found = x_star, True
    result.message = (
        f"{KINDS['spinodal'].description}: {why} after {request.parameter}={p_last[request.parameter]:.6g}; "
        f"fold at {name}={s_star:.10g} ({order} quadrature nodes)"
    )
    return result
