"""Maximisation over a bound variable (the Laplace limit of an integral) as a node.

``Maximum(f, v, lower, upper)`` is  max_{lower <= v <= upper} f(v)  for a maximiser inside the
interval (a stationary point, f_v = 0): the saddle-point value of  (1/y) ln int dv e^{y f(v)}
as y -> infinity, the form local-entropy functionals take in their frozen limit, e.g.

    int Dz max_v [ ln H((kappa - sqrt(q0) z - v)/sqrt(1 - q0)) - v^2/(2 dq) ].

It is the special case g = f of ``AtMaximum(g, v, f, lower, upper)`` = g(v*), the value of g at
the global maximiser v* of f on [lower, upper]. Differentiation is the envelope theorem plus the
implicit function theorem for v*(s) (f_v(v*) = 0):

    d/ds AtMaximum(g, v, f) = AtMaximum(g_s + g_v dv*/ds, v, f),   dv*/ds = -f_vs / f_vv,

so d/ds max_v f = AtMaximum(f_s, v, f) (g_v = f_v = 0 at v*), and second derivatives stay in the
language. The bounds must enclose the maximiser; they do not enter the derivatives.

Numerically (compile/lower.py) v* is found for every point of the enclosing integration grids at
once: f on a uniform grid of candidates between the bounds picks the basin of the global maximum
(f may be multimodal), safeguarded Newton (bisection on the sign of f_v) refines it.
"""

from __future__ import annotations

import sympy as sp


class AtMaximum(sp.Expr):
    """g(v*) with v* = argmax_{lower <= v <= upper} f(v): args (g, v, f, lower, upper)."""

    is_commutative = True

    def __new__(cls, body, variable, objective, lower, upper):
        if not isinstance(variable, sp.Symbol):
            raise TypeError("the variable of a maximisation must be a Symbol")
        body = sp.sympify(body)
        if not body.has(variable):  # g does not depend on where the maximum is
            return body
        return sp.Expr.__new__(cls, body, variable, sp.sympify(objective), sp.sympify(lower), sp.sympify(upper))

    @property
    def body(self) -> sp.Expr:
        return self.args[0]

    @property
    def variable(self) -> sp.Symbol:
        return self.args[1]

    @property
    def objective(self) -> sp.Expr:
        return self.args[2]

    @property
    def bounds(self) -> tuple[sp.Expr, sp.Expr]:
        return self.args[3], self.args[4]

    @property
    def free_symbols(self):
        g, v, f, lo, hi = self.args
        return (g.free_symbols | f.free_symbols) - {v} | lo.free_symbols | hi.free_symbols

    def _eval_is_real(self):
        return self.body.is_real

    def _eval_subs(self, old, new):
        if old == self.variable:
            return self
        return None

    def _eval_derivative(self, s):
        g, v, f, lo, hi = self.args
        out = sp.diff(g, s)
        if g != f:  # g_v dv*/ds; for g = f, g_v = 0 at the maximiser
            f_v = sp.diff(f, v)
            out += sp.diff(g, v) * (-sp.diff(f_v, s) / sp.diff(f_v, v))
        return AtMaximum(out, v, f, lo, hi)

    def _sympystr(self, printer):
        g, v, f, lo, hi = (printer._print(a) for a in self.args)
        if self.body == self.objective:
            return f"max_{v}[{f}]"
        return f"({g})|_{v}=argmax[{f}]"

    def _latex(self, printer, exp=None):
        g, v, f, lo, hi = (printer._print(a) for a in self.args)
        if self.body == self.objective:
            s = rf"\max_{{{v}}} \left[{f}\right]"
        else:
            s = rf"\left.{g}\right|_{{{v} = \arg\max [{f}]}}"
        return s if exp is None else rf"\left({s}\right)^{{{exp}}}"


def Maximum(objective, variable, lower, upper) -> sp.Expr:  # noqa: N802 - a node constructor
    """max_{lower <= v <= upper} f(v), attained inside the interval (see the module docstring)."""
    return AtMaximum(objective, variable, objective, lower, upper)


class Argmax(sp.Expr):
    """v* = argmax_{lower <= v <= upper} f(v): args (f, v, lower, upper); the lowering's form of AtMaximum."""

    is_commutative = True

    def __new__(cls, objective, variable, lower, upper):
        return sp.Expr.__new__(cls, sp.sympify(objective), variable, sp.sympify(lower), sp.sympify(upper))

    @property
    def free_symbols(self):
        f, v, lo, hi = self.args
        return (f.free_symbols - {v}) | lo.free_symbols | hi.free_symbols

    def _eval_is_real(self):
        return True

    def _eval_subs(self, old, new):
        if old == self.args[1]:
            return self
        return None


def argmax_form(node: AtMaximum) -> sp.Expr:
    """g(v*) with v* an ``Argmax`` node (the form the lowering prints)."""
    g, v, f, lo, hi = node.args
    return g.xreplace({v: Argmax(f, v, lo, hi)})
