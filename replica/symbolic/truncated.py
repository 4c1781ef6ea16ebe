"""Averages over a truncated normal, and the unit-interval average they are computed with.

``TruncatedAvg(f, x, L)`` is the average of f over x ~ N(0, 1) conditioned on x >= L,

    <f>_{x >= L} = int_L^inf Dx f(x) / H(L),

(e.g. the stability of a reference solution, which is above the margin). The
lower limit may depend on parameters and on outer integration variables.
Differentiation is Leibniz's rule with the moving limit:

    d/ds <f>_{x >= L} = <df/ds>_{x >= L} + (dL/ds) Mills(L) (<f>_{x >= L} - f(L)),

so every derivative stays in the language.

Numerically the truncated average is an average over the unit interval: with
the quantile map x(w) = -Phi^{-1}(H(L)(1 - w)), w in (0, 1),

    <f>_{x >= L} = int_0^1 dw f(x(w)),

graded at w -> 1 (w = 1 - (1 - v)^4) and evaluated by Gauss-Legendre in v (fast
convergence, unlike Gauss-Hermite with a step function, which converges algebraically). ``UnitAvg`` (int_0^1 dw)
and ``TailQuantile`` (the map, in log space so that H(L) never underflows)
are the nodes the lowering rewrites it into (compile/lower.py); the same
unit-interval axis carries the sinh-mapped Gaussian averages of variables
with a declared resolution scale (``FreeEnergy.scales``).
"""

from __future__ import annotations

import sympy as sp

from .binding import BoundVariable
from .functions import Mills


class TruncatedAvg(BoundVariable):
    """<body>_{x >= lower}: the average over a standard normal x truncated below at ``lower``."""

    def __new__(cls, body, variable, lower):
        if not isinstance(variable, sp.Symbol):
            raise TypeError("the variable of a truncated average must be a Symbol")
        return sp.Expr.__new__(cls, sp.sympify(body), variable, sp.sympify(lower))

    @property
    def integrand(self) -> sp.Expr:
        return self.args[0]

    @property
    def lower(self) -> sp.Expr:
        return self.args[2]

    def _eval_derivative(self, s):
        body, x, low = self.args
        out = TruncatedAvg(sp.diff(body, s), x, low)
        dlow = sp.diff(low, s)
        if dlow != 0:
            out += dlow * Mills(low) * (self - body.xreplace({x: low}))
        return out

    def _sympystr(self, printer):
        x = printer._print(self.variable)
        return f"E_{x}>={printer._print(self.lower)}[{printer._print(self.integrand)}]"

    def _latex(self, printer, exp=None):
        x = printer._print(self.variable)
        s = (
            rf"\left\langle {printer._print(self.integrand)} \right\rangle_{{{x} \geq "
            rf"{printer._print(self.lower)}}}"
        )
        return s if exp is None else rf"\left({s}\right)^{{{exp}}}"


class UnitAvg(sp.Expr):
    """int_0^1 dw body(w): the lowering's form of truncated and scale-mapped averages."""

    is_commutative = True

    def __new__(cls, body, variable):
        if not isinstance(variable, sp.Symbol):
            raise TypeError("the variable of a unit-interval average must be a Symbol")
        return sp.Expr.__new__(cls, sp.sympify(body), variable)

    @property
    def integrand(self) -> sp.Expr:
        return self.args[0]

    @property
    def variable(self) -> sp.Symbol:
        return self.args[1]

    @property
    def free_symbols(self):
        return self.integrand.free_symbols - {self.variable}

    def _eval_subs(self, old, new):
        if old == self.variable:
            return self
        return None

    def _sympystr(self, printer):
        return f"U_{printer._print(self.variable)}[{printer._print(self.integrand)}]"


class TailQuantile(sp.Function):
    """x = -Phi^{-1}(H(lower) e^l), l = ln(1 - w): maps w in (0, 1) onto x >= lower, uniformly in probability.

    The second argument is l = ln(1 - w) itself, so that w -> 1 (the far tail) loses no digits.
    """

    nargs = 2


TRUNCATED_NODES = (TruncatedAvg, UnitAvg)

# a scale-mapped Gaussian average covers center +- (SCALE_REACH + |center|): beyond, Dz < 1e-42
SCALE_REACH = 14


# grading of the quantile map at w -> 1 (x -> inf): see unit_form_truncated
GRADING = 4


def unit_form_truncated(node: TruncatedAvg) -> UnitAvg:
    """<f>_{x >= L} as int_0^1 dv k (1 - v)^(k-1) f(x(1 - (1 - v)^k)) (the variable now runs over (0, 1)).

    The quantile map alone, x(w) ~ sqrt(-2 ln(1 - w)) as w -> 1, gives an integrand with a
    logarithmic singularity wherever f grows with x, on which Gauss-Legendre converges only
    algebraically; the graded substitution w = 1 - (1 - v)^k flattens it (k = GRADING).
    """
    v = node.variable
    log_tail = GRADING * sp.log(1 - v)  # ln(1 - w)
    jacobian = GRADING * (1 - v) ** (GRADING - 1)
    return UnitAvg(jacobian * node.integrand.xreplace({v: TailQuantile(node.lower, log_tail)}), v)


def unit_form_scaled(integrand: sp.Expr, z: sp.Symbol, center: sp.Expr, width: sp.Expr) -> UnitAvg:
    """int Dz f(z) with a feature of ``width`` at ``center``, on the sinh map of the unit interval.

    z = c + s sinh(L u), u = 2w - 1, L = asinh((SCALE_REACH + |c|)/s): the nodes crowd
    within s of c and still reach the Gaussian tails; the Jacobian 2 s L cosh(L u) and
    the density G(z) make it an integral over w in (0, 1).
    """
    u = 2 * z - 1
    reach = sp.asinh((SCALE_REACH + sp.Abs(center)) / width)
    mapped = center + width * sp.sinh(reach * u)
    jacobian = 2 * width * reach * sp.cosh(reach * u)
    density = sp.exp(-(mapped**2) / 2) / sp.sqrt(2 * sp.pi)
    return UnitAvg(jacobian * density * integrand.xreplace({z: mapped}), z)
