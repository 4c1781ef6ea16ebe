"""The perceptron beyond 1RSB: frozen 1RSB (binary), k-step and full RSB (spherical), jamming.

References: the project's perceptron specification, table of values: the Krauth-Mezard
capacity alpha_KM(kappa = 0) = 0.83307860 (computed; published 0.833, Krauth & Mezard
1989); the 1RSB jamming estimates alpha_J^1RSB(kappa = -1, -0.5) = 12.3196, 4.70014
(computed, spec section 6); at kappa = -1, alpha = 10 the 1RSB entropy -2.357234.
The AT line alpha_AT(-1) = 7.873560, alpha_AT(-0.5) = 3.950701 and the k-step values
below were computed independently for this project (2-step jamming by a separate solver:
alpha_J^(2)(-0.5) = 4.6972364); the full-RSB jamming line must lie in (alpha_AT, alpha_J^1RSB].
"""

import math

import numpy as np
import pytest

from replica.compile import compile_free_energy
from replica.models import perceptron
from replica.solve import SolverOptions, TransitionRequest, locate, solve_point

LADDER = SolverOptions(tol=1e-8, quad_tol=1e-5)
TIGHT = SolverOptions(tol=1e-11, quad_tol=1e-9, max_quad_order=256)
JAM = SolverOptions()  # the defaults, as in configs/spherical_phase_diagram.yaml
# a jamming ladder's order parameters to 1e-6 (relative for the steps y): Phi is then resolved to ~1e-12
JAM_LADDER = SolverOptions(quad_tol=1e-6)


def model(**options):
    return compile_free_energy(perceptron(options))


def test_frozen_1rsb_complexity_is_the_rs_entropy_and_vanishes_at_krauth_mezard():
    frozen = model(weights="binary", ansatz="1rsb", frozen=True)
    rs = model(weights="binary", ansatz="rs")
    for alpha in (0.3, 0.7):
        f = solve_point(frozen, {"alpha": alpha, "kappa": 0.0, "m": 1.0}, TIGHT)
        r = solve_point(rs, {"alpha": alpha, "kappa": 0.0}, TIGHT)
        assert f.converged and r.converged
        assert f.observables["complexity"] == pytest.approx(r.observables["entropy"], abs=1e-9)
        assert f.observables["internal_entropy"] == pytest.approx(0.0, abs=1e-8)  # states of one configuration
    km = locate(frozen, TransitionRequest("complexity_zero", "alpha", (0.5, 1.0)), {"kappa": 0.0, "m": 1.0}, TIGHT)
    assert km.found, km.message
    assert km.value == pytest.approx(0.83307860, abs=5e-8)


@pytest.mark.parametrize(("kappa", "alpha_j", "alpha_at", "alpha_c"), [(-1.0, 12.3196, 7.873560, 13.273200)])
def test_1rsb_jamming_lies_between_the_at_line_and_the_rs_capacity(kappa, alpha_j, alpha_at, alpha_c):
    jam = model(weights="spherical", ansatz="1rsb", regime="jamming")
    found = locate(jam, TransitionRequest("jamming", "alpha", (1.5, 20.0), scan=200), {"kappa": kappa}, JAM)
    assert found.found, found.message
    assert found.value == pytest.approx(alpha_j, abs=1e-4)
    assert alpha_at < found.value < alpha_c


def test_1rsb_jamming_at_small_margin_follows_its_branch_from_above():
    """kappa = -0.5: below alpha_J the interior minimum ends and the scan lands on the degenerate
    mu -> infinity branch; the bracket is narrowed along the followed branch before brentq."""
    jam = model(weights="spherical", ansatz="1rsb", regime="jamming")
    found = locate(jam, TransitionRequest("jamming", "alpha", (1.5, 20.0), scan=200), {"kappa": -0.5}, JAM)
    assert found.found, found.message
    assert found.value == pytest.approx(4.70014, abs=2e-5)
    assert 3.950701 < found.value < 4.770099


