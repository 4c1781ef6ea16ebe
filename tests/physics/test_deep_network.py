"""Yoshino's deep perceptron network (model deep_network): identities, glass transitions, profiles.

References: docs/deep_network.md (the free entropy, the liquid instability, what is
and is not reproduced of the published numbers); the spherical perceptron values of
tests/physics/test_perceptron.py and test_perceptron_rsb.py for the L = 1 identity.
"""

import math

import numpy as np
import pytest
from scipy.special import log_ndtr

from replica.compile import compile_free_energy
from replica.models import deep_network, perceptron
from replica.solve import SolverOptions, solve_point
from replica.solve.transitions import TransitionRequest, locate

OPTS = SolverOptions()


def mills(kappa: float) -> float:
    """R(kappa) = G(kappa)/H(kappa), the inverse Mills ratio."""
    return math.exp(-(kappa**2) / 2 - 0.5 * math.log(2 * math.pi) - log_ndtr(-kappa))


def network(L: int, ansatz: str = "rs", **options):
    return compile_free_energy(deep_network({"ansatz": ansatz, **options}, {"L": L}))


def solve(problem, alpha: float, L: int, kappa: float = 0.0, theta0=None):
    sol = solve_point(problem, {"alpha": alpha, "kappa": kappa, "L": L}, OPTS, theta0=theta0, warm=theta0 is not None)
    assert sol.converged, sol.status
    return sol


def glass(problem, L: int, layer: int, bracket, kappa: float = 0.0, scan: int = 5, tol: float = 1e-9) -> float:
    request = TransitionRequest("glass", "alpha", bracket, tol, scan, layer=layer)
    result = locate(problem, request, {"alpha": bracket[0], "kappa": kappa, "L": L}, OPTS)
    assert result.found, result.message
    return result.value


# --- L = 1 is the spherical perceptron -------------------------------------------------------------


@pytest.mark.parametrize(
    "alpha, q, entropy",
    [(0.5, 0.307393, -0.377670), (1.0, 0.585312, -0.855821), (1.5, 0.821721, -1.589208)],
)
def test_one_layer_is_the_spherical_perceptron_rs(alpha, q, entropy):
    """alpha phi of L = 1 is the perceptron's entropy per weight, Q(1) its q (spec values, and the perceptron model)."""
    deep = solve(network(1), alpha, 1)
    ref = solve_point(
        compile_free_energy(perceptron({"weights": "spherical", "ansatz": "rs"})), {"alpha": alpha, "kappa": 0.0}, OPTS
    )
    assert deep.order_parameters["Q_1"] == pytest.approx(q, abs=1e-6)
    assert alpha * deep.observables["free_entropy"] == pytest.approx(entropy, abs=1e-6)
    assert deep.order_parameters["Q_1"] == pytest.approx(ref.order_parameters["q"], abs=1e-8)
    assert alpha * deep.observables["free_entropy"] == pytest.approx(ref.observables["entropy"], abs=1e-8)


def test_one_layer_is_the_spherical_perceptron_1rsb():
    """kappa = -1, alpha = 10: q0 = 0.627645, q1 = 0.918404, m = 0.219188, entropy -2.357234 (both models)."""
    deep = solve(network(1, "1rsb"), 10.0, 1, kappa=-1.0, theta0=np.array([0.6, 0.3, 0.2]))
    ops = deep.order_parameters
    ref_problem = compile_free_energy(perceptron({"weights": "spherical", "ansatz": "1rsb"}))
    ref = solve_point(ref_problem, {"alpha": 10.0, "kappa": -1.0}, OPTS, theta0=np.array([0.6, 0.9, 0.2]))
    assert ops["Q_1_0"] == pytest.approx(0.627645, abs=1e-6)
    assert ops["Q_1_0"] + ops["dQ_1_1"] == pytest.approx(0.918404, abs=1e-6)
    assert ops["m"] == pytest.approx(0.219188, abs=1e-6)
    assert 10 * deep.observables["free_entropy"] == pytest.approx(-2.357234, abs=1e-6)
    assert ops["Q_1_0"] == pytest.approx(ref.order_parameters["q0"], abs=1e-6)
    assert ops["m"] == pytest.approx(ref.order_parameters["m"], abs=1e-6)
    assert 10 * deep.observables["free_entropy"] == pytest.approx(ref.observables["entropy"], abs=1e-7)


