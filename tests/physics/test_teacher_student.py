"""Teacher-student learning (model teacher_student): reference values and identities.

Reference values: the project's teacher-student specification (computed with an
independent Gauss-Hermite solver) and the papers (Gyorgyi 1990, PRA 41, 7097: the binary
first-order transition at 1.245; Barbier et al., PNAS 116, 5451 (2019)). The binary
transition points are also checked against a 25-digit mpmath evaluation of the Nishimori
free entropy f_RS(q) = psi(r) - r q/2 + alpha Psi(q) (adaptive quadrature, written for
this test suite; values below): alpha_IT = 1.24468398985069, alpha_alg = 1.49263181823035.

Identities: the Bayes-optimal saddle point lies on the Nishimori line (q = R, q_hat =
R_hat) without it being imposed; the Gaussian channel with a Gaussian prior has a closed
form; the envelope theorem d phi/d alpha = partial along a sweep; the perfect branch.
"""

import math

import numpy as np
import pytest

from replica.compile import compile_free_energy
from replica.models import teacher_student
from replica.solve import SolverOptions, TransitionRequest, locate, solve_chain, solve_point

OPTS = SolverOptions(tol=1e-12, quad_tol=1e-10)
# beyond the spinodal a point of the interior branch fails: a few hundred iterations say so as well as 2000
SCAN = SolverOptions(tol=1e-12, quad_tol=1e-10, max_iter=200)
ALPHA_IT_MPMATH = 1.24468398985069
ALPHA_ALG_MPMATH = 1.49263181823035


@pytest.fixture(scope="module")
def binary_bayes():
    return compile_free_energy(teacher_student({"teacher": "binary", "learning": "bayes", "channel": "sign"}))


@pytest.fixture(scope="module")
def spherical_gibbs():
    options = {"teacher": "spherical", "student": "spherical", "learning": "gibbs", "channel": "sign"}
    return compile_free_energy(teacher_student(options))


def solve(problem, params, opts=OPTS, **kw):
    sol = solve_point(problem, params, opts, **kw)
    assert sol.converged, sol.status
    return sol


@pytest.mark.parametrize(
    "alpha, q, f",
    [(0.5, 0.29308903, -0.32101440), (1.0, 0.56071474, -0.58703891), (1.3, 0.72587069, -0.71438987)],
)
def test_binary_poor_branch(binary_bayes, alpha, q, f):
    sol = solve(binary_bayes, {"alpha": alpha})
    op = sol.order_parameters
    assert op["q"] == pytest.approx(q, abs=1e-8)
    assert sol.observables["free_entropy"] == pytest.approx(f, abs=1e-8)
    # the Nishimori line is a property of the solution, not imposed
    assert op["R"] == pytest.approx(op["q"], abs=1e-10)
    assert op["R_hat"] == pytest.approx(op["q_hat"], abs=1e-9)
    assert sol.observables["mmse"] == pytest.approx(1 - q, abs=1e-8)
    assert sol.observables["generalization_error"] == pytest.approx(math.acos(math.sqrt(q)) / math.pi, abs=1e-8)
    assert sol.observables["mutual_information"] == pytest.approx(-f, abs=1e-8)  # the sign channel is noiseless


def test_binary_unstable_middle_root(binary_bayes):
    # Newton alone (no fixed-point iteration, which flows to the stable poor root) from near it;
    # its residual stalls near 1e-10 and the quadrature check settles near 1e-7 (the root is unstable)
    sol = solve(
        binary_bayes,
        {"alpha": 1.3},
        SolverOptions(method="newton", tol=1e-9, quad_tol=1e-6),
        theta0=np.array([0.97, 0.97, 5.0, 5.0]),
    )
    assert sol.order_parameters["q"] == pytest.approx(0.97134565, abs=1e-8)
    assert sol.order_parameters["R"] == pytest.approx(sol.order_parameters["q"], abs=1e-9)


