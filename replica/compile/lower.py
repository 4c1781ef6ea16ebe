"""Lowering of a FreeEnergy to numpy callables.

One pass of ``sympy.lambdify`` (with common sub-expressions shared by
``cse``) per quantity the solver needs:

- ``residual``      G(theta)                       (the saddle-point system)
- ``system``        G(theta) and its Jacobian
- ``fixed_map``     F(theta) where the model has fixed-point forms
- ``values``        phi, the observables and d phi / d c for every control c
- ``stability``     the Hessian of phi and the replicon eigenvalue

Printing rules: H(x) -> ndtr(-x), ln H(x) -> log_ndtr(-x) (no underflow in the
tails), Mills(x) -> sqrt(2/pi)/erfcx(x/sqrt 2), ln 2cosh x ->
|x| + log1p(exp(-2|x|)). ``GaussAvg(f, z)`` -> ``_avg(f, w_z, axis_z)``, a
weighted sum over the quadrature axis of z with keepdims, so that nested
averages broadcast.

Averages over a truncated normal, and Gaussian averages over a variable with
a declared resolution scale (``FreeEnergy.scales``), are first rewritten as
averages over the unit interval (``symbolic.truncated``: quantile map,
sinh map); their variables carry Gauss-Legendre nodes on (0, 1). The
order parameters of a reference saddle (``FreeEnergy.reference``) are
arguments like the control parameters.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import scipy.special as sc
import sympy as sp
from sympy.printing.numpy import SciPyPrinter

from ..symbolic import FreeEnergy, GaussAvg, GaussSmooth, average_variables
from ..symbolic.gauss import AVERAGES
from ..symbolic.maximum import Argmax, AtMaximum, argmax_form
from ..symbolic.parisi import ParisiPass
from ..symbolic.truncated import TruncatedAvg, unit_form_scaled, unit_form_truncated
from . import parisi
from .maximum import argmax as _argmax
from .quadrature import Quadrature

_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
_SQRT_HALF = float(np.sqrt(0.5))


def _H(x):
    return sc.ndtr(-x)


def _logH(x):
    return sc.log_ndtr(-x)


def _Mills(x):
    return _SQRT_2_OVER_PI / sc.erfcx(x * _SQRT_HALF)


def _log2cosh(x):
    a = np.abs(x)
    return a + np.log1p(np.exp(-2.0 * a))


def _tail_quantile(lower, log_tail):
    """-Phi^-1(H(lower) e^log_tail), in log space: x >= lower, log_tail = ln(1 - w) for w uniform."""
    return -sc.ndtri_exp(sc.log_ndtr(-lower) + log_tail)


def _avg(f, w, axis):
    return np.add.reduce(f * w, axis=axis, keepdims=True)  # np.sum without its Python wrapper


def _logavgexp(x, w, axis):
    """ln sum_i w_i exp(x_i) along ``axis``, shifted by the maximum (no under/overflow)."""
    y = x + np.log(w)
    top = np.max(y, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return top + np.log(np.add.reduce(np.exp(y - top), axis=axis, keepdims=True))


NAMESPACE = {
    "H": _H,
    "logH": _logH,
    "Mills": _Mills,
    "log2cosh": _log2cosh,
    "expit": sc.expit,
    "logaddexp": np.logaddexp,
    "_avg": _avg,
    "_tail_quantile": _tail_quantile,
    "_logavgexp": _logavgexp,
    "_argmax": _argmax,
    "_parisi_pass": parisi.parisi_pass,
    "_field_map": parisi.field_map,
    "_parisi_value": parisi.parisi_value,
    "_parisi_q_gradient": parisi.parisi_q_gradient,
    "_parisi_m_gradient": parisi.parisi_m_gradient,
    "_parisi_bottom": parisi.parisi_bottom,
}


class _Printer(SciPyPrinter):
    """SciPy printer that knows the Gaussian-average node."""

    def __init__(self, axes: dict[str, int], settings=None):
        super().__init__(settings or {"fully_qualified_modules": False, "inline": True})
        self._axes = axes

    def _print_GaussAvg(self, expr):
        z = expr.variable.name
        return f"_avg({self._print(expr.integrand)}, _w{z}, {self._axes[z]})"

    def _print_UnitAvg(self, expr):
        z = expr.variable.name
        return f"_avg({self._print(expr.integrand)}, _w{z}, {self._axes[z]})"

    def _print_Argmax(self, expr):
        f, v, lo, hi = expr.args
        f_v = sp.diff(f, v)
        parts = ", ".join(self._print(e) for e in (f, f_v, sp.diff(f_v, v)))
        return f"_argmax(lambda {self._print(v)}: ({parts}), {self._print(lo)}, {self._print(hi)})"

    def _print_TailQuantile(self, expr):
        return f"_tail_quantile({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_LogAvgExp(self, expr):
        z = expr.variable.name
        return f"_logavgexp({self._print(expr.exponent)}, _w{z}, {self._axes[z]})"

    def _print_ParisiPass(self, expr):
        u = expr.variable.name
        qs = ", ".join(self._print(q) for q in expr.qs)
        ms = ", ".join(self._print(m) for m in expr.ms)
        fields = ", ".join(self._print(f) for f in (expr.boundary, expr.slope, expr.curvature))
        focus = "".join(f"{self._print(x)}, " for x in expr.focus)
        return f"_parisi_pass({fields}, ({qs},), ({ms},), _w{u}, {self._axes[u]}, ({focus}))"

    def _print_field_map(self, expr):
        return f"_field_map({', '.join(self._print(a) for a in expr.args)})"

    def _print_ParisiAverage(self, expr):
        return f"_parisi_value({self._print(expr.args[0])})"

    def _print_ParisiGradient(self, expr):
        kind, index = expr.args[1].name, int(expr.args[2])
        return f"_parisi_{kind}_gradient({self._print(expr.args[0])}, {index})"

    def _print_ParisiBottom(self, expr):
        return f"_parisi_bottom({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_H(self, expr):
        return f"H({self._print(expr.args[0])})"

    def _print_logH(self, expr):
        return f"logH({self._print(expr.args[0])})"

    def _print_Mills(self, expr):
        return f"Mills({self._print(expr.args[0])})"

    def _print_held(self, expr):
        return f"({self._print(expr.args[0])})"

    def _print_log2cosh(self, expr):
        return f"log2cosh({self._print(expr.args[0])})"

    def _print_expit(self, expr):
        return f"expit({self._print(expr.args[0])})"

    def _print_logaddexp(self, expr):
        return f"logaddexp({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_DiracDelta(self, expr):
        # derivatives of abs/sign/Heaviside: zero except on a set of measure zero
        return f"numpy.zeros_like({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr):
        return f"numpy.heaviside({self._print(expr.args[0])}, 0.5)"


def _cse(exprs):
    """sympy's cse, with every Argmax node a shared atom computed first.

    The body of an Argmax is printed as a lambda of its bound variable: no common
    sub-expression may be taken out of it (the variable exists only inside the lambda),
    and equal Argmax nodes (v* of the value and of every derivative) are computed once.
    """
    nodes = sorted({n for e in exprs for n in sp.preorder_traversal(e) if isinstance(n, Argmax)}, key=sp.count_ops)
    if not nodes:
        return sp.cse(exprs, list=False)
    atoms = {node: sp.Symbol(f"_argmax{k}", real=True) for k, node in enumerate(nodes)}
    masked = [sp.sympify(e).xreplace(atoms) for e in exprs] if isinstance(exprs, list) else exprs.xreplace(atoms)
    replacements, reduced = sp.cse(masked, list=False)
    return [(atom, node) for node, atom in atoms.items()] + list(replacements), reduced


@dataclass
class Lowered:
    """A lambdified list of expressions and the shape logic around it."""

    function: object
    count: int
    n_quad_axes: int

    def __call__(self, args: list) -> list[np.ndarray]:
        with np.errstate(all="ignore"):
            out = self.function(*args)
        return [_drop_quad_axes(np.asarray(x, dtype=float), self.n_quad_axes) for x in out]


def _drop_quad_axes(x: np.ndarray, n: int) -> np.ndarray:
    """Remove the trailing size-1 quadrature axes left by keepdims reductions."""
    for _ in range(n):
        if x.ndim and x.shape[-1] == 1:
            x = x[..., 0]
    return x


class CompiledProblem:
    """Numeric callables for one FreeEnergy; the quadrature order is an argument.

    All methods take ``theta`` (sequence of floats, or arrays of a common
    batch shape), ``params`` (mapping control name -> float or array) and a
    ``Quadrature`` from :meth:`quadrature`.
    """

    def __init__(self, free_energy: FreeEnergy):
        self.free_energy = free_energy
        exprs = self._all_expressions()
        self.variables: tuple[str, ...] = tuple(v.name for v in average_variables(exprs))
        self.fields: tuple[str, ...] = tuple(
            sorted({n.variable.name for n in sp.preorder_traversal(exprs) if isinstance(n, ParisiPass)})
        )
        self.n = len(free_energy.order_parameters)
        self.observable_names = list(free_energy.observables)
        self.control_names = free_energy.control_names
        self.given_names = [g.name for g in free_energy.given]
        truncated = {n.variable.name for n in sp.preorder_traversal(exprs) if isinstance(n, TruncatedAvg)}
        self.unit_variables: tuple[str, ...] = tuple(
            v for v in self.variables if v in truncated or v in free_energy.scales
        )

    # construction ------------------------------------------------------------
    def _all_expressions(self) -> sp.Expr:
        fe = self.free_energy
        return sp.Tuple(fe.phi, *fe.observables.values())

    @cached_property
    def _renaming(self) -> dict[sp.Symbol, sp.Symbol]:
        """User names -> safe argument names (_t0.., _c0.., _g0.., _z0..); weights are _w_zk."""
        fe = self.free_energy
        ren = {t: sp.Symbol(f"_t{i}", real=True) for i, t in enumerate(fe.theta)}
        ren.update({c: sp.Symbol(f"_c{i}", real=True) for i, c in enumerate(fe.control_symbols)})
        ren.update({g: sp.Symbol(f"_g{i}", real=True) for i, g in enumerate(fe.given)})
        ren.update({sp.Symbol(v, real=True): sp.Symbol(f"_z{k}", real=True) for k, v in enumerate(self.variables)})
        return ren

    def _unit_forms(self, expr: sp.Expr) -> sp.Expr:
        """Smoothings as Gaussian averages; truncated and scale-mapped averages over the unit interval."""
        expr = sp.sympify(expr)
        if expr.has(GaussSmooth):
            expr = expr.replace(lambda e: isinstance(e, GaussSmooth), lambda e: e.as_average())
        if expr.has(TruncatedAvg):
            expr = expr.replace(lambda e: isinstance(e, TruncatedAvg), unit_form_truncated)
        scales = self.free_energy.scales
        if scales:
            expr = expr.replace(
                lambda e: isinstance(e, GaussAvg) and e.variable.name in scales,
                lambda e: unit_form_scaled(e.integrand, e.variable, *scales[e.variable.name]),
            )
        if expr.has(AtMaximum):
            expr = expr.replace(lambda e: isinstance(e, AtMaximum), argmax_form)
        return expr

    @cached_property
    def _args(self) -> list[sp.Symbol]:
        fe = self.free_energy
        ren = self._renaming
        args = [ren[t] for t in fe.theta] + [ren[c] for c in fe.control_symbols] + [ren[g] for g in fe.given]
        for k in range(len(self.variables)):
            args += [sp.Symbol(f"_z{k}", real=True), sp.Symbol(f"_w_z{k}", real=True)]
        return args

    def _lower(self, exprs: list[sp.Expr]) -> Lowered:
        renamed = [self._unit_forms(e).xreplace(self._renaming) for e in exprs]
        n = len(self.variables)
        axes = {f"_z{k}": -(n - k) for k in range(n)}
        for e in renamed:
            for node in sp.preorder_traversal(e):
                if isinstance(node, AVERAGES) and node.variable.name not in axes:
                    raise ValueError(f"average over an undeclared variable {node.variable}")
        fn = sp.lambdify(
            self._args,
            renamed,
            modules=[NAMESPACE, "numpy", "scipy"],
            printer=_Printer(axes),
            cse=_cse,
        )
        return Lowered(fn, len(exprs), n)

    @cached_property
    def _residual(self) -> Lowered:
        return self._lower(self.free_energy.equations)

    @cached_property
    def _system(self) -> Lowered:
        fe = self.free_energy
        if fe.numeric_hessian:
            return self._residual
        return self._lower(fe.equations + [x for row in fe.jacobian for x in row])

    @cached_property
    def _fixed_map(self) -> Lowered | None:
        fp = self.free_energy.fixed_point
        if fp is None:
            return None
        return self._lower([fp[name] for name in self.free_energy.order_parameter_names])

    @cached_property
    def _values(self) -> Lowered:
        fe = self.free_energy
        exprs = [fe.phi, *fe.observables.values(), *fe.control_partials.values()]
        if fe.replicon is not None:
            exprs.append(fe.replicon)
        return self._lower(exprs)

    @cached_property
    def _objective(self) -> Lowered | None:
        fe = self.free_energy
        return None if fe.extremum is None else self._lower([fe.phi, *fe.gradient])

    @cached_property
    def _stability(self) -> Lowered:
        fe = self.free_energy
        if fe.numeric_hessian:  # the gradient, whose differences are the Hessian
            return self._residual if not fe.equation_scales else self._lower(fe.gradient)
        return self._lower([x for row in fe.hessian for x in row])

    @cached_property
    def _given_partials(self) -> Lowered:
        return self._lower(self.free_energy.given_partials)

    def _equation_partials(self, control: str) -> Lowered:
        cache = self.__dict__.setdefault("_equation_partials_cache", {})
        if control not in cache:
            cache[control] = self._lower(self.free_energy.equation_partials(control))
        return cache[control]

    @cached_property
    def _bound_coefficients(self) -> dict[str, object]:
        fe = self.free_energy
        out = {}
        for kind in fe.bound_limits:
            expr = fe.bound_coefficient(kind)
            ren = self._renaming
            out[kind] = sp.lambdify(
                [ren[c] for c in fe.control_symbols],
                expr.xreplace(ren),
                modules=[NAMESPACE, "numpy", "scipy"],
                printer=_Printer({}),
            )
        return out

    def warm_up(self) -> CompiledProblem:
        """Compile every callable now (otherwise done on first use)."""
        _ = self._residual, self._system, self._fixed_map, self._values, self._stability, self._objective
        return self

    # evaluation ----------------------------------------------------------------
    def quadrature(self, order: int) -> Quadrature:
        factors = tuple(sorted(self.free_energy.quadrature_factors.items()))
        return Quadrature.build(self.variables, order, fields=self.fields, unit=self.unit_variables, factors=factors)

    @cached_property
    def _nestings(self) -> set[tuple[str, ...]]:
        """The chains of nested integration variables (outermost first) of phi and the observables."""

        def chains(expr: sp.Basic, prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
            if isinstance(expr, AVERAGES) and hasattr(expr, "variable"):
                prefix = prefix + (expr.variable.name,)
            found: set[tuple[str, ...]] = set()
            for arg in expr.args:
                found |= chains(arg, prefix)
            return found or ({prefix} if prefix else set())

        return chains(self._all_expressions(), ())

    def grid_points(self, order: int) -> int:
        """Points of the largest product grid the averages span at this quadrature order."""
        factors = self.free_energy.quadrature_factors
        sizes = {v: max(4, round(factors[v] * order)) if v in factors else order for v in self.variables}
        # a variable met again inside its own average (a tilted measure) is the same axis
        return max((math.prod(sizes[v] for v in set(chain)) for chain in self._nestings), default=1)

    def ladder_points(self, order: int) -> int:
        """Points of the largest array of a Parisi ladder at this order (0 without one).

        Every step keeps its tilted weights tau_ij(a) on the field grid times the nodes of the
        step (compile/parisi.py): n_u n_z points, with n_u = 8 order + 1 and n_z up to order.
        """
        if not self.fields:
            return 0
        from .parisi import FieldGrid

        grid = FieldGrid.build(order)
        return len(grid.u) * len(grid.z)

    def _call_args(self, theta, params, quad: Quadrature) -> list:
        try:
            controls = [params[name] for name in self.control_names + self.given_names]
        except KeyError as exc:  # pragma: no cover - configs are validated before
            raise KeyError(f"missing control parameter {exc}") from None
        nq = len(self.variables)
        if nq and any(np.ndim(x) for x in list(theta) + controls):
            pad = (1,) * nq
            theta = [np.reshape(x, np.shape(x) + pad) for x in theta]
            controls = [np.reshape(x, np.shape(x) + pad) for x in controls]
        return list(theta) + list(controls) + list(quad.arrays)

    def residual(self, theta, params, quad: Quadrature) -> np.ndarray:
        """G(theta), shape (n, *batch)."""
        return np.array(self._residual(self._call_args(theta, params, quad)))

    def system(self, theta, params, quad: Quadrature) -> tuple[np.ndarray, np.ndarray]:
        """G(theta) (n,) and its Jacobian dG/dtheta (n, n), for one point."""
        if self.free_energy.numeric_hessian:
            g = np.asarray(self.residual(theta, params, quad), dtype=float)
            return g, self._difference_jacobian(lambda t: self.residual(t, params, quad), theta, g)
        out = self._system(self._call_args(theta, params, quad))
        n = self.n
        g = np.array([float(x) for x in out[:n]])
        jac = np.array([float(x) for x in out[n:]]).reshape(n, n)
        return g, jac

    @cached_property
    def layers(self):
        """The lowered LiquidLayers of a layered model (compile/layers.py), or None."""
        if self.free_energy.layers is None:
            return None
        from .layers import CompiledLayers

        return CompiledLayers(self.free_energy)

    def keeping_liquid(self, groups) -> CompiledProblem:
        """This problem with the liquid layers ``groups`` never opened: a glass transition is located
        on the liquid side, where the layer's stability function is computed."""
        out = copy.copy(self)
        out.layers = self.layers.keeping_liquid(groups)  # an instance value in place of the cached one
        return out

    @cached_property
    def ladder(self):
        """The lowered ParisiLadder of an RSB ansatz (compile/ladder.py), or None."""
        if self.free_energy.ladder is None:
            return None
        from .ladder import CompiledLadder

        return CompiledLadder(self.free_energy)

    @property
    def jacobian_is_numeric(self) -> bool:
        """True when ``system`` differentiates an exact gradient numerically (n + 1 gradient evaluations)."""
        return self.free_energy.numeric_hessian

    @property
    def has_fixed_point(self) -> bool:
        return self._fixed_map is not None

    def fixed_map(self, theta, params, quad: Quadrature) -> np.ndarray:
        """F(theta) of the fixed-point forms theta = F(theta)."""
        if self._fixed_map is None:
            raise ValueError(f"model {self.free_energy.name} has no fixed-point form")
        return np.array(self._fixed_map(self._call_args(theta, params, quad)))

    @property
    def value_names(self) -> list[str]:
        """Names of what ``values`` returns, in order."""
        partials = ("dphi_d" + c.name for c in self.free_energy.controls if not c.structural)
        names = ["phi", *self.observable_names, *partials]
        if self.free_energy.replicon is not None:
            names.append("replicon")
        return names

    def objective(self, theta, params, quad: Quadrature) -> tuple[float, np.ndarray]:
        """phi and its gradient in the order parameters (one pass: a ladder is solved once), for one point."""
        out = self._objective(self._call_args(theta, params, quad))
        return float(out[0]), np.array([float(x) for x in out[1:]])

    def values(self, theta, params, quad: Quadrature) -> dict[str, np.ndarray]:
        """phi, the observables, dphi_d<c> for every control c, and the replicon."""
        out = self._values(self._call_args(theta, params, quad))
        return dict(zip(self.value_names, out, strict=False))

    def initial(self, params) -> np.ndarray:
        """The model's starting point: the declared inits, with ``FreeEnergy.initial`` expressions evaluated."""
        fe = self.free_energy
        theta = np.array([p.init for p in fe.order_parameters], dtype=float)
        if fe.initial:
            symbols = fe.control_symbols + fe.given
            values = [params[s.name] for s in symbols]
            for i, p in enumerate(fe.order_parameters):
                if p.name in fe.initial:
                    theta[i] = float(sp.lambdify(symbols, fe.initial[p.name], modules="numpy")(*values))
        return theta

    def given_partials(self, theta, params, quad: Quadrature) -> np.ndarray:
        """d phi / d g for the given values g of the reference saddle, at fixed theta."""
        return np.array([float(x) for x in self._given_partials(self._call_args(theta, params, quad))])

    def equation_partials(self, control: str, theta, params, quad: Quadrature) -> np.ndarray:
        """d G / d c at fixed theta (n,), for one point."""
        out = self._equation_partials(control)(self._call_args(theta, params, quad))
        return np.array([float(x) for x in out])

    def hessian(self, theta, params, quad: Quadrature) -> np.ndarray:
        """Hessian of phi in the order parameters, (n, n), for one point."""
        if self.free_energy.numeric_hessian:

            def grad(t):
                return np.array(self._stability(self._call_args(t, params, quad)), dtype=float)

            jac = self._difference_jacobian(grad, theta, grad(theta))
            return 0.5 * (jac + jac.T)
        out = self._stability(self._call_args(theta, params, quad))
        return np.array([float(x) for x in out]).reshape(self.n, self.n)

    def _difference_jacobian(self, fun, theta, g0: np.ndarray) -> np.ndarray:
        fe = self.free_energy
        return difference_jacobian(fun, theta, g0, fe.order_parameters, fe.coupling)

    def bound_coefficient(self, kind: str, params) -> float:
        """C(c) of phi ~ C/eps at the bound of the order parameter of ``kind``."""
        fn = self._bound_coefficients[kind]
        with np.errstate(all="ignore"):
            return float(fn(*[params[name] for name in self.control_names]))


