"""Benchmark: the frozen local entropy S_I(d) over 100 distances, as one continuation chain in one process.

``replica sweep CONFIG -o x.csv`` (interpreter start, imports, compilation, the reference saddle,
every point with its quadrature check, writing the CSV): model local_entropy (binary, y = inf),
alpha = 0.4, kappa = 0, d from 0.28 (near the plateau onset d* = 0.2832) down to 0.02 (the dense
limit, dq ~ 60, q0_hat ~ 1e-4) as one chain, solver newton with tol 1e-10, quad_tol 1e-7 (starting
order 64; the check doubles it where needed, up to 1024). Each point solves two Laplace maxima
(``Maximum`` nodes) at every node of its averages (truncated x, z), by grid search and Newton.

Recorded (benchmark.extra_info and a printed summary), never asserted: the wall time, the compile
time, the time per point after compilation, and the quadrature orders the points settled at.
Asserted: every point converged (the row's own status, no point dropped), and the curve reproduces
the specification's values at d = 0.2, 0.1 (2e-5) and 0.02 (5e-5).

Run with ``make bench`` (or ``.venv/bin/pytest -q -m benchmark tests/benchmarks -s``).
"""

from __future__ import annotations

import numpy as np
import pytest

POINTS = 100
D_START, D_STOP = 0.28, 0.02
REFERENCE = {0.2: (0.372655, 2e-5), 0.1: (0.276581, 2e-5), 0.02: (0.097485, 5e-5)}  # spec §2.4, §3 rows 14, 16

D_VALUES = sorted(
    {round(float(x), 10) for x in np.linspace(D_START, D_STOP, POINTS - 2)} | set(REFERENCE), reverse=True
)
assert len(D_VALUES) == POINTS
CONFIG = f"""\
model: local_entropy
options: {{weights: binary}}
params: {{alpha: 0.4, kappa: 0.0, d: 0.1, y: inf}}
solver: {{method: newton, tol: 1.0e-10, quad_tol: 1.0e-7, max_quad_order: 1024, max_iter: 100}}
sweep:
  d: {{values: {D_VALUES}}}
"""


@pytest.mark.benchmark(group="local_entropy_curve_100")
def test_local_entropy_curve_process(timed_sweep, record_curve, capsys):
    wall, rows, sidecar = timed_sweep(CONFIG, "le")
    assert len(rows) == POINTS == sidecar["points"]
    bad = [(r["d"], r["status"]) for r in rows if r["converged"] != "true"]
    assert not bad, f"{len(bad)} points did not converge, e.g. {bad[:3]}"
    assert all(float(r["residual"]) < 1e-10 for r in rows)
    by_d = {float(r["d"]): float(r["S_I"]) for r in rows}
    for d, (s, tol) in REFERENCE.items():
        assert by_d[d] == pytest.approx(s, abs=tol), d
    summary = record_curve(wall, rows, sidecar)
    with capsys.disabled():
        print(
            f"\nSUMMARY local entropy S_I(d), y = inf, {POINTS} points (alpha = 0.4, d = {D_START} .. {D_STOP}): "
            f"{summary}"
        )
