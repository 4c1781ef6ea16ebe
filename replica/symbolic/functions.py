"""Special functions of Gaussian integrals, as sympy Functions with derivatives.

    G(x)        = exp(-x^2/2) / sqrt(2 pi)            (plain sympy expression)
    H(x)        = int_x^inf Dz = erfc(x / sqrt 2) / 2
    logH(x)     = ln H(x)                             d/dx logH = -Mills(x)
    Mills(x)    = G(x) / H(x)  (inverse Mills ratio)  d/dx Mills = Mills (Mills - x)
    log2cosh(x) = ln 2 cosh x                         d/dx log2cosh = tanh x
    expit(x)    = 1 / (1 + e^-x)                      d/dx expit = expit (1 - expit)
    logaddexp(a, b) = ln(e^a + e^b)                   d/da = expit(a - b)
    held(x)     = x, held fixed under differentiation  d/dx held = 0

The set is closed under differentiation, so sympy can take any number of
derivatives of a free entropy built from them. The numeric lowering of each
function (stable in the tails) lives in ``replica.compile.lower``.
"""

from __future__ import annotations

import mpmath
import sympy as sp


def gaussian_density(x: sp.Expr) -> sp.Expr:
    """G(x) = exp(-x^2/2)/sqrt(2 pi), the standard normal density."""
    return sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)


class _Special(sp.Function):
    """Base for the one-argument special functions: numeric evalf through mpmath."""

    nargs = 1

    @classmethod
    def _mp(cls, x):  # pragma: no cover - overridden
        raise NotImplementedError

    def _eval_evalf(self, prec):
        x = self.args[0].evalf(prec)
        if not x.is_number or not x.is_real:
            return None
        with mpmath.workprec(prec):
            return sp.Float(self._mp(mpmath.mpf(x)), precision=prec)

    def _eval_is_real(self):
        return self.args[0].is_real


class H(_Special):
    """Gaussian tail H(x) = erfc(x/sqrt 2)/2; H'(x) = -G(x)."""

    def fdiff(self, argindex=1):
        return -gaussian_density(self.args[0])

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.S.Half
        if x is sp.S.Infinity:
            return sp.S.Zero
        if x is sp.S.NegativeInfinity:
            return sp.S.One
        return None

    @classmethod
    def _mp(cls, x):
        return mpmath.erfc(x / mpmath.sqrt(2)) / 2

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.erfc(x / sp.sqrt(2)) / 2


class Mills(_Special):
    """Inverse Mills ratio Mills(x) = G(x)/H(x); Mills' = Mills (Mills - x)."""

    def fdiff(self, argindex=1):
        x = self.args[0]
        return Mills(x) * (Mills(x) - x)

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.sqrt(2 / sp.pi)
        return None

    @classmethod
    def _mp(cls, x):
        return mpmath.npdf(x) / (mpmath.erfc(x / mpmath.sqrt(2)) / 2)

    def _latex(self, printer, exp=None):
        s = rf"\mathcal{{R}}\left({printer._print(self.args[0])}\right)"
        return s if exp is None else rf"{s}^{{{exp}}}"


class logH(_Special):  # noqa: N801 - the physicists' name
    """ln H(x); d/dx ln H(x) = -Mills(x)."""

    def fdiff(self, argindex=1):
        return -Mills(self.args[0])

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return -sp.log(2)
        return None

    @classmethod
    def _mp(cls, x):
        return mpmath.log(mpmath.erfc(x / mpmath.sqrt(2)) / 2)

    def _latex(self, printer, exp=None):
        s = rf"\ln H\left({printer._print(self.args[0])}\right)"
        return s if exp is None else rf"\left({s}\right)^{{{exp}}}"


class log2cosh(_Special):  # noqa: N801 - the physicists' name
    """ln(2 cosh x); d/dx = tanh x."""

    def fdiff(self, argindex=1):
        return sp.tanh(self.args[0])

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.log(2)
        if x.could_extract_minus_sign():
            return cls(-x)
        return None

    @classmethod
    def _mp(cls, x):
        return mpmath.log(2 * mpmath.cosh(x))

    def _latex(self, printer, exp=None):
        s = rf"\ln 2\cosh\left({printer._print(self.args[0])}\right)"
        return s if exp is None else rf"\left({s}\right)^{{{exp}}}"


class expit(_Special):  # noqa: N801 - scipy's name
    """The logistic function 1 / (1 + e^-x); expit' = expit (1 - expit)."""

    def fdiff(self, argindex=1):
        e = expit(self.args[0])
        return e * (1 - e)

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.S.Half
        return None

    @classmethod
    def _mp(cls, x):
        return 1 / (1 + mpmath.exp(-x))


class logaddexp(sp.Function):  # noqa: N801 - numpy's name
    """ln(e^a + e^b), evaluated without overflow or underflow; d/da = expit(a - b)."""

    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args
        return expit(a - b) if argindex == 1 else expit(b - a)

    def _eval_evalf(self, prec):
        a, b = (x.evalf(prec) for x in self.args)
        if not (a.is_number and b.is_number and a.is_real and b.is_real):
            return None
        with mpmath.workprec(prec):
            top = max(mpmath.mpf(a), mpmath.mpf(b))
            value = top + mpmath.log(mpmath.exp(mpmath.mpf(a) - top) + mpmath.exp(mpmath.mpf(b) - top))
            return sp.Float(value, precision=prec)

    def _eval_is_real(self):
        return self.args[0].is_real and self.args[1].is_real


SPECIAL_FUNCTIONS = {
    "H": H,
    "logH": logH,
    "Mills": Mills,
    "log2cosh": log2cosh,
    "expit": expit,
    "logaddexp": logaddexp,
}


class held(sp.Function):  # noqa: N801 - a marker, lower case like the functions
    """x itself, with derivative zero: a quantity that phi does not depend on in exact arithmetic.

    For a scale that only sets the units of a grid (the Parisi ladder of ln 2cosh written in
    u = h / sqrt(S)): the value is independent of S in the continuum, and holding S fixed under
    differentiation drops the chain-rule terms that cancel there only up to the grid's error.
    """

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.S.Zero