def difference_jacobian(fun, theta, g0: np.ndarray, parameters, pattern: np.ndarray) -> np.ndarray:
    """dG/dtheta by forward differences of an exact G (Parisi ladders; ``difference_jacobian``).

    Steps of 1e-7 (relative above 1) point into the order parameters' domain, so no
    evaluation leaves it; where the forward step leaves the region where phi is defined
    (a Parisi ladder must not decrease, e.g. q_min above q_max; a variance would turn
    negative), the backward step is taken.

    ``pattern[i, j]`` says where G_i may depend on theta_j (``FreeEnergy.coupling``). Columns
    that share no row are stepped together (Curtis, Powell & Reid): one evaluation of G gives
    all of them, each read on its own rows, where the others' derivatives are zero by
    structure. The columns of a layered model fall into a few such groups, so the Jacobian
    costs a few evaluations instead of one per order parameter; the numbers are those of
    stepping one column at a time.
    """
    theta = np.asarray(theta, dtype=float)
    jac = np.zeros((len(g0), len(theta)))
    steps = np.empty(len(theta))
    for j, p in enumerate(parameters):
        h = 1e-7 * max(1.0, abs(theta[j]))
        steps[j] = h if p.contains(theta[j] + h) else -h
    for group in column_groups(pattern):
        t = theta.copy()
        t[group] += steps[group]
        g = np.asarray(fun(t), dtype=float) if len(group) > 1 else None
        if g is None or not np.all(np.isfinite(g)):  # one column at a time, each with its fallback step
            for j in group:
                jac[:, j] = _difference_column(fun, theta, g0, j, steps[j], parameters[j])
            continue
        for j in group:
            rows = pattern[:, j]
            jac[rows, j] = (g[rows] - g0[rows]) / steps[j]
    return jac