# --- the liquid and its instability ----------------------------------------------------------------


@pytest.mark.parametrize("kappa", [0.0, 0.5, -0.5])
def test_liquid_below_the_first_transition(kappa):
    """Every hidden layer liquid: phi = (L - 1) ln 2 + L ln H(kappa); glass_l = alpha R^4 q_EA(l+-1)^2 - 1."""
    L, alpha = 5, 0.9 / mills(kappa) ** 4
    sol = solve(network(L), alpha, L, kappa)
    obs = sol.observables
    assert obs["free_entropy"] == pytest.approx((L - 1) * math.log(2) + L * log_ndtr(-kappa), abs=1e-12)
    assert all(obs[f"q_{l}"] == 0 for l in range(1, L)) and all(obs[f"Q_{l}"] == 0 for l in range(1, L + 1))
    assert obs["glass_1"] == pytest.approx(alpha * mills(kappa) ** 4 - 1, abs=1e-12)
    assert obs["glass_2"] == pytest.approx(-1.0, abs=1e-12)


@pytest.mark.parametrize("kappa", [0.0, 0.5])
def test_first_glass_transition_is_one_over_R4(kappa):
    """alpha_g(1) = 1/R(kappa)^4 for L >= 3 (kappa = 0: pi^2/4 = 2.4674011), 1/(2 R^4) for L = 2."""
    target = 1 / mills(kappa) ** 4
    assert glass(network(4), 4, 1, (0.8 * target, 1.2 * target), kappa) == pytest.approx(target, abs=1e-8)
    assert glass(network(2), 2, 1, (0.4 * target, 0.6 * target), kappa) == pytest.approx(target / 2, abs=1e-8)
    if kappa == 0.0:
        assert target == pytest.approx(math.pi**2 / 4, abs=1e-14)


def test_first_glass_transition_published_value_is_not_reproduced():
    """Published (Yoshino 2020, SciPost Phys. Core 2, 005; seed talk 002): alpha_g(1) ~ 2.03, alpha_g(2) ~ 15.38.

    The structure of the spec (spherical weights, Ising hidden spins, p = q(l-1) Q(l) q(l),
    margin kappa) gives alpha_g(1) = 1/R(kappa)^4 exactly, pi^2/4 = 2.4674 at kappa = 0; 2.03
    would need kappa = 0.0620, which puts alpha_g(2) near 12, not 15.38 (docs/deep_network.md).
    This test asserts what the model computes and records the published number beside it.
    """
    published = 2.03
    computed = glass(network(4), 4, 1, (2.0, 3.0))
    assert computed == pytest.approx(math.pi**2 / 4, abs=1e-8)
    assert abs(computed - published) > 0.4  # the documented discrepancy, 21.5 %
    kappa_star = 0.062004  # the margin at which 1/R^4 = 2.03
    assert 1 / mills(kappa_star) ** 4 == pytest.approx(published, abs=1e-4)


def test_second_glass_transition_rs():
    """RS layers, kappa = 0: alpha R^4 q_EA(1)^2 = 1 at alpha_g(2) = 21.0117 (computed reference, docs)."""
    value = glass(network(6), 6, 2, (15.0, 25.0), scan=6)
    assert value == pytest.approx(21.0117, abs=2e-4)


# --- RSB per layer (fixed ladder m_i = i/(K+1)) --------------------------------------------------------


