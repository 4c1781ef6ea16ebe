"""The Parisi ladder kernel (compile/parisi.py): its gradients against differences of its value."""

import numpy as np
import pytest

from replica.compile.parisi import FieldGrid, LadderPass, field_map

S = 2.0  # ln 2cosh(sqrt(S) u): the spin boundary at field variance S


def _boundary(grid):
    a = np.sqrt(S) * grid.u
    return np.logaddexp(a, -a), np.sqrt(S) * np.tanh(a), S / np.cosh(a) ** 2


@pytest.mark.parametrize("exact", [True, False])
def test_q_gradient_is_the_derivative_of_the_value(exact):
    grid = FieldGrid.build(64)
    f, d1, d2 = _boundary(grid)
    qs, ms = np.array([0.1, 0.3, 0.45, 0.7, 0.9]), np.array([0.2, 0.4, 0.6, 0.8])
    p = LadderPass.run(f, qs, ms, grid, *((d1, d2) if exact else (None, None)))
    h = 1e-5
    for i in range(len(qs)):
        e = h * (np.arange(len(qs)) == i)
        fd = (LadderPass.run(f, qs + e, ms, grid).value - LadderPass.run(f, qs - e, ms, grid).value) / (2 * h)
        assert p.q_gradient[i] == pytest.approx(fd, abs=1e-8)


def test_merged_levels_are_exactly_alike():
    # Delta_3 = 0: the step is the identity on the grid, so levels 2 and 3 carry the same <f'^2>
    # (d value / d q_i = -(1/2)(m_{i+1} - m_i) <f_i'^2>_i), to rounding: a ladder whose levels merge at a
    # stationary point stays exactly stationary, whatever the grid
    grid = FieldGrid.build(64)
    f, d1, d2 = _boundary(grid)
    qs, ms = np.array([0.1, 0.3, 0.5, 0.5, 0.9]), np.array([0.2, 0.4, 0.6, 0.8])
    g = LadderPass.run(f, qs, ms, grid, d1, d2).q_gradient
    mm = np.concatenate([[0.0], ms, [1.0]])
    assert g[2] / (mm[3] - mm[2]) == pytest.approx(g[3] / (mm[4] - mm[3]), rel=1e-13)


# the focused grid (field_map): the same kernel on a grid that crowds towards a field c
FOCUS = (-0.8, 0.05)


def _narrow(x, width=0.05, kappa=-0.8):
    """ln H((kappa - x)/width) and its two derivatives in x: a constraint smeared over a small variance."""
    from scipy.special import log_ndtr

    a = (kappa - x) / width
    r = np.exp(-0.5 * a * a - 0.5 * np.log(2 * np.pi) - log_ndtr(-a))  # G/H at a
    return log_ndtr(-a), r / width, -r * (r - a) / width**2


@pytest.mark.parametrize("exact", [True, False])
def test_focused_grid_gradients_are_the_derivatives_of_its_value(exact):
    grid = FieldGrid.build(128)
    f, d1, d2 = _narrow(field_map(grid.u, *FOCUS))
    qs, ms = np.array([0.2, 0.5, 0.8, 0.95, 0.99]), np.array([0.2, 0.4, 0.6, 0.8])

    def run(q, m):
        return LadderPass.run(f, q, m, grid, *((d1, d2) if exact else (None, None)), focus=FOCUS)

    p = run(qs, ms)
    h = 1e-6
    for i in range(len(qs)):
        e = h * (np.arange(len(qs)) == i)
        fd = (run(qs + e, ms).value - run(qs - e, ms).value) / (2 * h)
        assert p.q_gradient[i] == pytest.approx(fd, abs=1e-7)
    for i in range(len(ms)):
        e = h * (np.arange(len(ms)) == i)
        fd = (run(qs, ms + e).value - run(qs, ms - e).value) / (2 * h)
        assert p.m_gradient[i] == pytest.approx(fd, rel=1e-6, abs=1e-9)
    assert np.sum(p.measures[-1]) == pytest.approx(1.0, abs=1e-12)


