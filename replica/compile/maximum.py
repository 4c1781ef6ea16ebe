"""The numeric maximiser behind ``AtMaximum`` nodes: v* = argmax f(v) on [lower, upper], vectorised.

One call finds the maximiser for every point of the enclosing integration grids (and of a batch of
parameter points) at once. ``fun(v)`` returns (f, f_v, f_vv) broadcast against v:

1. global search: f on GRID uniformly spaced candidates in [lower, upper] (a new leading axis);
   the best candidate selects the basin of the global maximum where f is multimodal (e.g.
   ln 2cosh(h + u) - u^2/(2 dq_hat) once dq_hat > 1);
2. refinement: Newton on f_v = 0 inside the bracket of the best candidate's neighbours, with a
   bisection step (on the sign of f_v) wherever Newton leaves the bracket or f_vv >= 0, until
   every step is below STEP_TOL (relative), at most MAX_STEPS steps.

A maximiser at a bound (no interior stationary point) ends at that bound.
"""

from __future__ import annotations

import numpy as np

GRID = 33
MAX_STEPS = 100
STEP_TOL = 1e-15


def argmax(fun, lower, upper) -> np.ndarray:
    """v* in [lower, upper] maximising f, for every point of the broadcast shape of (fun, lower, upper)."""
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    f0 = np.asarray(fun(lower)[0])
    shape = np.broadcast_shapes(f0.shape, lower.shape, upper.shape)
    lo, hi = np.broadcast_to(lower, shape), np.broadcast_to(upper, shape)
    s = np.linspace(0.0, 1.0, GRID).reshape((GRID,) + (1,) * len(shape))
    candidates = lo + (hi - lo) * s
    values = np.broadcast_to(fun(candidates)[0], candidates.shape)
    values = np.where(np.isnan(values), -np.inf, values)
    k = np.argmax(values, axis=0)
    a = np.take_along_axis(candidates, np.maximum(k - 1, 0)[None], axis=0)[0]
    b = np.take_along_axis(candidates, np.minimum(k + 1, GRID - 1)[None], axis=0)[0]
    v = np.take_along_axis(candidates, k[None], axis=0)[0].copy()
    for _ in range(MAX_STEPS):
        _, fv, fvv = (np.broadcast_to(x, shape) for x in fun(v))
        # the bracket [a, b] keeps the maximiser: f_v > 0 -> it lies above v
        up = fv > 0
        a = np.where(up, np.maximum(a, v), a)
        b = np.where(up, b, np.minimum(b, v))
        newton = v - fv / np.where(fvv < 0, fvv, -1.0)
        inside = (fvv < 0) & (newton > a) & (newton < b)
        new = np.where(inside, newton, 0.5 * (a + b))
        new = np.where(fv == 0, v, new)
        step = np.abs(new - v)
        v = new
        if np.all(step <= STEP_TOL * (1.0 + np.abs(v))):
            break
    return v