def ladder(sol, name: str, K: int) -> np.ndarray:
    """The levels of one ladder from its lowest level and increments."""
    op = sol.order_parameters
    return np.cumsum([op[f"{name}_0"]] + [op[f"d{name}_{i}"] for i in range(1, K + 1)])


def test_rsb_layer_is_the_parisi_solution():
    """L = 2, kappa = 0, alpha = 3, K = 4: the Parisi solution among the fixed ladder's stationary points.

    The ladder equations have many roots (levels merged in every pattern); the Parisi one minimises
    max_{q_hat} phi. Reference: a damped fixed-point iteration of the same equations (q <- the spin
    average, Q <- the Crisanti-Sommers inverse, independent code on a real-space field grid, 5000
    sweeps): phi = -0.6986648, q(1) = 0.04623, 0.14649, 0.26559, 0.32015, 0.32015 (levels 3 and 4
    merged: the plateau). The roots Newton reaches from other starts lie higher: -0.6986629,
    -0.6986569, -0.6986206, and one at -0.6964389 (levels 0-3 at zero), above RS.
    """
    K, alpha = 4, 3.0
    rsb = solve(network(2, "krsb", steps=K), alpha, 2)
    rs = solve(network(2), alpha, 2)
    assert rsb.phi == pytest.approx(-0.6986648272, abs=2e-9)
    assert rsb.phi < rs.phi - 2e-4  # RS: -0.6984103
    q = ladder(rsb, "q_1", K)
    assert q == pytest.approx([0.046234, 0.146486, 0.265589, 0.320149, 0.320150], abs=2e-5)
    assert np.all(np.diff(q) >= 0)
    assert ladder(rsb, "Q_1", K) == pytest.approx(ladder(rsb, "Q_2", K), abs=1e-9)  # symmetric boundaries


def test_rsb_from_a_stationary_rs_start_is_the_parisi_solution():
    """The RS point embedded in the ladder (level 0 at the RS values, every increment zero) is a root of
    the ladder equations (merged levels are stationary) but a saddle of max_{q_hat} phi: the warm Newton
    root is refused there (``is_min_max``), and descent, which cannot move from a stationary start, leaves
    it along the negative curvature to the Parisi solution. A warm start near the Parisi solution is kept
    by Newton, checked, with the cold start's numbers."""
    from replica.solve.saddle import is_min_max

    K, alpha, L = 4, 3.0, 2
    problem = network(L, "krsb", steps=K)
    params = {"alpha": alpha, "kappa": 0.0, "L": L}
    rsb = solve(problem, alpha, L)
    rs = solve(network(L), alpha, L)
    names = problem.free_energy.order_parameter_names
    embedded = np.array([rs.order_parameters[n[:-2]] if n.endswith("_0") else 0.0 for n in names])
    quad = problem.quadrature(rsb.quad_order)
    assert np.max(np.abs(problem.residual(embedded, params, quad))) < 1e-10
    assert not is_min_max(problem, embedded, params, quad)
    assert is_min_max(problem, rsb.theta, params, quad)
    back = solve(problem, alpha, L, theta0=embedded)
    assert back.phi == pytest.approx(rsb.phi, abs=1e-10) and back.phi < rs.phi - 2e-4
    near = solve(problem, 3.05, L, theta0=rsb.theta)
    assert near.status.startswith("converged (newton (warm, min-max checked))"), near.status
    assert near.phi == pytest.approx(solve(problem, 3.05, L).phi, abs=1e-10)


def test_rsb_liquid_layers_are_the_rs_liquid():
    """Below the first transition (alpha_g(1) = 1/R(kappa)^4 = 0.59 at kappa = 0.5) every hidden layer is liquid
    in every ansatz: phi = (L - 1) ln 2 + L ln H(kappa), the RS liquid (RS recovered where the layers are liquid)."""
    L, kappa = 3, 0.5
    rsb = solve(network(L, "krsb", steps=3), 0.4, L, kappa=kappa)
    rs = solve(network(L), 0.4, L, kappa=kappa)
    assert rsb.phi == pytest.approx(rs.phi, abs=1e-12)
    assert rsb.phi == pytest.approx((L - 1) * math.log(2) + L * float(log_ndtr(-kappa)), abs=1e-12)
    assert all(v == 0 for k, v in rsb.order_parameters.items() if k != "m")


