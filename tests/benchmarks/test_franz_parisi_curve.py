"""Benchmark: a 200-point Franz-Parisi potential curve S_FP(d), as a whole process.

``replica sweep CONFIG -o x.csv`` (interpreter start, imports, compilation, the reference
saddle, every point with its quadrature check, writing the CSV): model franz_parisi
(binary, equilibrium reference), alpha = 0.4, kappa = 0, d log-spaced from 0.5 down to
0.005 as one continuation chain, solver newton with tol 1e-10 and quad_tol 1e-8 (starting
order 64; the check doubles it where needed). The triple average (z0, truncated x, the
smoothing y) and the double entropic one make each point a nested-average computation.

Recorded (benchmark.extra_info and a printed summary), never asserted: the wall time, the
compile time, the time per point after compilation, and the quadrature orders the points
settled at. Asserted: every point converged, and the curve reproduces the specification's
values at d = 0.5, 0.1, 0.01 (tolerance 2e-5), so that the time is that of the right answer.

Run with ``make bench`` (or ``.venv/bin/pytest -q -m benchmark tests/benchmarks -s``).
"""

from __future__ import annotations

import numpy as np
import pytest

POINTS = 200
D_START, D_STOP = 0.5, 0.005
REFERENCE = {0.5: 0.355269, 0.1: 0.204375, 0.01: 0.018747}  # spec fp_local_entropy §1.7, alpha = 0.4

# log-spaced, with the reference distances among them
D_VALUES = sorted({float(x) for x in np.geomspace(D_START, D_STOP, POINTS - 2)} | set(REFERENCE), reverse=True)
assert len(D_VALUES) == POINTS
CONFIG = f"""\
model: franz_parisi
options: {{weights: binary, reference: equilibrium}}
params: {{alpha: 0.4, kappa: 0.0, d: 0.1}}
solver: {{method: newton, tol: 1.0e-10, quad_tol: 1.0e-8, max_quad_order: 256, max_iter: 100}}
sweep:
  d: {{values: {D_VALUES}}}
"""


@pytest.mark.benchmark(group="franz_parisi_curve_200")
def test_franz_parisi_curve_process(timed_sweep, record_curve, capsys):
    wall, rows, sidecar = timed_sweep(CONFIG, "fp")
    assert len(rows) == POINTS == sidecar["points"]
    bad = [r["d"] for r in rows if r["converged"] != "true"]
    assert not bad, f"{len(bad)} points did not converge, e.g. d = {bad[:5]}"
    by_d = {float(r["d"]): float(r["S_FP"]) for r in rows}
    for d, s in REFERENCE.items():
        assert by_d[d] == pytest.approx(s, abs=2e-5), d
    summary = record_curve(wall, rows, sidecar)
    with capsys.disabled():
        print(f"\nSUMMARY Franz-Parisi curve, {POINTS} points (alpha = 0.4, d = {D_START} .. {D_STOP}): {summary}")