def test_1rsb_jamming_near_zero_margin_is_found_below_the_rs_capacity():
    """kappa = -0.2: the UNSAT window where the 1RSB minimum is interior is (alpha_J, alpha_c^RS) =
    (2.77880, 2.78271), narrower than the 200-point scan's spacing; the scan accumulates below the RS
    capacity (the potential's q0 -> 1 end, Phi -> 1/2 - (alpha/2) E[max(0, kappa - z)^2]) and finds it.
    Reference: a 2000-point scan of the same potential, 2.7787984."""
    jam = model(weights="spherical", ansatz="1rsb", regime="jamming")
    assert jam.bound_coefficient("capacity", {"alpha": 1 / 0.35936136, "kappa": -0.2}) == pytest.approx(0, abs=1e-6)
    found = locate(jam, TransitionRequest("jamming", "alpha", (1.5, 40.0), scan=200), {"kappa": -0.2}, JAM)
    assert found.found, found.message
    assert found.value == pytest.approx(2.7787984, abs=2e-6)
    assert found.value < 1 / 0.35936136  # the RS capacity (Gardner)


def test_jamming_minimum_at_the_end_of_its_domain_is_not_a_solution():
    """kappa = -0.5, alpha = 5.2 (above the RS capacity 4.770): descent of the 1RSB Phi runs to q0 -> 1,
    the open end of its domain, where Phi is degenerate (no dependence on mu); that is not a jamming solution."""
    jam = model(weights="spherical", ansatz="1rsb", regime="jamming")
    sol = solve_point(jam, {"alpha": 5.2186, "kappa": -0.5}, SolverOptions(quad_tol=1e-6))
    assert not sol.converged
    assert sol.order_parameters["q0"] is None


def test_two_step_jamming_point_is_reached_from_the_1rsb_one():
    """The full-RSB jamming ladder with two steps is the free 2-step ansatz: alpha_J^(2)(-0.5) = 4.6972364
    (independent 2-step solver of this project); below the 1RSB point, above the AT line."""
    jam = model(weights="spherical", ansatz="frsb", steps=2, regime="jamming")
    request = TransitionRequest("jamming", "alpha", (1.5, 20.0), scan=200, tol=1e-9)
    found = locate(jam, request, {"kappa": -0.5}, JAM_LADDER)
    assert found.found, found.message
    assert found.value == pytest.approx(4.6972364, abs=2e-7)
    assert 3.950701 < found.value < 4.70014


@pytest.mark.parametrize(
    ("kappa", "free_3", "free_2", "measured"),
    [(-0.5, 4.696791, 4.6972364, 4.6968449), (-1.0, 12.2825415, 12.2872222, 12.2829566)],
)
def test_three_step_jamming_ladder_lies_below_two_steps(kappa, free_3, free_2, measured):
    """The geometric 3-step ladder is a subset of the free 3-step ansatz (independent solver: 4.696791 at
    kappa = -0.5, 12.2825415 at -1) and contains the 2-step one (4.6972364, 12.2872222): its alpha_J lies
    between them. Near kappa = -1 jamming the top step is narrow (1 - q_top ~ 1e-4): the field grid is
    focused on it (field_map), else the ladder needs more than 2048 nodes."""
    jam = model(weights="spherical", ansatz="frsb", steps=3, regime="jamming")
    request = TransitionRequest("jamming", "alpha", (1.5, 20.0), scan=200, tol=1e-8)
    found = locate(jam, request, {"kappa": kappa}, JAM_LADDER)
    assert found.found, found.message
    assert free_3 - 2e-6 <= found.value < free_2
    assert found.value == pytest.approx(measured, abs=2e-6)


# alpha_J^(k) of the geometric k-step jamming ladder (this project, quad_tol 1e-6, tol 1e-8):
# kappa = -1: k = 1 12.3196343, 2 12.2872222, 3 12.2829566, 4 12.2816481, 6 12.2809113, 8 12.2807179;
# kappa = -0.5: k = 2 4.6972364, 3 4.6968449, 4 4.6967129, 8 4.6966144. The differences fall off as a
# power of k (about k^-2.8 at kappa = -1): full RSB alpha_J(-1) = 12.2806(1), alpha_J(-0.5) = 4.69660(2).
K_STEP_JAMMING = {
    -1.0: {2: 12.2872222, 3: 12.2829566, 4: 12.2816481, 6: 12.2809113, 8: 12.2807179},
    -0.5: {2: 4.6972364, 3: 4.6968449, 4: 4.6967129, 8: 4.6966144},
}
AT_LINE = {-1.0: 7.873560, -0.5: 3.950701}
RS_CAPACITY = {-1.0: 13.273200, -0.5: 4.770099}
ONE_STEP_JAMMING = {-1.0: 12.3196, -0.5: 4.70014}


