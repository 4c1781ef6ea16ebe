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


# --- the Parisi step LogAvgExp --------------------------------------------------------------


def _one_step_model():
    """phi(a, b) = (1/b) E_z0 ln E_z1 exp(b ln H(c - a z0 - z1)) + a^2/4: a nested log-mean-exp."""
    from replica.symbolic import LogAvgExp, logH

    a, b, c, z0, z1 = sp.symbols("a b c z0 z1", real=True)
    phi = GaussAvg(LogAvgExp(b * logH(c - a * z0 - z1), z1), z0) / b + a**2 / 4
    fe = FreeEnergy(
        "step",
        phi,
        [OrderParameter("a", 0.5, 0.0, 5.0), OrderParameter("b", 0.5, 0.0, 1.0, upper_closed=True)],
        [ControlParameter("c", 0.0)],
    )
    return compile_free_energy(fe)


def test_logavgexp_matches_direct_quadrature():
    problem = _one_step_model()
    z, w = gauss_hermite(200)
    a, b, c = 0.7, 0.4, 0.3
    from scipy.special import log_ndtr

    inner = np.log((w[None, :] * np.exp(b * log_ndtr(-(c - a * z[:, None] - z[None, :])))).sum(axis=1))
    expected = (w * inner).sum() / b + a**2 / 4
    got = problem.values(np.array([a, b]), {"c": c}, problem.quadrature(200))["phi"]
    assert float(got) == pytest.approx(expected, abs=1e-13)


def test_logavgexp_has_no_underflow_deep_in_the_tail():
    """H(x)^b underflows to 0 for x > 38 (b = 1): the log-sum-exp form does not.

    At b = 1 the inner average is exact: E_z1 H(x - z1) = H(x / sqrt 2), so
    phi = E_z0 ln H((c - a z0) / sqrt 2) + a^2/4, here about -400.
    """
    from scipy.special import log_ndtr

    problem = _one_step_model()
    a, c = 0.1, 40.0
    z, w = gauss_hermite(400)
    expected = float((w * log_ndtr(-(c - a * z) / math.sqrt(2))).sum()) + a**2 / 4
    value = problem.values(np.array([a, 1.0]), {"c": c}, problem.quadrature(400))["phi"]
    assert np.isfinite(value)
    assert float(value) == pytest.approx(expected, rel=1e-6)


def test_logavgexp_derivatives_match_finite_differences():
    """Gradient and Hessian (tilted-measure averages) against central differences of phi."""
    problem = _one_step_model()
    quad = problem.quadrature(96)
    theta, params, h = np.array([0.8, 0.45]), {"c": -0.2}, 1e-5

    def phi(t):
        return float(problem.values(np.asarray(t), params, quad)["phi"])

    g, jac = problem.system(theta, params, quad)
    fe = problem.free_energy
    assert fe.fixed_point is None  # the system is the gradient and the Hessian
    for i in range(2):
        e = np.eye(2)[i] * h
        assert g[i] == pytest.approx((phi(theta + e) - phi(theta - e)) / (2 * h), abs=1e-8)
        for j in range(2):
            f = np.eye(2)[j] * h
            fd = (phi(theta + e + f) - phi(theta + e - f) - phi(theta - e + f) + phi(theta - e - f)) / (4 * h * h)
            assert jac[i, j] == pytest.approx(fd, abs=2e-5)


def test_difference_jacobian_steps_uncoupled_columns_together():
    # a chain of layers (deep network, L = 6, RS): the coupling of phi's additive terms leaves each
    # layer's equations depending on its neighbours only, so the columns fall into a few groups
    # sharing no row; the Jacobian from the groups is the one-column-at-a-time Jacobian, bit for bit
    from replica.compile.lower import column_groups, difference_jacobian
    from replica.models.deep_network import deep_network

    fe = deep_network({"ansatz": "rs"}, {"L": 6})
    pattern = fe.coupling
    n = len(fe.order_parameters)
    groups = column_groups(pattern)
    assert sorted(int(j) for g in groups for j in g) == list(range(n))
    for g in groups:
        assert np.all(pattern[:, g].sum(axis=1) <= 1)  # no row sees two columns of a group
    assert len(groups) < n / 2
    names = fe.order_parameter_names
    assert not pattern[names.index("q_1"), names.index("q_4")]  # layers 1 and 4 share no term
    assert pattern[names.index("q_1"), names.index("Q_2")]  # the gap of layer 2 holds both
    problem = compile_free_energy(fe)
    params = {"alpha": 20.0, "kappa": 0.0, "L": 6}
    quad = problem.quadrature(32)
    rng = np.random.default_rng(1)
    theta = 0.1 + 0.3 * rng.random(n)

    def residual(t):
        return problem.residual(t, params, quad)

    g0 = residual(theta)
    grouped = difference_jacobian(residual, theta, g0, fe.order_parameters, pattern)
    dense = difference_jacobian(residual, theta, g0, fe.order_parameters, np.ones_like(pattern))
    assert np.array_equal(grouped, dense)
    assert np.max(np.abs(dense)) > 0.1
