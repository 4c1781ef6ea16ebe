"""The Gaussian average node and the algebra of Gaussian integrals.

``GaussAvg(f, z)`` is the unevaluated integral  int Dz f(z),  with
Dz = exp(-z^2/2) dz / sqrt(2 pi). It differentiates under the integral sign,
nests (``GaussAvg(log(GaussAvg(..., z1)), z0)`` for one step of RSB) and
prints as E_z[...] (text) or an integral (LaTeX).

Two identities make derived equations short and well conditioned:

- Gaussian integration by parts (Stein's lemma):  int Dz z f(z) = int Dz f'(z).
  Applied to the explicit factors z that the chain rule produces when a
  derivative hits sqrt(q) z, it turns  d/dq int Dz F(sqrt(q) z)  into the
  familiar  (1/2) int Dz F''(sqrt(q) z)  and removes the 1/sqrt(q) factors
  that are singular at q = 0.
- Linearity: constants come out, sums split, so each average holds one
  z-dependent product and the saddle-point equations read as in the papers;
  polynomial averages become Gaussian moments, E[z^n] = (n - 1)!!.

``LogAvgExp(X, z)`` is  ln int Dz exp(X(z)),  the step of a Parisi ladder
(1RSB: (1/m) ln E_z1 exp(m f)); its derivative is an ordinary average in the
tilted measure,  d/ds ln E e^X = E[X_s e^(X - ln E e^X)],  so that every
derived expression stays in the language and is lowered as a log-sum-exp
(no under- or overflow of e^X).

``gaussian_closed_form`` evaluates an average whose integrand is a polynomial
in z, possibly times a Heaviside step of a linear function of z, in terms of
erf and exp (used for the q -> 1 capacity limit, where quadrature of a kink
would be inaccurate).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.pretty.stringpict import prettyForm

from .binding import BoundVariable
from .maximum import AtMaximum
from .parisi import PARISI_NODES
from .smooth import GaussSmooth
from .truncated import TRUNCATED_NODES, TruncatedAvg


class _Average(BoundVariable):
    """A node that binds a standard normal variable: args (body, variable)."""

    def __new__(cls, body, variable):
        body = sp.sympify(body)
        if not isinstance(variable, sp.Symbol):
            raise TypeError("the variable of a Gaussian average must be a Symbol")
        return sp.Expr.__new__(cls, body, variable)


class GaussAvg(_Average):
    """int Dz integrand(z): an unevaluated average over a standard normal z."""

    @property
    def integrand(self) -> sp.Expr:
        return self.args[0]

    def _eval_derivative(self, s):
        # Leibniz: the measure does not depend on any parameter.
        return GaussAvg(sp.diff(self.integrand, s), self.variable)

    # printing ------------------------------------------------------------
    def _sympystr(self, printer):
        return f"E_{printer._print(self.variable)}[{printer._print(self.integrand)}]"

    def _latex(self, printer, exp=None):
        z = printer._print(self.variable)
        s = rf"\int \mathcal{{D}}{z}\, \left[{printer._print(self.integrand)}\right]"
        return s if exp is None else rf"\left({s}\right)^{{{exp}}}"

    def _pretty(self, printer):
        body = printer._print(self.integrand)
        body = prettyForm(*body.parens("[", "]"))
        return prettyForm(*body.left(f"E_{self.variable.name}"))


class LogAvgExp(_Average):
    """ln int Dz exp(exponent(z)): a log-mean-exp over a standard normal z."""

    @property
    def exponent(self) -> sp.Expr:
        return self.args[0]

    def tilt(self) -> sp.Expr:
        """exp(X - ln E e^X): the density of the tilted measure against Dz."""
        return sp.exp(self.exponent - self)

    def _eval_derivative(self, s):
        return GaussAvg(sp.diff(self.exponent, s) * self.tilt(), self.variable)

    def _sympystr(self, printer):
        return f"lnE_{printer._print(self.variable)}[exp({printer._print(self.exponent)})]"

    def _latex(self, printer, exp=None):
        z = printer._print(self.variable)
        s = rf"\ln \int \mathcal{{D}}{z}\, e^{{{printer._print(self.exponent)}}}"
        return s if exp is None else rf"\left({s}\right)^{{{exp}}}"

    def _pretty(self, printer):
        body = printer._print(sp.exp(self.exponent))
        body = prettyForm(*body.parens("[", "]"))
        return prettyForm(*body.left(f"lnE_{self.variable.name}"))


# the nodes that bind an integration variable (see _Average; the Parisi ladder binds its field;
# truncated.py: averages over a truncated normal and over the unit interval; smooth.py: the heat kernel)
AVERAGES = (GaussAvg, LogAvgExp, *PARISI_NODES, *TRUNCATED_NODES, GaussSmooth)
# nodes the algebra below treats as opaque factors: the averages and the maximisations (symbolic/maximum.py)
OPAQUE = (*AVERAGES, AtMaximum)


def average_variables(expr: sp.Expr) -> list[sp.Symbol]:
    """Integration variables of the averages in ``expr``, outermost first."""
    seen: list[sp.Symbol] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, AVERAGES) and node.variable not in seen:
            seen.append(node.variable)
    return seen


def _argument_sums(expr: sp.Expr) -> set[sp.Expr]:
    """Sums that occur inside the arguments of functions in ``expr``."""
    sums: set[sp.Expr] = set()
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Function, *OPAQUE)):
            for arg in node.args:
                sums.update(n for n in sp.preorder_traversal(arg) if isinstance(n, sp.Add))
    return sums


def _expand_products(expr: sp.Expr, keep: set[sp.Expr] = frozenset()) -> sp.Expr:
    """Distribute products over sums without entering function arguments.

    Function applications, averages and the sums in ``keep`` are atoms.
    """
    atoms = {}
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Function, *OPAQUE)) or node in keep:
            atoms.setdefault(node, sp.Dummy())
    masked = expr.xreplace(atoms)
    expanded = sp.expand_mul(masked)
    return expanded.xreplace({d: node for node, d in atoms.items()})


def _linear_split(integrand: sp.Expr, z: sp.Symbol, node: sp.Expr | None = None) -> sp.Expr:
    """Split int Dz sum_i c_i f_i(z) into sum_i c_i int Dz f_i(z).

    ``node``: a TruncatedAvg or GaussSmooth whose integrand this is: the same
    split into nodes of its kind, constants out (their average of 1 is 1), no
    Gaussian moments.
    """
    integrand = _expand_products(integrand)
    groups: dict[sp.Expr, list[sp.Expr]] = {}
    constant = []
    for term in sp.Add.make_args(integrand):
        c, f = term.as_independent(z, as_Add=False)
        if f == 1:
            constant.append(c)
        else:
            groups.setdefault(f, []).append(c)
    out = sp.Add(*constant)
    for f, cs in groups.items():
        if isinstance(node, TruncatedAvg):
            out += sp.Add(*cs) * TruncatedAvg(f, z, node.lower)
        elif isinstance(node, GaussSmooth):
            out += sp.Add(*cs) * GaussSmooth(f, z, node.mean, node.var)
        else:
            out += sp.Add(*cs) * (_moment(f, z) if f.is_polynomial(z) else GaussAvg(f, z))
    return out


def _moment(poly: sp.Expr, z: sp.Symbol) -> sp.Expr:
    """E_z[P(z)] for a polynomial P: E[z^n] = (n - 1)!! for even n, 0 for odd n."""
    p = sp.Poly(poly, z)
    return sp.Add(*(c * (sp.factorial2(n - 1) if n % 2 == 0 else 0) for (n,), c in p.terms()))


def _stein(integrand: sp.Expr, z: sp.Symbol) -> sp.Expr:
    """Replace every bare factor z in the integrand by d/dz of its cofactor.

    Linear forms that are arguments of functions, such as (kappa - sqrt(q) z),
    stay whole: only the factors of z produced by the chain rule are moved.
    """
    keep = {s for s in _argument_sums(integrand) if s.has(z)}
    expanded = _expand_products(integrand, keep)
    terms = []
    for term in sp.Add.make_args(expanded):
        if z in sp.Mul.make_args(term):
            terms.append(sp.diff(term / z, z))
        else:
            terms.append(term)
    return sp.Add(*terms)


def simplify_averages(expr: sp.Expr, stein: frozenset[str] | None = None) -> sp.Expr:
    """Canonical form of an expression with Gaussian averages.

    Innermost averages first: Stein's lemma on bare factors of z, then
    linearity (constants out, sums split). Averages over a truncated normal
    and Gaussian smoothings are split by linearity too (Stein's lemma, as it
    stands, holds for neither). ``stein``: the names of the variables Stein's lemma is applied to
    (default: all). The value is unchanged.
    """

    def rule(node: GaussAvg | TruncatedAvg | GaussSmooth) -> sp.Expr:
        z = node.variable
        inner = simplify_averages(node.integrand, stein)
        if isinstance(node, (TruncatedAvg, GaussSmooth)):
            return _linear_split(inner, z, node)
        if stein is not None and z.name not in stein:
            return _linear_split(inner, z)
        return _linear_split(_stein(inner, z), z)

    if not expr.has(*OPAQUE):
        return expr
    out = expr.replace(lambda e: isinstance(e, (GaussAvg, TruncatedAvg, GaussSmooth)), rule)
    return collect_averages(out)


def collect_averages(expr: sp.Expr) -> sp.Expr:
    """Group terms by their product of averages and simplify each coefficient.

    Equal averages written with different coefficients (e.g. E[R u] from two
    chain-rule terms) cancel here.
    """
    groups: dict[sp.Expr, list[sp.Expr]] = {}
    for term in sp.Add.make_args(_expand_products(expr)):
        avgs = [f for f in sp.Mul.make_args(term) if f.has(*OPAQUE)]
        key = sp.Mul(*avgs)
        groups.setdefault(key, []).append(term / key)
    out = sp.S.Zero
    for key, coeffs in groups.items():
        c = sp.factor(sp.cancel(sp.together(sp.Add(*coeffs))))
        out += c * key
    return out


def derivative(expr: sp.Expr, symbol: sp.Symbol, stein: frozenset[str] | None = None) -> sp.Expr:
    """d expr / d symbol, with averages put in canonical form (see simplify_averages)."""
    return simplify_averages(sp.diff(expr, symbol), stein)


# ---------------------------------------------------------------------------
# closed forms


def _normal_moment_integral(poly: sp.Poly, lower, upper) -> sp.Expr:
    """int_lower^upper Dz P(z) for a polynomial P, in erf/exp form."""
    z = poly.gen
    density = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    result = sp.integrate(poly.as_expr() * density, (z, lower, upper))
    if result.has(sp.Integral):
        raise ValueError(f"sympy could not integrate {poly.as_expr()}")
    return sp.simplify(result)


def gaussian_closed_form(avg: GaussAvg) -> sp.Expr:
    """Evaluate int Dz f(z) exactly when f = P(z) or P(z) Heaviside(a + b z).

    P is a polynomial in z whose coefficients may hold other symbols; b must
    be a number (its sign decides the half-line). Raises ValueError otherwise.
    """
    z = avg.variable
    f = sp.factor_terms(avg.integrand)
    steps = [a for a in sp.Mul.make_args(f) if isinstance(a, sp.Heaviside)]
    if len(steps) > 1:
        raise ValueError(f"more than one step function in {f}")
    lower, upper = -sp.oo, sp.oo
    if steps:
        step = steps[0]
        f = f / step
        arg = sp.expand(step.args[0])
        if not arg.is_polynomial(z) or sp.degree(arg, z) != 1:
            raise ValueError(f"step function of a non-linear argument: {step}")
        b = arg.coeff(z, 1)
        a = arg.coeff(z, 0)
        if not b.is_number or b == 0:
            raise ValueError(f"step function with a symbolic slope: {step}")
        root = -a / b
        if b > 0:
            lower = root
        else:
            upper = root
    if not f.is_polynomial(z):
        raise ValueError(f"integrand is not polynomial in {z}: {f}")
    return _normal_moment_integral(sp.Poly(sp.expand(f), z), lower, upper)


def closed_form_averages(expr: sp.Expr) -> sp.Expr:
    """Replace every average that has a closed form (see gaussian_closed_form)."""

    def rule(node: GaussAvg) -> sp.Expr:
        try:
            return gaussian_closed_form(node)
        except ValueError:
            return node

    return expr.replace(lambda e: isinstance(e, GaussAvg), rule)