def test_rsb_sweep_writes_the_parisi_function_of_every_layer(tmp_path):
    """The long table q(x, l), Q(x, l) beside the sweep: one row per layer and level, clamped layers at q = 1."""
    import replica
    from replica.run.store import read_table

    config = {
        "model": "deep_network",
        "options": {"ansatz": "krsb", "steps": 4},
        "params": {"alpha": 3.0, "L": 2, "kappa": 0.0},
        "sweep": {"alpha": {"values": [3.0]}},
    }
    replica.sweep_config(config, output=str(tmp_path / "p.csv"))
    columns, rows = read_table(tmp_path / "p.parisi.csv")
    assert columns == ["alpha", "layer", "rung", "x_from", "x_to", "Q", "q"]
    assert len(rows) == 3 * 5  # layers 0, 1, 2 (q(0) = q(2) = 1 clamped), five levels each
    hidden = [r for r in rows if r["layer"] == 1]
    assert [r["x_from"] for r in hidden] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
    assert [r["q"] for r in hidden] == pytest.approx([0.046234, 0.146486, 0.265589, 0.320149, 0.320150], abs=2e-5)
    assert all(r["q"] == 1.0 and r["Q"] is None for r in rows if r["layer"] == 0)


def test_refined_ladder_converges_to_the_same_parisi_solution(tmp_path):
    """L = 2, kappa = 0, alpha = 3: the uniform ladder m_i = i/(K+1) and the refined one
    m_i = 1 - (1 - i/(K+1))^2 are two discretisations of the same Parisi function, so their free
    entropies approach each other as K grows (measured: |difference| = 2.7e-5, 3.0e-6, 3.3e-7,
    1.1e-8 for K = 2, 4, 8, 16), and the refined ladder's table carries its own breakpoints."""
    import replica
    from replica.run.store import read_table

    phi = {}
    for K in (2, 4):
        for ladder in ("uniform", "refined"):
            phi[K, ladder] = solve(network(2, "krsb", steps=K, ladder=ladder), 3.0, 2).phi
    gaps = {K: abs(phi[K, "uniform"] - phi[K, "refined"]) for K in (2, 4)}
    assert 1e-5 < gaps[2] < 5e-5
    assert gaps[4] < gaps[2] / 5
    assert phi[4, "uniform"] == pytest.approx(-0.6986648, abs=1e-7)

    config = {
        "model": "deep_network",
        "options": {"ansatz": "krsb", "steps": 4, "ladder": "refined"},
        "params": {"alpha": 3.0, "L": 2, "kappa": 0.0},
        "sweep": {"alpha": {"values": [3.0]}},
    }
    replica.sweep_config(config, output=str(tmp_path / "r.csv"))
    _, rows = read_table(tmp_path / "r.parisi.csv")
    hidden = [r for r in rows if r["layer"] == 1]
    assert [r["x_from"] for r in hidden] == pytest.approx([0.0, 0.36, 0.64, 0.84, 0.96])
    assert [r["x_to"] for r in hidden] == pytest.approx([0.36, 0.64, 0.84, 0.96, 1.0])
    _, rows = read_table(tmp_path / "r.csv")
    assert rows[0]["free_entropy"] == pytest.approx(phi[4, "refined"], abs=1e-9)


