"""Min-max saddle points: phi minimised in the order parameters, maximised in their conjugates.

A model whose entropic term is a Legendre transform (the entropy of Ising spins at
overlaps q, through conjugates q_hat) has a saddle point that is neither a minimum nor
a maximum of phi: the free entropy is

    psi(x) = max_y phi(x, y),      phi_saddle = min_x psi(x),

with x the order parameters and y the conjugates the model declares
``FreeEnergy.maximised`` (phi is concave in them: the spin term of the conjugate is
-q_hat (1 - q)/2 + E ln 2cosh(sqrt(q_hat) z), and its q_hat-derivative (q - E tanh^2)/2
decreases). Newton on grad phi = 0 stops at any stationary point, and an RSB ansatz
on a fixed ladder has many (levels merged in every pattern: lower-dimensional Parisi
functions); the Parisi solution is the one that minimises psi. So the point is found
by quasi-Newton descent of psi (``descend``): each evaluation solves the conjugates
at fixed x by Newton (warm from the last evaluation), and by the envelope theorem

    d psi / dx = d phi / dx at (x, y*(x)),
    d^2 psi / dx^2 = H_xx - H_xy H_yy^-1 H_yx   (the Schur complement of the Hessian of phi).

Descent does not stop at a saddle of psi that it approaches, but it cannot move from a start that
is exactly stationary (an RS point embedded in the ladder, levels merged): where it converges, the
curvature of psi is read, and along a direction of negative curvature the descent is started again
(``_negative_curvature_exit``); a point where psi still curves downwards is not a result. So it
selects the Parisi solution among the fixed-ladder roots.

From a warm start (a converged neighbour of a continuation) Newton on grad phi = 0 stays
on the neighbour's branch and is much cheaper; its root is accepted as the min-max point
only where ``is_min_max`` holds there (H_yy negative definite, the Schur complement
positive definite: a strict local minimum of psi), else the point is found by descent.
"""

from __future__ import annotations

import numpy as np

from ..compile import CompiledProblem
from .methods import Domain, Iteration, descend, domain_of, newton
from .pinned import PinnedProblem

INNER_ITERATIONS = 50  # Newton iterations of one conjugate solve
ESCAPES = 3  # descents restarted from a saddle of psi along its most negative curvature
ESCAPE_STEPS = (0.1, 0.03, 0.01, 0.003)  # the trial steps along it, relative to max(1, |x|)
NEGATIVE_CURVATURE = 1e-7  # the lowest curvature of psi, relative to its largest, that makes a saddle


def conjugate_mask(problem) -> np.ndarray:
    """The order parameters that phi is maximised in (the declared conjugates)."""
    fe = problem.free_energy
    return np.array([p.name in fe.maximised for p in fe.order_parameters], dtype=bool)


