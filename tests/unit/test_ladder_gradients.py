"""The Parisi ladder kernel (compile/parisi.py): its gradients against differences of its value."""

import numpy as np
import pytest

from replica.compile.parisi import FieldGrid, LadderPass

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
