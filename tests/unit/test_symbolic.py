"""Unit tests of the symbolic layer: special functions, Gaussian averages,
derivations (Stein, fixed-point forms, bound limits) and the safe parser."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import quad

from replica.errors import ExpressionError
from replica.symbolic import (
    ControlParameter,
    FreeEnergy,
    GaussAvg,
    H,
    Mills,
    OrderParameter,
    derivative,
    log2cosh,
    logH,
    parse_expression,
    simplify_averages,
)
from replica.symbolic.gauss import gaussian_closed_form
from replica.symbolic.limits import bound_coefficient

x, q, q_hat, alpha, kappa = sp.symbols("x q q_hat alpha kappa", real=True)
z, z0, z1 = sp.symbols("z z0 z1", real=True)


# --- special functions --------------------------------------------------------------


def test_derivatives_close_under_differentiation():
    assert sp.diff(logH(x), x) == -Mills(x)
    assert sp.simplify(sp.diff(Mills(x), x) - Mills(x) * (Mills(x) - x)) == 0
    assert sp.simplify(sp.diff(H(x), x) + sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)) == 0
    assert sp.diff(log2cosh(x), x) == sp.tanh(x)


@pytest.mark.parametrize("value", [-3.0, -0.4, 0.0, 0.7, 4.0])
def test_special_functions_evalf_match_mpmath(value):
    h = mpmath.erfc(value / mpmath.sqrt(2)) / 2
    assert float(H(value).evalf(30)) == pytest.approx(float(h), rel=1e-14)
    assert float(logH(value).evalf(30)) == pytest.approx(float(mpmath.log(h)), rel=1e-14, abs=1e-300)
    assert float(Mills(value).evalf(30)) == pytest.approx(float(mpmath.npdf(value) / h), rel=1e-14)
    assert float(log2cosh(value).evalf(30)) == pytest.approx(float(mpmath.log(2 * mpmath.cosh(value))), rel=1e-14)


def test_mills_derivative_numerically():
    # R'(x) = R (R - x), checked by a central difference in mpmath
    f = lambda t: mpmath.npdf(t) / (mpmath.erfc(t / mpmath.sqrt(2)) / 2)  # noqa: E731
    for t in (-2.0, 0.3, 3.0):
        with mpmath.workdps(40):
            fd = mpmath.diff(f, t)
        r = float(f(t))
        assert float(fd) == pytest.approx(r * (r - t), rel=1e-12)


def test_exact_values_and_symmetry():
    assert H(0) == sp.Rational(1, 2)
    assert logH(0) == -sp.log(2)
    assert Mills(0) == sp.sqrt(2 / sp.pi)
    assert log2cosh(-x) == log2cosh(x)


# --- Gaussian averages ------------------------------------------------------------------


def test_average_binds_its_variable():
    avg = GaussAvg(sp.tanh(sp.sqrt(q_hat) * z) ** 2, z)
    assert avg.free_symbols == {q_hat}
    assert avg.subs(z, 5) == avg
    assert "E_z[" in str(avg)
    assert r"\int \mathcal{D}z" in sp.latex(avg)
    assert "E_z" in sp.pretty(avg)


def test_derivative_passes_under_the_integral():
    avg = GaussAvg(sp.exp(alpha * z), z)
    assert sp.diff(avg, alpha) == GaussAvg(z * sp.exp(alpha * z), z)


def test_stein_lemma_and_linearity():
    # E[z f(z)] -> E[f'(z)]; constants out
    expr = simplify_averages(GaussAvg(3 * alpha * z * sp.tanh(q * z), z))
    assert sp.simplify(expr - 3 * alpha * q * (1 - GaussAvg(sp.tanh(q * z) ** 2, z))) == 0
    # E[z^2] = 1 by two applications is not attempted; one application of the lemma gives E[1] = 1
    assert simplify_averages(GaussAvg(z * z, z)) == 1


def test_derivatives_reach_the_textbook_forms():
    u = (kappa - sp.sqrt(q) * z) / sp.sqrt(1 - q)
    energetic = GaussAvg(logH(u), z)
    entropic = GaussAvg(log2cosh(sp.sqrt(q_hat) * z), z)
    # d/dq E[ln H(u)] = -E[R(u)^2] / (2(1 - q))
    d_q = derivative(energetic, q)
    assert sp.simplify(d_q + GaussAvg(Mills(u) ** 2, z) / (2 * (1 - q))) == 0
    # d/dq_hat E[ln 2cosh(sqrt(q_hat) z)] = (1 - E[tanh^2]) / 2
    d_qh = derivative(entropic, q_hat)
    assert sp.simplify(d_qh - (1 - GaussAvg(sp.tanh(sp.sqrt(q_hat) * z) ** 2, z)) / 2) == 0


def _gauss_numeric(expr, subs):
    """Evaluate an expression with (possibly nested) averages by adaptive quadrature."""

    def ev(e):
        if isinstance(e, GaussAvg):
            var = e.variable
            f = e.integrand

            def integrand(t):
                return float(ev(f.xreplace({var: t}))) * math.exp(-t * t / 2) / math.sqrt(2 * math.pi)

            return quad(integrand, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)[0]
        if not e.has(GaussAvg):
            return float(e.xreplace(subs).evalf(20))
        return float(e.func(*[sp.Float(ev(a)) if a.has(GaussAvg) else a for a in e.args]).xreplace(subs).evalf(20))

    return ev(expr.xreplace(subs))


def test_simplified_derivative_equals_raw_derivative_numerically():
    u = (kappa - sp.sqrt(q) * z) / sp.sqrt(1 - q)
    phi = -q_hat * (1 - q) / 2 + GaussAvg(log2cosh(sp.sqrt(q_hat) * z), z) + alpha * GaussAvg(logH(u), z)
    subs = {q: sp.Float(0.37), q_hat: sp.Float(0.81), alpha: sp.Float(0.6), kappa: sp.Float(0.2)}
    for var in (q, q_hat):
        raw = sp.diff(phi, var)
        simple = derivative(phi, var)
        assert _gauss_numeric(simple, subs) == pytest.approx(_gauss_numeric(raw, subs), rel=1e-9, abs=1e-11)
    raw2 = sp.diff(phi, q, q)
    simple2 = derivative(derivative(phi, q), q)
    assert _gauss_numeric(simple2, subs) == pytest.approx(_gauss_numeric(raw2, subs), rel=1e-8)


def test_closed_form_of_polynomial_averages():
    assert gaussian_closed_form(GaussAvg(z**4, z)) == 3
    k = 0.37
    closed = gaussian_closed_form(GaussAvg((kappa - z) ** 2 * sp.Heaviside(kappa - z), z))
    numeric = quad(lambda t: (k - t) ** 2 * math.exp(-t * t / 2) / math.sqrt(2 * math.pi), -np.inf, k)[0]
    assert float(closed.subs(kappa, k)) == pytest.approx(numeric, rel=1e-12)
    with pytest.raises(ValueError):
        gaussian_closed_form(GaussAvg(sp.tanh(z), z))


# --- FreeEnergy derivations -------------------------------------------------------------


def _binary_rs():
    u = (kappa - sp.sqrt(q) * z) / sp.sqrt(1 - q)
    phi = -q_hat * (1 - q) / 2 + GaussAvg(log2cosh(sp.sqrt(q_hat) * z), z) + alpha * GaussAvg(logH(u), z)
    return FreeEnergy(
        "binary",
        phi,
        [OrderParameter("q", 0.1, 0, 1, True), OrderParameter("q_hat", 0.1, 0, math.inf, True)],
        [ControlParameter("alpha", 0.5, 0), ControlParameter("kappa", 0.0)],
    )


def test_fixed_point_forms_pair_conjugates():
    fe = _binary_rs()
    fp = fe.fixed_point
    u = (kappa - sp.sqrt(q) * z) / sp.sqrt(1 - q)
    assert sp.simplify(fp["q"] - GaussAvg(sp.tanh(sp.sqrt(q_hat) * z) ** 2, z)) == 0
    assert sp.simplify(fp["q_hat"] - alpha * GaussAvg(Mills(u) ** 2, z) / (1 - q)) == 0
    assert fe.equations_kind == "fixed_point"
    # the Jacobian of theta - F(theta) has a unit diagonal here (q_hat does not enter F_q_hat explicitly)
    assert fe.jacobian[0][0] == 1 and fe.jacobian[1][1] == 1


def test_spherical_fixed_point_solves_for_q():
    u = (kappa - sp.sqrt(q) * z) / sp.sqrt(1 - q)
    phi = sp.log(1 - q) / 2 + q / (2 * (1 - q)) + alpha * GaussAvg(logH(u), z)
    fe = FreeEnergy(
        "s", phi, [OrderParameter("q", 0.3, 0, 1, True)], [ControlParameter("alpha"), ControlParameter("kappa")]
    )
    i = GaussAvg(Mills(u) ** 2, z)
    assert sp.simplify(fe.fixed_point["q"] - alpha * i / (1 + alpha * i)) == 0


def test_no_fixed_point_form_falls_back_to_gradient():
    fe = FreeEnergy("toy", q**4 / 4 - alpha * q, [OrderParameter("q", 1.0, 0, math.inf)], [ControlParameter("alpha")])
    assert fe.fixed_point is None
    assert fe.equations_kind == "gradient"
    assert sp.simplify(fe.equations[0] - (q**3 - alpha)) == 0
    assert sp.simplify(fe.jacobian[0][0] - 3 * q**2) == 0


def test_control_partials_are_the_envelope_terms():
    fe = _binary_rs()
    u = (kappa - sp.sqrt(q) * z) / sp.sqrt(1 - q)
    assert sp.simplify(fe.control_partials["alpha"] - GaussAvg(logH(u), z)) == 0


@pytest.mark.parametrize("k", [-1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
def test_capacity_coefficient_gives_gardner(k):
    u = (kappa - sp.sqrt(q) * z) / sp.sqrt(1 - q)
    phi = sp.log(1 - q) / 2 + q / (2 * (1 - q)) + alpha * GaussAvg(logH(u), z)
    c = bound_coefficient(phi, q, 1)
    moment = quad(lambda t: (t + k) ** 2 * math.exp(-t * t / 2) / math.sqrt(2 * math.pi), -k, np.inf)[0]
    alpha_c = 1.0 / moment  # Gardner 1988
    assert float(c.subs({alpha: alpha_c, kappa: k})) == pytest.approx(0.0, abs=1e-12)
    assert float(c.subs({alpha: 0.5 * alpha_c, kappa: k})) > 0


# --- parser -------------------------------------------------------------------------------


SYMS = {"q": q, "q_hat": q_hat, "alpha": alpha, "kappa": kappa}


def test_parser_builds_the_expected_expression():
    e = parse_expression(
        "-q_hat*(1-q)/2 + E(z, log2cosh(sqrt(q_hat)*z)) + alpha*E(z, logH((kappa-sqrt(q)*z)/sqrt(1-q)))", SYMS, "f"
    )
    u = (kappa - sp.sqrt(q) * z) / sp.sqrt(1 - q)
    expected = -q_hat * (1 - q) / 2 + GaussAvg(log2cosh(sp.sqrt(q_hat) * z), z) + alpha * GaussAvg(logH(u), z)
    assert sp.simplify(e - expected) == 0


def test_parser_nests_averages():
    e = parse_expression("E(z0, log(E(z1, exp(q*z0 + alpha*z1))))", SYMS, "f")
    assert isinstance(e, GaussAvg) and e.variable == z0
    inner = [a for a in sp.preorder_traversal(e.integrand) if isinstance(a, GaussAvg)]
    assert inner and inner[0].variable == z1


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("q +* 2", "malformed"),
        ("__import__('os').system('true')", "only plain function names"),
        ("__import__('os')", "unknown function '__import__'"),
        ("q.real", "Attribute"),
        ("(lambda t: t)(q)", "only plain function names"),
        ("lambda t: t", "Lambda"),
        ("[q][0]", "syntax not allowed"),
        ("open('x')", "unknown function"),
        ("eval('1')", "unknown function"),
        ("q ^ 2", "use **"),
        ("log(q, base=2)", "keyword"),
        ("'abc'", "only numbers"),
        ("qq + 1", "unknown name 'qq'"),
        ("2**10**10", "out of range"),
        ("E(q, q)", "cannot be an integration variable"),
        ("E(z, E(z, z))", "cannot be an integration variable"),
        ("E(z)", "E takes"),
        ("log", "must be called"),
        ("[x for x in (1, 2)]", "syntax not allowed"),
        ("q if alpha else kappa", "syntax not allowed"),
        ("q < 1", "syntax not allowed"),
        ("q * 1e400", "overflows to inf"),
        ("(q\n + q\n + q.imag)", "line 3"),
        ("q +\n* 2", "malformed"),
    ],
)
def test_parser_refuses(text, fragment):
    with pytest.raises(ExpressionError) as err:
        parse_expression(text, SYMS, "options.free_entropy")
    assert err.value.field == "options.free_entropy"
    assert fragment in err.value.reason


def test_parser_limits_size_and_depth():
    with pytest.raises(ExpressionError, match="longer than"):
        parse_expression("q+" * 20000 + "q", SYMS, "f")
    with pytest.raises(ExpressionError, match="nested"):
        parse_expression("(" * 5000 + "q" + ")" * 5000, SYMS, "f")


def test_parser_refuses_reserved_parameter_names():
    with pytest.raises(ExpressionError, match="reserved"):
        parse_expression("H", {"H": sp.Symbol("H")}, "f")
