"""Unit tests of the solvers on toy problems with known solutions."""

import math

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import quad
from scipy.optimize import brentq

from replica.compile import compile_free_energy
from replica.models import perceptron
from replica.solve import SolverOptions, solve_chain, solve_point
from replica.solve.methods import Domain, anderson, fixed_point, newton
from replica.symbolic import ControlParameter, FreeEnergy, GaussAvg, OrderParameter, log2cosh

q, a, beta, h = sp.symbols("q a beta h", real=True)
z = sp.Symbol("z", real=True)


def sk_rs():
    """SK model, RS: phi(q) = beta^2 (1-q)^2/4 + E_z ln 2cosh(beta sqrt(q) z + beta h).

    Stationarity: q = E_z tanh^2(beta sqrt(q) z + beta h) (after Stein's lemma).
    """
    phi = beta**2 * (1 - q) ** 2 / 4 + GaussAvg(log2cosh(beta * sp.sqrt(q) * z + beta * h), z)
    fe = FreeEnergy(
        "sk",
        phi,
        [OrderParameter("q", 0.5, 0.0, 1.0, lower_closed=True)],
        [ControlParameter("beta", 1.0, 0.0), ControlParameter("h", 0.0)],
        observables={"q": q},
    )
    return compile_free_energy(fe)


def sk_reference(b, field):
    def f(x):
        g = lambda t: np.tanh(b * np.sqrt(x) * t + b * field) ** 2 * np.exp(-t * t / 2) / np.sqrt(2 * np.pi)  # noqa: E731
        return quad(g, -np.inf, np.inf, epsabs=1e-14)[0] - x

    return brentq(f, 1e-9, 1 - 1e-12, xtol=1e-15)


@pytest.mark.parametrize("method", ["hybrid", "newton", "fixed_point", "anderson"])
def test_every_method_solves_sk(method):
    problem = sk_rs()
    assert problem.free_energy.fixed_point is not None
    sol = solve_point(problem, {"beta": 1.5, "h": 0.3}, SolverOptions(method=method, tol=1e-12, quad_tol=1e-12))
    assert sol.converged, sol.status
    assert sol.order_parameters["q"] == pytest.approx(sk_reference(1.5, 0.3), abs=1e-9)
    assert sol.residual <= 1e-12
    assert sol.method == method


def test_sk_paramagnet_below_tc():
    sol = solve_point(sk_rs(), {"beta": 0.7, "h": 0.0}, SolverOptions(tol=1e-12))
    assert sol.converged
    assert sol.order_parameters["q"] == pytest.approx(0.0, abs=1e-9)


def test_gradient_system_without_fixed_point_form():
    fe = FreeEnergy("cubic", q**4 / 4 - a * q, [OrderParameter("q", 3.0, 0.0, math.inf)], [ControlParameter("a")])
    problem = compile_free_energy(fe)
    sol = solve_point(problem, {"a": 2.0}, SolverOptions(tol=1e-13))
    assert sol.converged
    assert sol.order_parameters["q"] == pytest.approx(2.0 ** (1 / 3), rel=1e-12)
    fp = solve_point(problem, {"a": 2.0}, SolverOptions(method="fixed_point"))
    assert not fp.converged and "no fixed-point form" in fp.status


def test_unconverged_point_is_not_a_result():
    problem = compile_free_energy(perceptron({"weights": "binary", "ansatz": "rs"}))
    sol = solve_point(problem, {"alpha": 0.7, "kappa": 0.0}, SolverOptions(method="fixed_point", max_iter=2))
    assert not sol.converged
    assert sol.residual > 1e-10 and np.isfinite(sol.residual)
    assert sol.iterations == 2
    assert sol.order_parameters == {"q": None, "q_hat": None}
    assert all(v is None for v in sol.observables.values())
    d = sol.to_dict()
    assert d["converged"] is False and d["order_parameters"]["q"] is None


def test_newton_stays_in_the_domain():
    # root of q^3 = a near the lower bound 0: a full Newton step from q = 0.05 lands at q < 0
    fe = FreeEnergy("cubic", q**4 / 4 - a * q, [OrderParameter("q", 0.05, 0.0, 1.0)], [ControlParameter("a")])
    problem = compile_free_energy(fe)
    quadrature = problem.quadrature(2)
    visited = []

    def system(t):
        visited.append(float(t[0]))
        return problem.system(t, {"a": 0.5}, quadrature)

    it = newton(
        system,
        lambda t: problem.residual(t, {"a": 0.5}, quadrature),
        np.array([0.95]),
        Domain(fe.order_parameters),
        tol=1e-12,
        max_iter=100,
    )
    assert it.converged
    assert all(0.0 < v < 1.0 for v in visited)
    assert it.theta[0] == pytest.approx(0.5 ** (1 / 3), rel=1e-12)


def test_anderson_accelerates_a_slow_contraction():
    # theta = cos(theta) with heavy damping: plain iteration is slow, Anderson is not
    dom = Domain([OrderParameter("x", 0.0)])
    slow = fixed_point(np.cos, np.array([0.0]), dom, damping=0.05, tol=1e-12, max_iter=5000)
    fast = anderson(np.cos, np.array([0.0]), dom, damping=0.05, tol=1e-12, max_iter=5000)
    assert slow.converged and fast.converged
    assert fast.theta[0] == pytest.approx(0.7390851332151607, abs=1e-11)
    assert fast.iterations < slow.iterations / 5


