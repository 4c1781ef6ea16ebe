"""Leading behaviour of a free entropy as an order parameter reaches its bound.

At the spherical capacity (and at jamming) the overlap q -> 1 and every term
of phi diverges. With q = bound - eps, phi ~ C / eps, and the transition is
where the coefficient C crosses zero (Gardner 1988). ``bound_coefficient``
derives C symbolically:

- outside averages, C = lim eps * term, by sympy.limit;
- inside an average, the limit is taken under the integral sign, with the
  tail rule  eps * ln H(a / sqrt(eps)) -> -(a^2 / 2) Heaviside(a),
  (ln H(x) ~ -x^2/2 for x -> +inf, ln H(x) -> 0 for x -> -inf);
- averages of (polynomial x step) integrands are then done in closed form.
"""

from __future__ import annotations

import sympy as sp

from .functions import logH
from .gauss import GaussAvg, closed_form_averages

EPS = sp.Symbol("epsilon", positive=True)


def _leading(expr: sp.Expr) -> sp.Expr:
    """lim_{eps -> 0+} eps * expr, for expr built from averages and ln H."""
    if not expr.has(EPS):
        return sp.S.Zero
    if isinstance(expr, sp.Add):
        return sp.Add(*(_leading(t) for t in expr.args))
    if isinstance(expr, sp.Mul):
        dependent = [f for f in expr.args if f.has(EPS)]
        constant = sp.Mul(*(f for f in expr.args if not f.has(EPS)))
        if len(dependent) == 1:
            return constant * _leading(dependent[0])
    if isinstance(expr, GaussAvg):
        return GaussAvg(_leading(expr.integrand), expr.variable)
    if isinstance(expr, logH):
        a = sp.limit(sp.sqrt(EPS) * expr.args[0], EPS, 0, "+")
        if a.has(sp.oo, sp.zoo, sp.nan):
            raise ValueError(f"ln H argument does not scale as 1/sqrt(eps): {expr}")
        return -(a**2) / 2 * sp.Heaviside(a)
    if expr.has(GaussAvg, logH):
        raise ValueError(f"no rule for the limit of {expr}")
    value = sp.limit(EPS * expr, EPS, 0, "+")
    if value.has(sp.oo, sp.zoo, sp.nan):
        raise ValueError(f"{expr} diverges faster than 1/eps")
    return value


def bound_coefficient(phi: sp.Expr, symbol: sp.Symbol, bound) -> sp.Expr:
    """C in phi = C / eps + o(1/eps) for symbol = bound - eps, eps -> 0+."""
    shifted = phi.subs(symbol, sp.sympify(bound) - EPS)
    return sp.simplify(closed_form_averages(_leading(shifted)))