def test_perfect_branch_is_analytic(binary_bayes):
    fe = binary_bayes.free_energy.backward_branch
    assert fe is not None and not fe.order_parameters
    sol = solve(compile_free_energy(fe), {"alpha": 2.0})
    assert sol.phi == pytest.approx(-math.log(2), abs=1e-15)
    assert sol.observables["mutual_information"] == pytest.approx(math.log(2), abs=1e-15)
    assert sol.observables["generalization_error"] == 0 and sol.observables["q"] == 1


def test_first_order_transition(binary_bayes):
    t = locate(binary_bayes, TransitionRequest("first_order", "alpha", (1.0, 1.6), tol=1e-11, scan=13), {}, SCAN)
    assert t.found, t.message
    assert t.value == pytest.approx(1.244684, abs=1e-6)  # the spec's computed value
    assert t.value == pytest.approx(ALPHA_IT_MPMATH, abs=1e-9)  # 25-digit mpmath
    assert t.value == pytest.approx(1.245, abs=5e-4)  # Gyorgyi 1990, to its three decimals
    assert abs(t.value - 1.249) > 4e-3  # the 1.249 quoted for Barbier et al. is not the RS crossing


def test_spinodal(binary_bayes):
    t = locate(binary_bayes, TransitionRequest("spinodal", "alpha", (1.0, 1.6), tol=1e-10, scan=13), {}, SCAN)
    assert t.found, t.message
    assert t.branch == "forward"
    assert t.value == pytest.approx(1.492632, abs=1e-6)
    assert t.value == pytest.approx(ALPHA_ALG_MPMATH, abs=1e-9)
    assert t.value == pytest.approx(1.493, abs=5e-4)  # Barbier et al. 2019


def test_spinodal_of_an_analytic_branch_is_not_found(binary_bayes):
    t = locate(binary_bayes, TransitionRequest("spinodal", "alpha", (1.0, 1.6), scan=5, branch="backward"), {}, OPTS)
    assert not t.found and "analytic" in t.message


@pytest.mark.parametrize(
    "alpha, r, eps",
    [(1.0, 0.4862636370, 0.3383594684), (5.0, 0.9320642457, 0.1180060333)],
)
def test_spherical_gibbs_learning_curve(spherical_gibbs, alpha, r, eps):
    start = np.array([0.93, 0.93]) if alpha > 2 else None
    sol = solve(spherical_gibbs, {"alpha": alpha, "kappa": 0.0}, theta0=start)
    assert sol.order_parameters["R"] == pytest.approx(r, abs=1e-9)
    assert sol.observables["generalization_error"] == pytest.approx(eps, abs=1e-9)
    assert sol.order_parameters["q"] == pytest.approx(sol.order_parameters["R"], abs=1e-10)  # Nishimori


def test_spherical_gibbs_large_alpha(spherical_gibbs):
    """A continuation in log alpha up to 1000: eps_g(100) and alpha eps_g -> 0.6247 (Gyorgyi & Tishby)."""

    def chain(alphas, opts, start):
        out = {p["alpha"]: s for p, s, _ in solve_chain(spherical_gibbs, {"kappa": 0.0}, "alpha", alphas, opts, start)}
        assert all(s.converged for s in out.values()), [s.status for s in out.values() if not s.converged]
        return out

    # eps_g = arccos(R)/pi moves 16 times faster than R at alpha = 100: R to 1e-11 for eps_g to 1e-10
    tight = SolverOptions(tol=1e-12, quad_tol=1e-11, quad_order=256)
    to_100 = chain(np.geomspace(5.0, 100.0, 14), tight, np.array([0.93, 0.93]))
    assert to_100[100.0].observables["generalization_error"] == pytest.approx(0.0062456130, abs=1e-10)
    # beyond, 1 - q ~ 2e-6 at alpha = 1000: the quadrature check bounds R to ~1e-10 (it does not pass
    # at 1e-11 there), and alpha eps_g = alpha arccos(R)/pi moves by 1.6e5 times that: 2e-5
    loose = SolverOptions(tol=1e-11, quad_tol=1e-10, quad_order=256)
    to_1000 = chain(np.geomspace(100.0, 1000.0, 12), loose, to_100[100.0].theta)
    eps = to_1000[1000.0].observables["generalization_error"]
    assert 1000 * eps == pytest.approx(0.624657, abs=2e-5)
    assert 1000 * eps == pytest.approx(0.625, abs=1e-3)  # published: 0.625/alpha


