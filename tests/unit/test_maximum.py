"""The Maximum node (a Laplace maximum over a bound variable): derivatives and lowering."""

import numpy as np
import pytest
import sympy as sp

from replica.compile import compile_free_energy
from replica.compile.maximum import argmax
from replica.symbolic import ControlParameter, FreeEnergy, GaussAvg, Maximum, OrderParameter, log2cosh


def test_argmax_global_of_a_bimodal_function():
    """ln 2cosh(h + u) - u^2/(2 D), D = 3: two local maxima; the global one is on the side of h."""
    dq = 3.0
    h = np.array([-0.3, -0.01, 0.01, 0.3])

    def fun(u):
        t = np.tanh(h + u)
        return np.logaddexp(h + u, -(h + u)) - u**2 / (2 * dq), t - u / dq, 1 - t**2 - 1 / dq

    u = argmax(fun, -dq, dq)
    grid = np.linspace(-dq, dq, 200001)[:, None]
    best = grid[np.argmax(fun(grid)[0], axis=0), 0]
    assert u == pytest.approx(best, abs=1e-4)
    assert np.all(np.sign(u) == np.sign(h))
    assert np.all(np.abs(fun(u)[1]) < 1e-12)


def test_envelope_and_implicit_derivatives():
    """phi = E_z max_{|u| <= D} [ln 2cosh(sqrt(a) z + b + u) - u^2/(2 D)] (the maximiser inside): the gradient
    (envelope theorem) and the
    Jacobian (implicit function theorem for u*) against central differences of phi and of the gradient."""
    a, b, dq, z, u = sp.symbols("a b D z u", real=True)
    body = log2cosh(sp.sqrt(a) * z + b + u) - u**2 / (2 * dq)
    # no term linear in one variable: the equations are the gradient itself (no fixed-point form)
    phi = GaussAvg(Maximum(body, u, -dq, dq), z) - sp.exp(a * b) / 3 - sp.exp(dq) / 5
    fe = FreeEnergy(
        name="test_maximum",
        phi=phi,
        order_parameters=[OrderParameter("a", 0.5, 0.0), OrderParameter("b", 0.3), OrderParameter("D", 1.5, 0.0)],
        controls=[ControlParameter("c", 0.0)],
        integration_by_parts=(),
    )
    assert fe.fixed_point is None
    problem = compile_free_energy(fe)
    quad = problem.quadrature(64)
    theta = np.array([0.7, 0.4, 1.6])

    def value(t):
        return float(problem.values(t, {"c": 0.0}, quad)["phi"])

    g, jac = problem.system(theta, {"c": 0.0}, quad)
    h = 1e-5
    for j in range(3):
        step = np.eye(3)[j] * h
        assert g[j] == pytest.approx((value(theta + step) - value(theta - step)) / (2 * h), abs=1e-8)
        column = problem.residual(theta + step, {"c": 0.0}, quad) - problem.residual(theta - step, {"c": 0.0}, quad)
        assert jac[:, j] == pytest.approx(column / (2 * h), abs=1e-6)
