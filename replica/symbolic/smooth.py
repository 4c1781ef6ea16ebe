"""Gaussian smoothing with an explicit mean and variance: the heat kernel as a node.

``GaussSmooth(f, h, m, v)`` is  E_y f(m + sqrt(v) y)  for y ~ N(0, 1): the function f
of h smoothed by a Gaussian of variance v around m. Written with the variance itself,
its derivatives never meet sqrt(v) (the heat equation d/dv = (1/2) d^2/dh^2):

    d/ds GaussSmooth(f, h, m, v) = GaussSmooth(df/ds, h, m, v)
                                   + (dm/ds) GaussSmooth(f', h, m, v)
                                   + (dv/ds)/2 GaussSmooth(f'', h, m, v),

finite at v = 0 (where it is f(m) itself), compact (no chain-rule factors of y to
integrate by parts) and exact. A variance that is an order parameter and vanishes at
a solution (the constrained replicas of a Franz-Parisi potential at the typical overlap)
is written with this node. It is lowered as the Gauss-Hermite average over h of
f(m + sqrt(v) h) (compile/lower.py).
"""

from __future__ import annotations

import sympy as sp

from .binding import BoundVariable


class GaussSmooth(BoundVariable):
    """E_y f(mean + sqrt(var) y): args (body in the variable h, h, mean, var)."""

    def __new__(cls, body, variable, mean, var):
        if not isinstance(variable, sp.Symbol):
            raise TypeError("the variable of a Gaussian smoothing must be a Symbol")
        body = sp.sympify(body)
        if not body.has(variable):  # a constant in h (e.g. a derivative that vanished): no average
            return body
        return sp.Expr.__new__(cls, body, variable, sp.sympify(mean), sp.sympify(var))

    @property
    def integrand(self) -> sp.Expr:
        return self.args[0]

    @property
    def mean(self) -> sp.Expr:
        return self.args[2]

    @property
    def var(self) -> sp.Expr:
        return self.args[3]

    def _eval_derivative(self, s):
        f, h, m, v = self.args
        out = GaussSmooth(sp.diff(f, s), h, m, v)
        dm, dv = sp.diff(m, s), sp.diff(v, s)
        if dm != 0:
            out += dm * GaussSmooth(sp.diff(f, h), h, m, v)
        if dv != 0:
            out += dv / 2 * GaussSmooth(sp.diff(f, h, 2), h, m, v)
        return out

    def as_average(self):
        """The Gauss-Hermite form E_h f(m + sqrt(v) h) (h reused as the standard normal variable)."""
        from .gauss import GaussAvg

        f, h, m, v = self.args
        return GaussAvg(f.xreplace({h: m + sp.sqrt(v) * h}), h)

    def _sympystr(self, printer):
        f, h, m, v = (printer._print(a) for a in self.args)
        return f"S_{h}[{f}; {m}, {v}]"

    def _latex(self, printer, exp=None):
        f, h, m, v = (printer._print(a) for a in self.args)
        s = rf"\left\langle {f} \right\rangle_{{{h} \sim \mathcal{{N}}({m},\, {v})}}"
        return s if exp is None else rf"\left({s}\right)^{{{exp}}}"
