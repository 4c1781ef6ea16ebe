"""Benchmark: the Parisi ladder kernel and the full-RSB points that are made of it.

(a) one ``LadderPass`` (the backward recursion) with everything the solver asks of it: the
    value, d value/d q_i, d value/d m_i and the bottom average (the measures P_i), for a
    ladder of k = 8 steps at order 512 (a field grid of 4097 points, up to 512 nodes a step),
    the order at which the 8-step volume point below settles;
(b) the full-RSB volume point of the spherical perceptron, kappa = -1, alpha = 10, 8 steps
    (``solve_point``, compilation excluded), whose entropy is asserted against the value of
    the Parisi solution, -2.3572792;
(c) the full-RSB jamming point alpha_J(kappa = -1): ``locate`` of the transition ``jamming`` with
    ``ansatz: frsb, regime: jamming, steps: 8`` (quad_tol 1e-6, tol 1e-8, as the physics tests), from
    the 1RSB estimate 12.3196 down to 12.2807179 (the tests' value); the ladder's top step is
    1 - q_top ~ 1e-4 wide there and the field grid is focused on it.

Timings are recorded (benchmark.extra_info and a printed summary), never asserted.

Run with ``make bench`` (or ``.venv/bin/pytest -q -m benchmark tests/benchmarks/test_parisi_kernel.py -s``).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from replica.compile import compile_free_energy
from replica.compile.parisi import FieldGrid, LadderPass
from replica.models.perceptron import perceptron
from replica.solve import TransitionRequest, locate
from replica.solve.point import SolverOptions, solve_point

FRSB_ENTROPY = -2.3572792  # spherical, kappa = -1, alpha = 10, full RSB on 8 steps
ALPHA_J_8 = 12.2807179  # the 8-step jamming ladder at kappa = -1 (tests/physics/test_perceptron_frsb.py)


def _ladder(order: int, steps: int):
    grid = FieldGrid.build(order)
    u = grid.u
    boundary = -1.5 * np.maximum(0.0, -1.0 - u) ** 2 + 0.1 * np.log1p(np.exp(-u))
    return boundary, np.linspace(0.3, 0.95, steps + 1), np.linspace(0.2, 0.9, steps), grid


@pytest.mark.benchmark(group="parisi_kernel")
def test_ladder_pass_with_gradients(benchmark, capsys):
    boundary, qs, ms, grid = _ladder(512, 8)

    def run():
        p = LadderPass.run(boundary, qs, ms, grid)
        return p.value, p.q_gradient, p.m_gradient, p.bottom_average(grid.u)

    value, dq, dm, bottom = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    assert np.isfinite(value) and np.all(np.isfinite(dq)) and np.all(np.isfinite(dm)) and np.isfinite(bottom)
    # the derivative in m_1 against a central difference of the value (the discretisation is the same)
    h = 1e-5
    up = LadderPass.run(boundary, qs, ms + h * (np.arange(8) == 0), grid).value
    down = LadderPass.run(boundary, qs, ms - h * (np.arange(8) == 0), grid).value
    assert dm[0] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)
    benchmark.extra_info.update(order=512, steps=8, grid_points=len(grid.u), nodes=len(grid.z))
    with capsys.disabled():
        print(f"\nSUMMARY LadderPass (order 512, 8 steps, value + gradients): {benchmark.stats['min'] * 1e3:.1f} ms")


def _timed_point(benchmark, options: dict, params: dict, solver: SolverOptions):
    problem = compile_free_energy(perceptron(options)).warm_up()
    walls: list[float] = []

    def run():
        t0 = time.perf_counter()
        sol = solve_point(problem, params, solver)
        walls.append(time.perf_counter() - t0)
        return sol

    return benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0), walls[-1]


@pytest.mark.benchmark(group="parisi_points")
def test_frsb_volume_point(benchmark, capsys):
    options = {"weights": "spherical", "ansatz": "frsb", "steps": 8}
    sol, wall = _timed_point(benchmark, options, {"alpha": 10.0, "kappa": -1.0}, SolverOptions())
    assert sol.converged, sol.status
    assert sol.observables["entropy"] == pytest.approx(FRSB_ENTROPY, abs=2e-7)
    benchmark.extra_info.update(wall_s=wall, quad_order=sol.quad_order, iterations=sol.iterations, status=sol.status)
    with capsys.disabled():
        print(
            f"\nSUMMARY frsb volume point (8 steps, kappa=-1, alpha=10): {wall:.1f} s, "
            f"entropy {sol.observables['entropy']:.9f}, order {sol.quad_order}"
        )


@pytest.mark.benchmark(group="parisi_points")
def test_frsb_jamming_point(benchmark, capsys):
    options = {"weights": "spherical", "ansatz": "frsb", "regime": "jamming", "steps": 8}
    problem = compile_free_energy(perceptron(options))
    problem.warm_up()
    request = TransitionRequest("jamming", "alpha", (1.5, 20.0), scan=200, tol=1e-8)
    walls: list[float] = []

    def run():
        t0 = time.perf_counter()
        found = locate(problem, request, {"kappa": -1.0}, SolverOptions(quad_tol=1e-6))
        walls.append(time.perf_counter() - t0)
        return found

    found = benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    assert found.found, found.message
    assert found.value == pytest.approx(ALPHA_J_8, abs=3e-6)
    benchmark.extra_info.update(
        wall_s=walls[-1], alpha_J=found.value, evaluations=found.evaluations, message=found.message
    )
    with capsys.disabled():
        print(
            f"\nSUMMARY frsb jamming point (8 steps, kappa=-1): alpha_J = {found.value:.7f} in {walls[-1]:.1f} s "
            f"({found.evaluations} solves); {found.message}"
        )