def test_breakpoints_give_the_ladder_itself(tmp_path):
    """``breakpoints: [0.2, 0.4, 0.6, 0.8]`` is the uniform K = 4 ladder (the same numbers); another list
    is solved on its own breakpoints, which its Parisi table carries. L = 2, kappa = 0, alpha = 3."""
    import replica
    from replica.run.store import read_table

    def run(name: str, options: dict):
        config = {
            "model": "deep_network",
            "options": {"ansatz": "krsb", **options},
            "params": {"alpha": 3.0, "L": 2, "kappa": 0.0},
            "sweep": {"alpha": {"values": [3.0]}},
        }
        replica.sweep_config(config, output=str(tmp_path / f"{name}.csv"))
        _, rows = read_table(tmp_path / f"{name}.csv")
        _, ladder = read_table(tmp_path / f"{name}.parisi.csv")
        return rows[0], [r for r in ladder if r["layer"] == 1]

    uniform, _ = run("u", {"steps": 4})
    listed, _ = run("b", {"breakpoints": [0.2, 0.4, 0.6, 0.8]})
    assert listed["converged"] and listed["free_entropy"] == pytest.approx(uniform["free_entropy"], abs=1e-12)
    assert listed["free_entropy"] == pytest.approx(-0.6986648, abs=1e-7)
    other, ladder = run("c", {"breakpoints": [0.3, 0.6, 0.8, 0.9, 0.95]})
    assert other["converged"]
    assert [r["x_from"] for r in ladder] == pytest.approx([0.0, 0.3, 0.6, 0.8, 0.9, 0.95])
    # a plateau from x = 0.6 on (as on the uniform ladder), whose value the two ladders place differently
    assert ladder[2]["q"] == pytest.approx(ladder[-1]["q"], abs=1e-8)
    assert abs(other["free_entropy"] - uniform["free_entropy"]) < 1e-5


@pytest.mark.slow
def test_rsb_profile_fixed_ladder_k4():
    """L = 8, kappa = 0, K = 4, alpha = 20: layers 1, 2 and 6, 7 glassy, the centre liquid, symmetric profile.

    Reference: the independent fixed-point script (half chain of two glassy layers, same ladder):
    q_EA(1), q_EA(2) = 0.46764, 0.08806 at alpha = 20 (and 0.60496, 0.22740 at alpha = 40, which this
    engine also gives: configs/deep_network_rsb_profile.yaml).
    """
    L = 8
    sol = solve(network(L, "krsb", steps=4), 20.0, L)
    q = [sol.observables[f"q_{l}"] for l in range(1, L)]
    assert q[:2] == pytest.approx([0.46764, 0.08806], abs=2e-5)
    assert all(abs(q[l] - q[L - 2 - l]) < 1e-8 for l in range(L - 1))
    assert q[2] == q[3] == q[4] == 0


@pytest.mark.slow
def test_second_glass_transition_fixed_ladder_k4():
    """kappa = 0, fixed ladder K = 4: alpha_g(2) = 15.9808 and q_EA(1) = 0.38742 at alpha = 15.5.

    Reference: the independent fixed-point script of docs/deep_network.md (same ladder, real-space
    field grid, dh = 0.05): alpha_g(2) = 15.9808, q_EA(1)(15.5) = 0.38742 (K = 1/2/8: 0.40483 /
    0.38850 / 0.38705, converging to full RSB from below in alpha_g(2): 15.268, 15.955, 15.981,
    16.006, 16.064 for K = 1, 2, 4, 8, 16). The published 15.38 is not reproduced (see
    test_first_glass_transition_published_value_is_not_reproduced).
    """
    problem = network(6, "krsb", steps=4)
    sol = solve(problem, 15.5, 6)
    assert sol.observables["q_1"] == pytest.approx(0.38742, abs=2e-5)
    assert sol.observables["q_1"] == pytest.approx(sol.observables["q_5"], abs=1e-9)
    assert sol.observables["q_2"] == 0 and sol.observables["glass_2"] < 0
    value = glass(problem, 6, 2, (15.5, 16.5), scan=3, tol=1e-6)
    assert value == pytest.approx(15.9808, abs=2e-4)


