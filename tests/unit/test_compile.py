"""Unit tests of the lowering: quadrature rules, stable special functions,
nested averages, batching and the quadrature-order check."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from replica.compile import compile_free_energy, gauss_hermite
from replica.compile.lower import _H, _log2cosh, _logH, _Mills
from replica.models import perceptron
from replica.solve import SolverOptions, solve_point
from replica.symbolic import ControlParameter, FreeEnergy, GaussAvg, OrderParameter


@pytest.mark.parametrize("order", [8, 64, 1000, 4096])
def test_gauss_hermite_moments(order):
    z, w = gauss_hermite(order)
    assert w.sum() == pytest.approx(1.0, abs=1e-13)
    assert (w * z**2).sum() == pytest.approx(1.0, abs=1e-12)
    assert (w * z**4).sum() == pytest.approx(3.0, abs=1e-11)
    if order >= 8:
        assert (w * z**6).sum() == pytest.approx(15.0, abs=1e-10)
    assert (w * np.cos(z)).sum() == pytest.approx(math.exp(-0.5), abs=1e-12 if order >= 64 else 1e-6)


def _mp_logH(t):
    return float(mpmath.log(mpmath.erfc(mpmath.mpf(t) / mpmath.sqrt(2)) / 2))


@pytest.mark.parametrize("t", [-40.0, -5.0, -0.3, 0.0, 2.0, 10.0, 40.0, 1e3])
def test_stable_tails(t):
    with mpmath.workdps(50):
        assert _logH(np.array(t)) == pytest.approx(_mp_logH(t), rel=1e-13, abs=1e-300)
        h = mpmath.erfc(mpmath.mpf(t) / mpmath.sqrt(2)) / 2
        assert _Mills(np.array(t)) == pytest.approx(float(mpmath.npdf(t) / h), rel=1e-12, abs=1e-300)
        assert _H(np.array(t)) == pytest.approx(float(h), rel=1e-12, abs=1e-300)
    assert np.isfinite(_logH(np.array(1e5)))  # no underflow to log(0)


def test_log2cosh_does_not_overflow():
    assert _log2cosh(np.array(1000.0)) == pytest.approx(1000.0)
    assert _log2cosh(np.array(-1000.0)) == pytest.approx(1000.0)
    assert _log2cosh(np.array(0.0)) == pytest.approx(math.log(2.0))


def _toy(phi, ops, controls, observables=None):
    return compile_free_energy(FreeEnergy("toy", phi, ops, controls, observables=observables or {}))


def test_nested_averages_broadcast():
    a, b, q = sp.symbols("a b q", real=True)
    z0, z1 = sp.symbols("z0 z1", real=True)
    # E_z0[ log E_z1[ exp(a z0 + b z1) ] ] = E_z0[a z0 + b^2/2] = b^2 / 2 (1RSB-like nesting)
    nested = GaussAvg(sp.log(GaussAvg(sp.exp(a * z0 + b * z1), z1)), z0)
    other = GaussAvg(GaussAvg((z0 * z1) ** 2, z1), z0)
    problem = _toy(
        (q - 1) ** 2 + nested + other,
        [OrderParameter("q", 0.5)],
        [ControlParameter("a"), ControlParameter("b")],
        {"nested": nested, "other": other},
    )
    assert problem.variables == ("z0", "z1")
    values = problem.values([0.5], {"a": 0.7, "b": 1.3}, problem.quadrature(40))
    assert float(values["nested"]) == pytest.approx(1.3**2 / 2, rel=1e-12)
    assert float(values["other"]) == pytest.approx(1.0, rel=1e-12)


def test_batched_evaluation_equals_pointwise():
    problem = compile_free_energy(perceptron({"weights": "binary", "ansatz": "rs"}))
    quad = problem.quadrature(64)
    alphas = np.linspace(0.1, 0.8, 5)
    qs = np.linspace(0.1, 0.5, 5)
    qhs = np.linspace(0.2, 2.0, 5)
    batch = problem.values([qs, qhs], {"alpha": alphas, "kappa": np.zeros(5)}, quad)
    for i in range(5):
        one = problem.values([qs[i], qhs[i]], {"alpha": alphas[i], "kappa": 0.0}, quad)
        for key in one:
            assert batch[key][i] == pytest.approx(float(one[key]), rel=1e-13, abs=1e-15)
    residual = problem.residual([qs, qhs], {"alpha": alphas, "kappa": np.zeros(5)}, quad)
    assert residual.shape == (2, 5)


def test_jacobian_matches_finite_differences():
    problem = compile_free_energy(perceptron({"weights": "binary", "ansatz": "rs"}))
    quad = problem.quadrature(128)
    params = {"alpha": 0.6, "kappa": 0.3}
    theta = np.array([0.4, 1.1])
    _, jac = problem.system(theta, params, quad)
    h = 1e-6
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        fd = (problem.residual(theta + e, params, quad) - problem.residual(theta - e, params, quad)) / (2 * h)
        np.testing.assert_allclose(jac[:, j], fd, rtol=1e-6, atol=1e-8)


def test_quadrature_order_is_raised_until_stable():
    problem = compile_free_energy(perceptron({"weights": "binary", "ansatz": "rs"}))
    sol = solve_point(problem, {"alpha": 0.8, "kappa": 0.0}, SolverOptions(quad_order=32))
    assert sol.converged
    assert sol.quad_order > 32  # at q_hat ~ 2.2 the tanh integrand needs more than 32 nodes
    assert sol.quad_error <= 1e-8


def test_quadrature_check_refuses_an_unresolved_point():
    problem = compile_free_energy(perceptron({"weights": "binary", "ansatz": "rs"}))
    sol = solve_point(problem, {"alpha": 0.8, "kappa": 0.0}, SolverOptions(quad_order=16, max_quad_order=16))
    assert not sol.converged
    assert sol.status.startswith("quadrature")
    assert sol.quad_error > 1e-8
    assert all(v is None for v in sol.order_parameters.values())
    assert all(v is None for v in sol.observables.values())
