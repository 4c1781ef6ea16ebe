"""The perceptron with one step of replica symmetry breaking (1RSB): identities and reference values.

Reference: the project's perceptron specification, section 5 (free entropies) and its table of
computed values: spherical, kappa = -1, alpha = 10: s = -2.357234, q0 = 0.627645, q1 = 0.918404,
m = 0.219188 (the thermodynamic m, ds/dm = 0), computed there with an independent 96-140-node
Gauss-Hermite solver.
"""

import math

import numpy as np
import pytest

from replica.compile import compile_free_energy
from replica.models import perceptron
from replica.solve import SolverOptions, solve_point

SPEC_POINT = {"alpha": 10.0, "kappa": -1.0}
SPEC_VALUES = {"q0": 0.627645, "q1": 0.918404, "m": 0.219188}
SPEC_ENTROPY = -2.357234


@pytest.fixture(scope="module")
def problems():
    out = {}
    for weights in ("spherical", "binary"):
        out[weights, "rs"] = compile_free_energy(perceptron({"weights": weights, "ansatz": "rs"}))
        for m in ("auto", "fixed"):
            out[weights, m] = compile_free_energy(perceptron({"weights": weights, "ansatz": "1rsb", "m": m}))
    return out


def phi(problem, theta, params, order=96):
    return float(problem.values(np.asarray(theta, float), params, problem.quadrature(order))["phi"])


def residual(problem, theta, params, order=96):
    return np.asarray(problem.residual(np.asarray(theta, float), params, problem.quadrature(order)), float)


@pytest.mark.parametrize("m", [0.3, 0.7, 1.0])
@pytest.mark.parametrize("kappa", [-0.5, 0.0, 0.7])
def test_1rsb_at_q1_equal_q0_is_rs(problems, m, kappa):
    """q1 = q0 (and q1_hat = q0_hat): s_1RSB = s_RS(q0) for every m (spec section 5)."""
    params = {"alpha": 1.3, "kappa": kappa, "m": m}
    rs = {"alpha": 1.3, "kappa": kappa}
    q = 0.45
    assert phi(problems["spherical", "fixed"], [q, q], params) == pytest.approx(
        phi(problems["spherical", "rs"], [q], rs), abs=1e-11
    )
    q_hat = 0.8
    assert phi(problems["binary", "fixed"], [q, q, q_hat, q_hat], params) == pytest.approx(
        phi(problems["binary", "rs"], [q, q_hat], rs), abs=1e-11
    )


@pytest.mark.parametrize("q1", [0.5, 0.8, 0.95])
def test_1rsb_at_m_equal_one_is_rs_at_q0(problems, q1):
    """m = 1: the 1RSB value is the RS value at q = q0 whatever q1 (spec section 5)."""
    params = {"alpha": 2.0, "kappa": -0.3, "m": 1.0}
    rs = {"alpha": 2.0, "kappa": -0.3}
    q0 = 0.4
    assert phi(problems["spherical", "fixed"], [q0, q1], params, order=160) == pytest.approx(
        phi(problems["spherical", "rs"], [q0], rs, order=160), abs=1e-9
    )
    q0_hat, q1_hat = 0.6, 2.5
    assert phi(problems["binary", "fixed"], [q0, q1, q0_hat, q1_hat], params, order=160) == pytest.approx(
        phi(problems["binary", "rs"], [q0, q0_hat], rs, order=160), abs=1e-9
    )


def test_1rsb_equations_at_q1_equal_q0_contain_the_rs_equations(problems):
    """At the RS solution, q1 = q0 = q_RS (any m) solves the 1RSB equations in q0 (spherical)."""
    rs = solve_point(problems["spherical", "rs"], {"alpha": 1.0, "kappa": 0.0}, SolverOptions(tol=1e-13))
    q = rs.order_parameters["q"]
    fe = problems["spherical", "fixed"].free_energy
    theta = np.array([q, q + 1e-9])  # sqrt(q1 - q0) is not differentiable at q1 = q0: approach it
    g = residual(problems["spherical", "fixed"], theta, {"alpha": 1.0, "kappa": 0.0, "m": 0.5}, order=128)
    assert fe.order_parameter_names == ["q0", "q1"]
    assert abs(g[0]) < 1e-6 and abs(g[1]) < 1e-6


def test_spherical_1rsb_reference_point(problems):
    """kappa = -1, alpha = 10, thermodynamic m: the specification's values to their 6 digits."""
    opts = SolverOptions(tol=1e-12, quad_tol=1e-9, max_quad_order=256)
    sol = solve_point(problems["spherical", "auto"], SPEC_POINT, opts, theta0=np.array([0.6, 0.9, 0.2]))
    assert sol.converged, sol.status
    for name, value in SPEC_VALUES.items():
        assert sol.order_parameters[name] == pytest.approx(value, abs=2e-6)
    assert sol.observables["entropy"] == pytest.approx(SPEC_ENTROPY, abs=2e-6)
    # 1RSB is below the (unstable) RS entropy there: spec RS value s = -2.337442
    assert sol.observables["entropy"] < -2.337442
    # the RS point is AT-unstable there, and the 1RSB replicon is reported
    assert math.isfinite(sol.observables["replicon"])


def test_complexity_vanishes_at_the_thermodynamic_m(problems):
    """Sigma(m) = -m^2 ds/dm: zero at the m that ds/dm = 0 selects, and s_int = s there."""
    opts = SolverOptions(tol=1e-12, quad_tol=1e-9, max_quad_order=256)
    auto = solve_point(problems["spherical", "auto"], SPEC_POINT, opts, theta0=np.array([0.6, 0.9, 0.2]))
    m_star = auto.order_parameters["m"]
    params = dict(SPEC_POINT, m=m_star)
    start = np.array([auto.order_parameters["q0"], auto.order_parameters["q1"]])
    fixed = solve_point(problems["spherical", "fixed"], params, opts, theta0=start)
    assert fixed.converged, fixed.status
    assert fixed.observables["complexity"] == pytest.approx(0.0, abs=1e-8)
    assert fixed.observables["internal_entropy"] == pytest.approx(auto.observables["entropy"], abs=1e-8)
    # away from m*, the complexity is -m^2 ds/dm, with ds/dm from a finite difference of s(m)
    h = 1e-4
    s = {}
    for dm in (-h, 0.0, h):
        sol = solve_point(problems["spherical", "fixed"], dict(params, m=0.3 + dm), opts, theta0=start)
        assert sol.converged, sol.status
        s[dm] = sol
    ds_dm = (s[h].observables["entropy"] - s[-h].observables["entropy"]) / (2 * h)
    assert s[0.0].observables["complexity"] == pytest.approx(-(0.3**2) * ds_dm, abs=1e-6)