def _psi_hessian(h: np.ndarray, y_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(d^2 psi / dx^2 = H_xx - H_xy H_yy^-1 H_yx, H_yy) from the Hessian h of phi."""
    x_mask = ~y_mask
    hxx, hxy, hyy = h[np.ix_(x_mask, x_mask)], h[np.ix_(x_mask, y_mask)], h[np.ix_(y_mask, y_mask)]
    return hxx - hxy @ np.linalg.solve(hyy, hxy.T), hyy


def is_min_max(problem: CompiledProblem, theta, params, quad) -> bool:
    """Whether the stationary point ``theta`` is a strict local min over the order parameters of the max
    over the conjugates: H_yy negative definite and d^2 psi / dx^2 positive definite (their symmetric
    parts; a singular or non-finite Hessian is not)."""
    y_mask = conjugate_mask(problem)
    h = np.asarray(problem.hessian(theta, params, quad), dtype=float)
    if not np.all(np.isfinite(h)):
        return False
    try:
        psi, hyy = _psi_hessian(h, y_mask)
    except np.linalg.LinAlgError:
        return False
    if not np.all(np.isfinite(psi)):
        return False
    lowest = np.linalg.eigvalsh((psi + psi.T) / 2)[0] if psi.size else 1.0
    highest = np.linalg.eigvalsh((hyy + hyy.T) / 2)[-1] if hyy.size else -1.0
    return bool(lowest > 0 and highest < 0)


def descend_saddle(problem: CompiledProblem, params, quad, theta0, *, tol: float, max_iter: int) -> Iteration:
    """min_x max_y phi(x, y) from ``theta0`` (see the module docstring); the full theta in the Iteration."""
    theta0 = np.asarray(theta0, dtype=float)
    y_mask = conjugate_mask(problem)
    x_mask = ~y_mask
    full_domain = domain_of(problem.free_energy)
    x_domain = Domain([p for p, m in zip(full_domain.parameters, x_mask, strict=True) if m])
    state = {"theta": theta0.copy(), "x": None, "jac": None, "inner": 0}

    def solved(x) -> np.ndarray | None:
        """theta with the conjugates at their maximum for the order parameters x (None if that fails);
        the last x solved is remembered (descent asks for phi, then the curvature, at the same x)."""
        if state["x"] is not None and np.array_equal(x, state["x"]):
            return state["theta"]
        theta = state["theta"].copy()
        theta[x_mask] = x
        pinned = PinnedProblem(problem, y_mask, theta)
        it = newton(
            lambda t: pinned.system(t, params, quad),
            lambda t: pinned.residual(t, params, quad),
            theta[y_mask],
            domain_of(pinned.free_energy),
            tol=tol,
            max_iter=INNER_ITERATIONS,
            broyden=True,
            jac0=state["jac"],
        )
        state["inner"] += it.iterations
        if not np.all(np.isfinite(it.theta)) or not it.residual <= 100 * tol:
            return None
        state["jac"] = it.jacobian
        state["theta"], state["x"] = pinned.full(it.theta), np.array(x, dtype=float)
        return state["theta"]

    def objective(x):
        theta = solved(x)
        if theta is None:
            return float("nan"), np.full(int(x_mask.sum()), np.nan)
        phi, grad = problem.objective(theta, params, quad)
        return phi, np.asarray(grad, dtype=float)[x_mask]

    def hessian(x):
        theta = solved(x)
        if theta is None:
            return np.eye(int(x_mask.sum()))
        return _psi_hessian(problem.hessian(theta, params, quad), y_mask)[0]

    if solved(theta0[x_mask]) is None:
        why = "min-max descent: the conjugates did not converge at the start"
        return Iteration(theta0, float("inf"), 0, False, why)
    x, iterations, escapes, saddle = theta0[x_mask], 0, 0, False
    while True:
        it = descend(objective, hessian, x, x_domain, tol=tol, max_iter=max_iter)
        iterations += it.iterations
        if not it.converged:
            break
        lowest, exit_point = _negative_curvature_exit(objective, hessian(it.theta), it.theta, x_domain)
        saddle = lowest is not None
        if not saddle or exit_point is None or escapes == ESCAPES:
            break
        x, escapes = exit_point, escapes + 1
    theta = solved(it.theta)
    if theta is None:
        theta = state["theta"].copy()
        theta[x_mask] = it.theta
    residual = float(np.max(np.abs(problem.residual(theta, params, quad))))
    status = f"min-max {it.status} ({state['inner']} conjugate iterations"
    status += f", {escapes} saddle(s) of max_y phi left along negative curvature)" if escapes else ")"
    if saddle:
        status += f", but at a saddle of max_y phi (curvature {lowest:.2e}): not the min-max point"
    converged = it.converged and residual <= tol and not saddle
    return Iteration(theta, residual, iterations, converged, status)


def _negative_curvature_exit(objective, hess: np.ndarray, x: np.ndarray, domain: Domain):
    """(lowest curvature, a point of lower psi) at a stationary point x of psi with Hessian ``hess``.

    (None, None) where psi is not curved downwards beyond NEGATIVE_CURVATURE (relative to its largest
    curvature): a minimum, possibly degenerate. Else the lowest eigenvector v is followed, both ways,
    at steps ESCAPE_STEPS (times max(1, |x|)) projected onto the domain, to the first point where psi
    is lower; (lowest, None) if there is none.
    """
    hess = np.asarray(hess, dtype=float)
    if not hess.size or not np.all(np.isfinite(hess)):
        return None, None
    w, v = np.linalg.eigh((hess + hess.T) / 2)
    if not w[0] < -NEGATIVE_CURVATURE * max(1.0, float(np.max(np.abs(w)))):
        return None, None
    psi0 = objective(x)[0]
    scale = max(1.0, float(np.max(np.abs(x))))
    for step in ESCAPE_STEPS:
        for sign in (1.0, -1.0):
            trial = domain.clip(x + sign * step * scale * v[:, 0])
            value = objective(trial)[0]
            if np.isfinite(value) and value < psi0:
                return float(w[0]), trial
    return float(w[0]), None