@pytest.mark.parametrize("alpha, delta", [(1.0, 0.5), (2.0, 0.1), (0.7, 1.3)])
def test_gaussian_channel_gaussian_prior_closed_form(alpha, delta):
    """q = r/(1+r), r = alpha/(Delta + 1 - q): q^2 - (1 + Delta + alpha) q + alpha = 0."""
    problem = compile_free_energy(teacher_student({"teacher": "spherical", "learning": "bayes", "channel": "gaussian"}))
    sol = solve(problem, {"alpha": alpha, "noise": delta})
    b = 1 + delta + alpha
    q = (b - math.sqrt(b * b - 4 * alpha)) / 2
    if (alpha, delta) == (1.0, 0.5):
        assert q == 0.5
    if (alpha, delta) == (2.0, 0.1):
        assert q == pytest.approx(0.9155711230, abs=1e-10)
    assert sol.order_parameters["q"] == pytest.approx(q, abs=1e-10)
    assert sol.order_parameters["R"] == pytest.approx(q, abs=1e-10)
    assert sol.observables["mmse"] == pytest.approx(1 - q, abs=1e-10)
    # f = q/2 + ln(1 - q)/2 - (alpha/2) ln(2 pi e (Delta + 1 - q)); I = -f - (alpha/2) ln(2 pi e Delta)
    f = q / 2 + math.log(1 - q) / 2 - alpha / 2 * math.log(2 * math.pi * math.e * (delta + 1 - q))
    assert sol.observables["free_entropy"] == pytest.approx(f, abs=1e-10)
    mi = -q / 2 - math.log(1 - q) / 2 + alpha / 2 * math.log((delta + 1 - q) / delta)
    assert sol.observables["mutual_information"] == pytest.approx(mi, abs=1e-10)


def test_gibbs_off_the_nishimori_line():
    """Noisy labels learned at zero training error: the version-space student is not the posterior, R != q."""
    options = {"teacher": "spherical", "student": "spherical", "learning": "gibbs", "channel": "noisy_sign"}
    sol = solve(compile_free_energy(teacher_student(options)), {"alpha": 1.0, "kappa": 0.0, "noise": 0.1})
    assert sol.order_parameters["q"] - sol.order_parameters["R"] > 0.05
    bayes = teacher_student({"teacher": "spherical", "learning": "bayes", "channel": "noisy_sign"})
    sol = solve(compile_free_energy(bayes), {"alpha": 1.0, "noise": 0.1})
    assert sol.order_parameters["q"] == pytest.approx(sol.order_parameters["R"], abs=1e-10)
    h2 = -0.1 * math.log(0.1) - 0.9 * math.log(0.9)
    assert sol.observables["mutual_information"] == pytest.approx(-sol.observables["free_entropy"] - h2, abs=1e-12)


def test_envelope_theorem_along_alpha(binary_bayes):
    """d phi/d alpha along the solution (central differences) = the partial at fixed order parameters."""
    h = 1e-4
    sols = [solve(binary_bayes, {"alpha": a}) for a in (0.8 - h, 0.8, 0.8 + h)]
    total = (sols[2].phi - sols[0].phi) / (2 * h)
    assert total == pytest.approx(sols[1].observables["dphi_dalpha"], abs=1e-7)


def test_small_alpha_mutual_information(binary_bayes):
    """Each label carries one bit at first: I = alpha ln 2 + O(alpha^2)."""
    sol = solve(binary_bayes, {"alpha": 1e-3})
    assert sol.observables["mutual_information"] == pytest.approx(1e-3 * math.log(2), rel=2e-3)