def test_continuation_needs_fewer_iterations_than_cold_starts():
    problem = compile_free_energy(perceptron({"weights": "binary", "ansatz": "rs"}))
    alphas = np.linspace(0.3, 0.8, 11)
    opts = SolverOptions()
    chained = [s for _, s, _ in solve_chain(problem, {"kappa": 0.0}, "alpha", alphas, opts)]
    cold = [solve_point(problem, {"alpha": x, "kappa": 0.0}, opts) for x in alphas]
    assert all(s.converged for s in chained + cold)
    for s, c in zip(chained, cold):
        assert s.order_parameters["q"] == pytest.approx(c.order_parameters["q"], abs=1e-9)
    assert sum(s.iterations for s in chained[2:]) < sum(c.iterations for c in cold[2:]) / 5


def test_chain_continues_past_a_failed_point():
    problem = compile_free_energy(perceptron({"weights": "binary", "ansatz": "rs"}))
    opts = SolverOptions(max_iter=200, max_quad_order=256)
    # binary RS has no reachable solution at alpha = 1.4 with 256 nodes: the middle point fails
    results = [s for _, s, _ in solve_chain(problem, {"kappa": 0.0}, "alpha", [0.5, 1.4, 0.6], opts)]
    assert [s.converged for s in results] == [True, False, True]
    assert results[1].order_parameters["q"] is None
    reference = solve_point(problem, {"alpha": 0.6, "kappa": 0.0}, opts)
    assert results[2].order_parameters["q"] == pytest.approx(reference.order_parameters["q"], abs=1e-9)


def test_cold_solve_raises_the_quadrature_order_when_a_coarse_rule_breaks_the_iteration():
    """Binary RS at alpha = 1.05 (q = 0.75, sharp integrands): 64 nodes make the iteration diverge.

    The solver sees that the rule does not resolve the integrands where the iteration went and
    starts again with more nodes; the answer is the one of a solve started at many nodes.
    """
    problem = compile_free_energy(perceptron({"weights": "binary", "ansatz": "rs"}))
    params = {"alpha": 1.05, "kappa": 0.0}
    cold = solve_point(problem, params, SolverOptions())
    assert cold.converged, cold.status
    assert cold.quad_order > 64
    fine = solve_point(problem, params, SolverOptions(quad_order=2048))
    assert fine.converged, fine.status
    for name, value in fine.order_parameters.items():
        assert cold.order_parameters[name] == pytest.approx(value, abs=1e-8)


def test_quadrature_check_bounds_the_order_parameters():
    """The reported quad_error covers the order parameters: at the accepted order, the root found
    with four times the nodes moves by no more than quad_tol. (At alpha = 1 a check of the residual
    alone accepts 512 nodes, where q_hat is still off by 1.2e-8.)"""
    problem = compile_free_energy(perceptron({"weights": "binary", "ansatz": "rs"}))
    params = {"alpha": 1.0, "kappa": 0.0}
    opts = SolverOptions(tol=1e-12, quad_tol=1e-8)
    sol = solve_point(problem, params, opts)
    assert sol.converged, sol.status
    finer = solve_point(problem, params, SolverOptions(tol=1e-12, quad_tol=1e-8, quad_order=4 * sol.quad_order))
    for name, value in finer.order_parameters.items():
        assert abs(sol.order_parameters[name] - value) <= opts.quad_tol


def test_newton_reaches_a_root_on_a_closed_end():
    # G = (x - (y - 1)^2, y - 1 + x) has a root at (0, 1) on the closed end x = 0 (the other at x = 1).
    # From (0, 0.6) the Newton step points out of the domain (dx = -0.8): the plain line search cannot
    # move; x is held at its end and y takes the least-squares step, then Newton converges there.
    params = [OrderParameter("x", 0.0, 0.0, 1.0, lower_closed=True), OrderParameter("y", 0.6, -5.0, 5.0)]

    def system(t):
        return (
            np.array([t[0] - (t[1] - 1) ** 2, t[1] - 1 + t[0]]),
            np.array([[1.0, -2 * (t[1] - 1)], [1.0, 1.0]]),
        )

    it = newton(system, lambda t: system(t)[0], np.array([0.0, 0.6]), Domain(params), tol=1e-12, max_iter=50)
    assert it.converged, it.status
    assert it.theta[0] == pytest.approx(0.0, abs=1e-12) and it.theta[1] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("broyden", [False, True])
def test_newton_converges_fast_to_a_root_on_a_closed_end_from_inside(broyden):
    # G = d - d^2 has the root d = 0 on the closed end, approached from inside (a merging ladder's
    # increment): the Newton step from d lands at -d^2/(1 - 2d), beyond the end. Backtracking to stay
    # inside would halve d at every iteration (about 30 to reach 1e-10 from 0.1); the step put onto
    # the closed end is the root itself.
    params = [OrderParameter("d", 0.1, 0.0, 1.0, lower_closed=True)]

    def system(t):
        return np.array([t[0] - t[0] ** 2]), np.array([[1.0 - 2 * t[0]]])

    it = newton(system, lambda t: system(t)[0], np.array([0.1]), Domain(params), tol=1e-12, max_iter=5, broyden=broyden)
    assert it.converged, it.status
    assert it.theta[0] == 0.0 and it.iterations <= 2