def _difference_column(fun, theta: np.ndarray, g0: np.ndarray, j: int, h: float, parameter) -> np.ndarray:
    """Column j of the Jacobian: the step h, or -h where G is not finite after it."""
    for step in (h, -h):
        t = theta.copy()
        t[j] += step
        if not parameter.contains(t[j]):
            continue
        g = np.asarray(fun(t), dtype=float)
        if np.all(np.isfinite(g)):
            break
    return (g - g0) / step


def column_groups(pattern: np.ndarray) -> list[np.ndarray]:
    """Columns of ``pattern`` in groups no two of which share a row (a greedy colouring of the
    column intersection graph, most connected columns first)."""
    pattern = np.asarray(pattern, dtype=bool)
    return [np.array(g, dtype=int) for g in _column_groups(pattern.shape, pattern.tobytes())]


@lru_cache(maxsize=64)
def _column_groups(shape: tuple[int, int], raw: bytes) -> tuple[tuple[int, ...], ...]:
    """The colouring of one pattern (given by its bytes, to be cached: every Newton step asks again)."""
    pattern = np.frombuffer(raw, dtype=bool).reshape(shape)
    conflict = (pattern.T.astype(np.int64) @ pattern.astype(np.int64)) > 0
    colour = np.full(shape[1], -1)
    for j in np.argsort(-conflict.sum(axis=1), kind="stable"):
        used = set(colour[conflict[j] & (colour >= 0)].tolist())
        colour[j] = next(c for c in range(shape[1]) if c not in used)
    return tuple(tuple(np.flatnonzero(colour == c).tolist()) for c in range(colour.max() + 1))


_CACHE: dict[str, CompiledProblem] = {}


def compile_free_energy(free_energy: FreeEnergy) -> CompiledProblem:
    """The CompiledProblem of a FreeEnergy, shared within the process and across processes (compile/cache.py)."""
    key = free_energy.key()
    if key not in _CACHE:
        from .cache import load_or_compile

        _CACHE[key] = load_or_compile(CompiledProblem(free_energy), key)
    return _CACHE[key]