def test_focused_grid_keeps_merged_levels_exactly_alike():
    grid = FieldGrid.build(64)
    f, d1, d2 = _narrow(field_map(grid.u, *FOCUS))
    qs, ms = np.array([0.2, 0.5, 0.9, 0.9, 0.99]), np.array([0.2, 0.4, 0.6, 0.8])
    g = LadderPass.run(f, qs, ms, grid, d1, d2, focus=FOCUS).q_gradient
    mm = np.concatenate([[0.0], ms, [1.0]])
    assert g[2] / (mm[3] - mm[2]) == pytest.approx(g[3] / (mm[4] - mm[3]), rel=1e-13)


def test_focused_grid_resolves_a_narrow_boundary_at_a_low_order():
    """A boundary of width 0.05 at u = -0.8: the uniform grid (spacing 18/(8 order)) is 1e-6 off at
    order 64 and 2e-9 at 128; the focused grid is 5e-9 and 1e-12 off there (measured), and both
    converge to the same value."""
    qs, ms = np.array([0.3, 0.7, 0.97, 0.995]), np.array([0.3, 0.5, 0.8])

    def value(order, focus):
        grid = FieldGrid.build(order)
        x = grid.u if focus is None else field_map(grid.u, *focus)
        return LadderPass.run(*[_narrow(x)[0]], qs, ms, grid, *_narrow(x)[1:], focus=focus).value

    reference = value(1024, None)
    assert value(1024, FOCUS) == pytest.approx(reference, abs=1e-13)
    assert value(64, FOCUS) == pytest.approx(reference, abs=1e-8)
    assert value(128, FOCUS) == pytest.approx(reference, abs=1e-11)
    assert abs(value(64, None) - reference) > 1e-7  # the uniform grid at those orders does not resolve it
    assert abs(value(128, None) - reference) > 1e-9


@pytest.mark.parametrize("focus", [None, FOCUS])
def test_a_merged_level_is_the_ladder_without_it(focus):
    # Delta_3 = 0: step 3 is the identity (no interpolation), so the value and the gradients of the
    # other levels are those of the ladder with level 3 removed (m_3 drops out), to rounding
    grid = FieldGrid.build(64)
    x = grid.u if focus is None else field_map(grid.u, *focus)
    f, d1, d2 = _narrow(x) if focus else _boundary(grid)
    merged = LadderPass.run(f, [0.1, 0.3, 0.5, 0.5, 0.9], [0.2, 0.4, 0.6, 0.8], grid, d1, d2, focus=focus)
    fewer = LadderPass.run(f, [0.1, 0.3, 0.5, 0.9], [0.2, 0.4, 0.8], grid, d1, d2, focus=focus)
    assert merged.value == pytest.approx(fewer.value, abs=1e-15)
    g, h = merged.q_gradient, fewer.q_gradient
    assert [g[0], g[1], g[2] + g[3], g[4]] == pytest.approx(list(h), abs=1e-14)


def test_a_liquid_ladder_is_its_boundary_at_zero_field():
    # every level at 0 (a liquid layer): no step smooths, the value is f(0) and only the top's
    # heat-equation derivative (1/2) f''(0) is non-zero among the level gradients' sum
    grid = FieldGrid.build(64)
    f, d1, d2 = _boundary(grid)
    p = LadderPass.run(f, np.zeros(5), [0.2, 0.4, 0.6, 0.8], grid, d1, d2)
    assert p.value == f[grid.center] == pytest.approx(np.log(2.0), abs=1e-15)
    assert np.sum(p.q_gradient) == pytest.approx(0.5 * d2[grid.center], abs=1e-14)


def test_stencil_weights_interpolate_quintics_and_their_derivatives_exactly():
    # the six-point Lagrange weights reproduce any polynomial of degree <= 5 through the STENCIL nodes,
    # and their derivative weights its first two derivatives, at any t (here across two cells)
    from replica.compile.parisi import STENCIL, _lagrange

    c = np.array([0.3, -1.2, 0.7, 0.25, -0.4, 0.05])
    poly = np.polynomial.Polynomial(c)
    t = np.linspace(-0.5, 1.5, 9).reshape(3, 3)
    w, dw, d2w = _lagrange(t)
    assert w.shape == t.shape + (len(STENCIL),)
    values = poly(STENCIL)
    assert w @ values == pytest.approx(poly(t), abs=1e-13)
    assert dw @ values == pytest.approx(poly.deriv()(t), abs=1e-12)
    assert d2w @ values == pytest.approx(poly.deriv(2)(t), abs=1e-11)
    (alone,) = _lagrange(t, 0)
    assert np.array_equal(alone, w)