def k_step_jamming(kappa: float, steps: int) -> float:
    jam = model(weights="spherical", ansatz="frsb", steps=steps, regime="jamming")
    request = TransitionRequest("jamming", "alpha", (1.5, 20.0), scan=200, tol=1e-8)
    found = locate(jam, request, {"kappa": kappa}, JAM_LADDER)
    assert found.found, found.message
    return found.value


@pytest.mark.parametrize("kappa", [-1.0, -0.5])
def test_k_step_jamming_falls_towards_full_rsb_between_at_and_one_step(kappa):
    """Each added step can only lower alpha_J (the k-step ladder's Phi at fixed alpha is a minimum over
    a larger set), by less each time; the 4-step line lies in (alpha_AT, alpha_J^1RSB) below alpha_c^RS."""
    values = {k: k_step_jamming(kappa, k) for k in (2, 4)}
    assert values[4] == pytest.approx(K_STEP_JAMMING[kappa][4], abs=2e-6)
    assert values[4] < values[2] < ONE_STEP_JAMMING[kappa]
    assert values[2] - values[4] < ONE_STEP_JAMMING[kappa] - values[2]
    assert AT_LINE[kappa] < values[4] < ONE_STEP_JAMMING[kappa] < RS_CAPACITY[kappa]


@pytest.mark.slow
@pytest.mark.parametrize("kappa", [-1.0, -0.5])
def test_eight_step_jamming_is_within_the_extrapolated_full_rsb_error(kappa):
    """k = 8: the last increment is below 2e-4 of alpha_J (-1) and 1e-5 (-0.5), and the sequence's
    increments shrink with k, so the 8-step value is the full-RSB alpha_J to that accuracy."""
    value = k_step_jamming(kappa, 8)
    ref = K_STEP_JAMMING[kappa]
    assert value == pytest.approx(ref[8], abs=3e-6)
    assert value < ref[4]
    assert ref[4] - value < ref[2] - ref[4]


def test_k_step_ladder_collapses_to_rs_below_the_at_line():
    frsb = model(weights="spherical", ansatz="frsb", steps=4)
    rs = model(weights="spherical", ansatz="rs")
    params = {"alpha": 7.0, "kappa": -1.0}
    f = solve_point(frsb, params, LADDER)
    r = solve_point(rs, params, TIGHT)
    assert f.converged and r.converged, (f.status, r.status)
    assert f.observables["entropy"] == pytest.approx(r.observables["entropy"], abs=1e-8)
    assert f.order_parameters["q_min"] == pytest.approx(f.order_parameters["q_max"], abs=1e-6)
    assert f.observables["replicon"] > 0


def test_one_step_ladder_is_1rsb_and_more_steps_lower_the_entropy():
    """kappa = -1, alpha = 10 (AT-unstable RS): s_1RSB = -2.357234 (spec); the k-step entropy
    decreases monotonically with k towards full RSB (computed: k = 2: -2.3572722, k = 4: -2.3572787)."""
    params = {"alpha": 10.0, "kappa": -1.0}
    entropies = {}
    for k in (1, 2, 4):
        sol = solve_point(model(weights="spherical", ansatz="frsb", steps=k), params, LADDER)
        assert sol.converged, sol.status
        entropies[k] = sol.observables["entropy"]
        x = [sol.order_parameters[f"x{i}"] for i in range(1, k + 1)]
        assert all(a <= b + 1e-9 for a, b in zip(x, x[1:], strict=False))  # q(x) non-decreasing: x ordered
    assert entropies[1] == pytest.approx(-2.357234, abs=3e-6)
    assert entropies[2] == pytest.approx(-2.3572722, abs=3e-6)
    assert entropies[4] == pytest.approx(-2.3572787, abs=3e-6)
    assert entropies[1] > entropies[2] > entropies[4]
    assert math.isfinite(entropies[4])


def test_parisi_function_is_reported_with_its_overlap_distribution():
    sol = solve_point(model(weights="spherical", ansatz="frsb", steps=4), {"alpha": 9.5, "kappa": -1.0}, LADDER)
    assert sol.converged, sol.status
    q = np.array([sol.order_parameters["q_min"], sol.order_parameters["q_max"]])
    assert 0 < q[0] < q[1] < 1