@pytest.mark.slow
def test_third_glass_transition_fixed_ladder_k4():
    """kappa = 0, K = 4, L = 8: alpha_g(3) = 43.2877 (the independent fixed-point script of
    docs/deep_network.md); layers 1, 2 and 6, 7 glassy below it, held so while layer 3's liquid is
    scanned. About 3 min (was 9 before the grouped finite-difference Jacobian)."""
    value = glass(network(8, "krsb", steps=4), 8, 3, (42.0, 45.0), scan=3, tol=1e-6)
    assert value == pytest.approx(43.2877, abs=2e-4)


# --- binary weights ----------------------------------------------------------------------------------


def test_binary_one_layer_is_the_binary_perceptron():
    """weights: binary, L = 1: alpha phi is the binary perceptron's RS entropy (perceptron.md section 8:
    alpha = 0.5: q = 0.32238536, q_hat = 0.668035, s = 0.3143900669), through both models."""
    deep = solve(network(1, weights="binary"), 0.5, 1)
    binary_perceptron = compile_free_energy(perceptron({"weights": "binary", "ansatz": "rs"}))
    ref = solve_point(binary_perceptron, {"alpha": 0.5, "kappa": 0.0}, OPTS)
    assert 0.5 * deep.phi == pytest.approx(0.3143900669, abs=1e-9)
    assert 0.5 * deep.phi == pytest.approx(ref.observables["entropy"], abs=1e-10)
    assert deep.order_parameters["Q_1"] == pytest.approx(0.32238536, abs=1e-8)
    assert deep.order_parameters["Q_hat_1"] == pytest.approx(0.668035, abs=1e-6)


def test_binary_weights_first_transition_is_the_same():
    """The weight prior does not enter the liquid's quadratic form (binary and spherical entropies are both
    -Q^2/4 per replica pair near Q = 0): alpha_g(1) = 1/R(0)^4 = pi^2/4 for binary weights too."""
    value = glass(network(4, weights="binary"), 4, 1, (2.0, 3.0))
    assert value == pytest.approx(math.pi**2 / 4, abs=1e-8)


def test_binary_weights_rsb_below_rs():
    """L = 2, alpha = 3, K = 4, binary weights: the Parisi solution lies below RS (-0.2367304) and is symmetric."""
    K = 4
    rsb = solve(network(2, "krsb", steps=K, weights="binary"), 3.0, 2)
    rs = solve(network(2, weights="binary"), 3.0, 2)
    assert rs.phi == pytest.approx(-0.2367304021, abs=1e-9)
    assert rsb.phi < rs.phi - 5e-4  # -0.2377205
    assert np.all(np.diff(ladder(rsb, "Q_1", K)) >= 0)
    assert ladder(rsb, "Q_1", K) == pytest.approx(ladder(rsb, "Q_2", K), abs=1e-9)


# --- profiles ----------------------------------------------------------------------------------------


def test_profile_symmetric_with_liquid_centre_rs():
    """L = 6, alpha = 30 (RS): layers 1, 2 and 4, 5 glassy, layer 3 liquid; q(l) = q(L - l), Q(l) = Q(L + 1 - l)."""
    L = 6
    sol = solve(network(L), 30.0, L)
    obs = sol.observables
    for l in range(1, L):
        assert obs[f"q_{l}"] == pytest.approx(obs[f"q_{L - l}"], abs=1e-9)
    for l in range(1, L + 1):
        assert obs[f"Q_{l}"] == pytest.approx(obs[f"Q_{L + 1 - l}"], abs=1e-9)
    assert obs["q_3"] == 0 and obs["Q_3"] == 0 and obs["Q_4"] == 0
    assert obs["q_1"] > obs["q_2"] > 0
    assert obs["glass_3"] < 0 < obs["glass_2"]
    assert "glassy: layer 1, layer 2, layer 4, layer 5; liquid: layer 3" in sol.status


