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

Descent cannot end at a stationary point that is not the minimum of psi (it leaves
saddles of psi), so it selects the Parisi solution among the fixed-ladder roots.
"""

from __future__ import annotations

import numpy as np

from ..compile import CompiledProblem
from .methods import Domain, Iteration, descend, domain_of, newton
from .pinned import PinnedProblem

INNER_ITERATIONS = 50  # Newton iterations of one conjugate solve


def conjugate_mask(problem) -> np.ndarray:
    """The order parameters that phi is maximised in (the declared conjugates)."""
    fe = problem.free_energy
    return np.array([p.name in fe.maximised for p in fe.order_parameters], dtype=bool)


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
        h = problem.hessian(theta, params, quad)
        hxx, hxy, hyy = h[np.ix_(x_mask, x_mask)], h[np.ix_(x_mask, y_mask)], h[np.ix_(y_mask, y_mask)]
        return hxx - hxy @ np.linalg.solve(hyy, hxy.T)

    if solved(theta0[x_mask]) is None:
        why = "min-max descent: the conjugates did not converge at the start"
        return Iteration(theta0, float("inf"), 0, False, why)
    it = descend(objective, hessian, theta0[x_mask], x_domain, tol=tol, max_iter=max_iter)
    theta = solved(it.theta)
    if theta is None:
        theta = state["theta"].copy()
        theta[x_mask] = it.theta
    residual = float(np.max(np.abs(problem.residual(theta, params, quad))))
    status = f"min-max {it.status} ({state['inner']} conjugate iterations)"
    return Iteration(theta, residual, it.iterations, it.converged and residual <= tol, status)