def test_envelope_theorem_along_alpha():
    """d phi / d alpha (total, along the solution) = partial d phi / d alpha at fixed order parameters."""
    L, h = 6, 1e-4
    problem = network(L)
    mid = solve(problem, 25.0, L)
    lo = solve(problem, 25.0 - h, L, theta0=mid.theta)
    hi = solve(problem, 25.0 + h, L, theta0=mid.theta)
    total = (hi.observables["free_entropy"] - lo.observables["free_entropy"]) / (2 * h)
    assert total == pytest.approx(mid.observables["dphi_dalpha"], abs=1e-7)


def test_cold_start_far_above_thresholds_equals_continuation():
    """L = 10, alpha = 300 (RS): opened layer by layer from the liquid = followed from alpha = 100; layer 5 liquid."""
    L = 10
    problem = network(L)
    cold = solve(problem, 300.0, L)
    warm = solve(problem, 300.0, L, theta0=solve(problem, 100.0, L).theta)
    for l in range(1, L):
        assert cold.observables[f"q_{l}"] == pytest.approx(warm.observables[f"q_{l}"], abs=1e-8)
    q = [cold.observables[f"q_{l}"] for l in range(1, L)]
    assert q[0] > q[1] > q[2] > q[3] > 0 and q[4] == 0  # glassy boundaries, liquid centre
    assert cold.observables["glass_5"] < 0 < cold.observables["glass_4"]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"params": {"alpha": 1.0}}, "params.L"),
        ({"params": {"alpha": 1.0, "L": 2.5}}, "params.L"),
        (
            {"params": {"alpha": 1.0, "L": 3}, "options": {"weights": "binary", "scenario": "teacher_student"}},
            "options.weights",
        ),
        (
            {"params": {"alpha": 1.0, "L": 3}, "options": {"scenario": "teacher_student", "ansatz": "krsb"}},
            "options.ansatz",
        ),
        ({"params": {"alpha": 1.0, "L": 3}, "sweep": {"L": {"values": [2, 3]}}}, "sweep.L"),
        ({"params": {"alpha": 1.0, "L": 3}, "options": {"ansatz": "krsb", "ladder": "geometric"}}, "options.ladder"),
        ({"params": {"alpha": 1.0, "L": 3}, "options": {"ansatz": "rs", "ladder": "refined"}}, "options.ladder"),
        ({"params": {"alpha": 1.0, "L": 3}, "options": {"ansatz": "rs", "breakpoints": [0.5]}}, "options.breakpoints"),
        ({"params": {"alpha": 1.0, "L": 3}, "options": {"ansatz": "krsb", "breakpoints": 0.5}}, "options.breakpoints"),
        ({"params": {"alpha": 1.0, "L": 3}, "options": {"ansatz": "krsb", "breakpoints": []}}, "options.breakpoints"),
        (
            {
                "params": {"alpha": 1.0, "L": 3},
                "options": {"ansatz": "krsb", "breakpoints": [i / 66 for i in range(1, 66)]},
            },
            "options.breakpoints",
        ),
        (
            {"params": {"alpha": 1.0, "L": 3}, "options": {"ansatz": "krsb", "breakpoints": [0.5, 0.4]}},
            "options.breakpoints[1]",
        ),
        (
            {"params": {"alpha": 1.0, "L": 3}, "options": {"ansatz": "krsb", "breakpoints": [0.5, 1.0]}},
            "options.breakpoints[1]",
        ),
        (
            {"params": {"alpha": 1.0, "L": 3}, "options": {"ansatz": "krsb", "breakpoints": [0.5, "x"]}},
            "options.breakpoints[1]",
        ),
        (
            {"params": {"alpha": 1.0, "L": 3}, "options": {"ansatz": "krsb", "breakpoints": [0.5], "steps": 1}},
            "options.breakpoints",
        ),
        (
            {
                "params": {"alpha": 1.0, "L": 3},
                "options": {"ansatz": "krsb", "breakpoints": [0.5], "ladder": "refined"},
            },
            "options.breakpoints",
        ),
        (
            {
                "params": {"alpha": 1.0, "L": 3},
                "transitions": [{"kind": "glass", "parameter": "alpha", "layer": 3, "bracket": [1, 2]}],
            },
            "transitions[0].layer",
        ),
        (
            {"params": {"alpha": 1.0, "L": 1}, "transitions": [{"kind": "glass", "parameter": "alpha"}]},
            "transitions[0].kind",
        ),
    ],
)
def test_config_errors_name_the_field(data, field):
    from replica.config import validate
    from replica.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        validate({"model": "deep_network", **data})
    assert exc.value.field == field, str(exc.value)


# --- teacher-student ---------------------------------------------------------------------------------


def teacher_network(L: int):
    return compile_free_energy(deep_network({"ansatz": "rs", "scenario": "teacher_student"}, {"L": L}))


def test_teacher_student_one_layer_is_the_perceptron_teacher_student():
    """L = 1, kappa = 0: the spherical perceptron learning a spherical teacher (Gibbs = Bayes), same numbers."""
    from replica.models import teacher_student

    deep = solve(teacher_network(1), 1.0, 1)
    options = {"teacher": "spherical", "student": "spherical", "learning": "gibbs", "channel": "sign"}
    ref = solve_point(compile_free_energy(teacher_student(options)), {"alpha": 1.0, "kappa": 0.0}, OPTS)
    assert ref.converged, ref.status
    assert deep.order_parameters["R_1"] == pytest.approx(ref.order_parameters["R"], abs=1e-8)
    assert deep.order_parameters["Q_1"] == pytest.approx(ref.order_parameters["q"], abs=1e-8)
    assert deep.observables["free_entropy"] == pytest.approx(ref.observables["free_entropy"], abs=1e-8)
    assert deep.observables["generalization_error"] == pytest.approx(ref.observables["generalization_error"], abs=1e-8)


def test_teacher_student_bayes_on_the_nishimori_line():
    """kappa = 0: the teacher is a sample of the students' measure, so r(l) = q(l), R(l) = Q(l) (not imposed)."""
    L = 4
    problem = teacher_network(L)
    sol = solve(problem, 6.0, L)
    obs = sol.observables
    for l in range(1, L):
        assert obs[f"r_{l}"] == pytest.approx(obs[f"q_{l}"], abs=1e-8)
        assert obs[f"r_{l}"] == pytest.approx(obs[f"r_{L - l}"], abs=1e-8)
    for l in range(1, L + 1):
        assert obs[f"R_{l}"] == pytest.approx(obs[f"Q_{l}"], abs=1e-8)
    assert obs["r_1"] > 0 and obs["r_2"] == 0 and obs["glass_2"] < 0  # the centre is liquid at this load
    # the weights into and out of the liquid layer do not align with the teacher's (R = 0): a fresh input's
    # signal does not cross it, and the network guesses
    assert obs["R_2"] == obs["R_3"] == 0 and obs["generalization_error"] == pytest.approx(0.5, abs=1e-15)
    # the first (crystalline) transition is the random scenario's: alpha_g(1) = 1/R(kappa)^4
    assert glass(problem, L, 1, (2.0, 3.0)) == pytest.approx(math.pi**2 / 4, abs=1e-8)


def test_teacher_student_generalizes_when_every_layer_is_ordered():
    """L = 3, alpha = 6: both hidden layers aligned with the teacher; eps_g from r_t(l) = (2/pi) asin(R_l r_t(l-1))."""
    sol = solve(teacher_network(3), 6.0, 3)
    obs = sol.observables
    r_t = 1.0
    for l in (1, 2, 3):
        r_t = 2 / math.pi * math.asin(obs[f"R_{l}"] * r_t)
    assert obs["generalization_error"] == pytest.approx((1 - r_t) / 2, abs=1e-14)
    assert 0 < obs["generalization_error"] < 0.5
    assert obs["r_1"] == pytest.approx(obs["q_1"], abs=1e-8) and obs["r_1"] > 0.3
