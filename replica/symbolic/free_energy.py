"""The FreeEnergy object: phi(order parameters; control parameters) and what follows.

A model declares phi in the symbolic language, its order parameters (with
domains and initial guesses), its control parameters and named observables.
Everything the solver needs is derived here, once:

- the stationarity equations  d phi / d theta_i = 0;
- where an equation is linear in one variable once the Gaussian averages are
  held fixed, the conventional fixed-point form theta_j = F_j(theta)
  (e.g. q = E_z[tanh^2(sqrt(q_hat) z)] from d phi / d q_hat = 0);
- the system G(theta) = 0 that the solvers drive to zero: theta - F(theta) if
  every variable has a fixed-point form, else the gradient; its Jacobian;
- the Hessian of phi (stability in the order-parameter space), the partial
  derivatives of phi in the control parameters (the envelope theorem:
  d phi / d alpha along a solution equals its partial at fixed theta), and the
  coefficients of phi ~ C / eps as an order parameter reaches its bound.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp

from .gauss import AVERAGES, OPAQUE, derivative
from .limits import bound_coefficient
from .parisi import ParisiAverage


@dataclass(frozen=True)
class OrderParameter:
    """A variational parameter of phi, with its domain and a starting value.

    The domain is the interval (lower, upper); an end is included when its
    ``*_closed`` flag is set (e.g. q in [0, 1)).
    """

    name: str
    init: float
    lower: float = -math.inf
    upper: float = math.inf
    lower_closed: bool = False
    upper_closed: bool = False
    description: str = ""

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name, real=True)

    def contains(self, value: float) -> bool:
        lo_ok = value >= self.lower if self.lower_closed else value > self.lower
        hi_ok = value <= self.upper if self.upper_closed else value < self.upper
        return bool(lo_ok and hi_ok)

    def domain_text(self) -> str:
        lo = "[" if self.lower_closed else "("
        hi = "]" if self.upper_closed else ")"
        return f"{lo}{_fmt(self.lower)}, {_fmt(self.upper)}{hi}"


@dataclass(frozen=True)
class ControlParameter:
    """An external parameter (alpha, kappa, ...) with its allowed range (closed unless ``lower_open``)."""

    name: str
    default: float | None = None
    lower: float = -math.inf
    upper: float = math.inf
    description: str = ""
    lower_open: bool = False  # e.g. a noise level that must be positive
    integer: bool = False  # a whole number (e.g. a depth)
    # fixes the structure of the model (its order parameters), so it is read when the model is built:
    # not swept, no partial derivative d phi / d c
    structural: bool = False

    @property
    def infinite(self) -> bool:
        """A control whose one value is +inf: a limit the model takes in its declaration (``y: inf``)."""
        return math.isinf(self.lower) and self.lower > 0

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name, real=True)

    def contains(self, value: float) -> bool:
        above = self.lower < value if self.lower_open else self.lower <= value
        return bool(above and value <= self.upper)

    def domain_text(self) -> str:
        if self.infinite:
            return "{inf}"
        lo = "(" if math.isinf(self.lower) or self.lower_open else "["
        hi = ")" if math.isinf(self.upper) else "]"
        return f"{lo}{_fmt(self.lower)}, {_fmt(self.upper)}{hi}"


@dataclass(frozen=True)
class BoundLimit:
    """A transition where an order parameter reaches a bound (q -> 1: capacity).

    Its coefficient C(c) is positive on the side where the solution is interior and changes
    sign at the transition: derived from phi ~ C/eps as the bound is approached, or given in
    closed form (``coefficient``) where phi stays finite there (the jamming potential at
    q0 -> 1 is 1/2 - (alpha/2) E[max(0, kappa - z)^2], zero at the RS capacity).
    """

    order_parameter: str
    bound: float
    description: str = ""
    coefficient: sp.Expr | None = None


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


OPEN_WIDTH, OPEN_AT, OPEN_X = sp.symbols("open_width open_at open_x", real=True)
SEED_AMPLITUDE = sp.Symbol("seed_amplitude", real=True)


@dataclass(frozen=True)
class LiquidLayers:
    """Groups of order parameters that vanish together: the liquid layers of a layered model.

    A group (a layer) is *liquid* when its order parameters are exactly zero. That is a
    stationary point of phi whether or not it is stable, so a solver started at zero stays
    there, and one started near zero may be drawn back to it even where it is unstable.
    A model with such groups declares, per group g:

    - ``criterion[g]``: an observable that is positive where the liquid group is unstable
      (its stability function, given the other groups: for a continuous transition it
      changes sign where the group turns glassy);
    - ``seeds[g]``: starting values of its order parameters, as expressions in the order
      parameters of the others, the controls and SEED_AMPLITUDE (the size of the seed:
      the direction of the instability, scaled).

    ``requires`` gives, for every order parameter that belongs to groups, the groups that
    must all be non-liquid for it to be free (a coupling between two layers vanishes
    when either is liquid); ``shared`` are order parameters that are undetermined while
    every group is liquid (e.g. a Parisi parameter common to all layers). A group is liquid
    where the order parameters that belong to it alone are all zero. The solver
    (solve/layers.py) holds the liquid groups at zero, solves the others, and opens a
    liquid group where its criterion is positive.
    """

    groups: tuple[str, ...]
    requires: dict[str, tuple[int, ...]]
    criterion: tuple[str, ...]
    seeds: tuple[dict[str, sp.Expr], ...]
    shared: tuple[str, ...] = ()

    def key(self) -> str:
        parts = [repr(self.groups), repr(sorted(self.requires.items()))]
        parts += [repr(self.criterion), repr(self.shared)]
        parts += [repr(sorted((k, sp.srepr(v)) for k, v in seed.items())) for seed in self.seeds]
        return "|".join(parts)


@dataclass(frozen=True)
class LayerLadders:
    """The Parisi functions of a layered RSB ansatz, layer by layer: for the long table q(x, l).

    ``xs``: the common steps x_1 <= ... <= x_K (numbers or order parameters); ``ladders``:
    name -> layer -> its levels 0..K (expressions in the order parameters; a clamped layer is
    a constant ladder). Level i is the value of the Parisi function for x_i < x < x_{i+1}
    (x_0 = 0, x_{K+1} = 1).
    """

    xs: tuple[sp.Expr, ...]
    ladders: dict[str, dict[int, tuple[sp.Expr, ...]]]

    def key(self) -> str:
        parts = [sp.srepr(sp.Tuple(*self.xs))]
        for name in sorted(self.ladders):
            parts += [f"{name}{layer}:{sp.srepr(sp.Tuple(*lv))}" for layer, lv in sorted(self.ladders[name].items())]
        return "|".join(parts)


@dataclass(frozen=True)
class ParisiLadder:
    """The Parisi function of an RSB ansatz: for tables and plots, and the way in from RS.

    ``qs`` (q_0 <= ... <= q_k) and ``xs`` (x_1 <= ... <= x_k) are expressions in the
    order parameters (and controls) of the ansatz. The Parisi function is the step

        q(x) = q_i  for x_i < x < x_{i+1}   (x_0 = 0, x_{k+1} = 1),
        P(q) = x_1 delta(q - q_0) + sum_i (x_{i+1} - x_i) delta(q - q_i) + (1 - x_k) delta(q - q_k),

    so a solution is a Parisi function only if both sequences are non-decreasing.
    ``x_name`` is what the steps hold: ``x``, or ``y`` = x / eps in a limit where x -> 0.

    A ladder that collapses (q_0 = q_k) is replica symmetric, and its x_i are then
    undetermined. ``rs`` is that RS ansatz and ``embedding`` gives every order
    parameter of this ansatz that is fixed at collapse in terms of the RS order
    parameters. ``opening`` gives every order parameter on a ladder opened around the RS
    solution, in terms of the RS order parameters and OPEN_WIDTH (q_k - q_0), OPEN_AT
    (where the RS overlap sits, as a fraction of the width from q_0) and OPEN_X (one x on
    every step). ``one_step`` is the same ansatz with one step (1RSB), and
    ``from_one_step`` gives every order parameter on the ladder that equals it
    exactly (one x on every step), in terms of its order parameters: a ladder is
    opened by way of the one-step solution, which is robust where the steps of a
    long ladder are barely determined (near the AT line).
    """

    qs: tuple
    xs: tuple
    x_name: str = "x"
    rs: FreeEnergy | None = None
    embedding: dict[str, sp.Expr] = field(default_factory=dict)
    opening: dict[str, sp.Expr] = field(default_factory=dict)
    one_step: FreeEnergy | None = None
    from_one_step: dict[str, sp.Expr] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return len(self.xs)

    def key(self) -> str:
        parts = [sp.srepr(sp.Tuple(*self.qs, *self.xs)), self.x_name]
        parts += [f"{k}={sp.srepr(v)}" for k, v in sorted({**self.embedding, **self.opening}.items())]
        parts += [f"{k}<-{sp.srepr(v)}" for k, v in sorted(self.from_one_step.items())]
        parts.append("rs:" + self.rs.key() if self.rs is not None else "")
        parts.append("one_step:" + self.one_step.key() if self.one_step is not None else "")
        return "|".join(parts)


@dataclass
class FreeEnergy:
    """phi(theta; c) with its order parameters theta and control parameters c.

    ``observables`` maps names to expressions in theta and c; ``replicon`` is
    the de Almeida-Thouless eigenvalue of the ansatz where the model declares
    one (RS is stable while it is positive); ``bound_limits`` names the
    transitions of kind 'order parameter reaches its bound'; ``ladder`` is the
    Parisi function of an RSB ansatz (see ``ParisiLadder``). ``extremum`` says
    what the physical saddle point is in the order parameters: "min" or "max"
    of phi (the solvers then descend phi, and cannot end at another stationary
    point), or None for a saddle (conjugate pairs: the solvers find a root of the
    gradient).

    Further declarations a model may make:

    - ``reference``: a saddle point solved first, from its own free entropy,
      whose order parameters enter phi as given values (the equilibrium
      overlap of the reference configuration of a Franz-Parisi potential);
    - ``scales``: integration variable -> (center, width) of a sharp feature
      of its integrands (e.g. width sqrt(1 - q) as q -> 1): its averages are
      evaluated on a sinh-mapped rule that resolves the feature;
    - ``difference_jacobian``: the Jacobian (and Hessian) by finite
      differences of the exact gradient instead of symbolic second
      derivatives: for functionals with nested averages over several
      variables, whose symbolic second derivatives are large to compile and
      hold many full-grid arrays in memory at once;
    - ``integration_by_parts``: the integration variables whose bare factors
      Stein's lemma moves in the derived equations (default: all). It is
      needed where a sqrt(v) z argument meets v -> 0 (it turns
      d/dv into the finite (1/2) E[f'']); elsewhere it only lengthens the
      equations of nested averages (a truncated average inside);
    - ``quadrature_factors``: integration variable -> its number of nodes
      relative to the quadrature order (a narrow smoothing needs few, a
      truncated tail many); the order, and so every variable, is doubled by
      the accuracy check as usual;
    - ``equation_scales``: order parameter -> a positive factor multiplying its
      stationarity equation d phi / d theta = 0 (same roots), for equations
      whose terms diverge at a bound (1/(1 - q)^2 as q -> 1) and cancel: the
      scaled residual is then a relative one, and reaches the tolerance;
    - ``initial``: order parameter -> a starting value as an expression of the
      controls and the reference's order parameters (e.g. the exact typical
      point of a Franz-Parisi potential), used where no start is given;
    - ``backward_branch``: the branch a continuation from the high end of a
      control follows when it is not an interior solution of phi (an
      analytic branch on the boundary of the domain, such as perfect
      generalization q = 1); a FreeEnergy with no order parameters.
    - ``plateau``: where the solution sits on the boundary of the domain in a
      range of the controls and phi is known there in closed form (the
      frozen local entropy equals the equilibrium entropy for d >= d*): a
      FreeEnergy with no order parameters, whose observable ``plateau_holds``
      is >= 0 where it applies, and whose observables give this model's
      observables and order parameters there (by name). The point solver
      returns it where it holds, and solves phi elsewhere.
    - ``maximised``: conjugate order parameters in which phi is maximised at fixed
      values of the others, which minimise it (``extremum`` "min"): the saddle point
      is min_x max_y phi, as for the conjugates of a Legendre-transformed entropy
      (Ising spins). The point solver descends max_y phi (solve/saddle.py), which
      selects the Parisi solution among the stationary points of a fixed ladder.
    - ``layer_ladders``: the Parisi function of every layer of a layered RSB ansatz
      (``LayerLadders``): a sweep writes them as a long table q(x, l) (run/parisi.py).
    - ``nonnegative``: observable -> what a negative value means; a converged
      point where it is negative is a solution of the equations beyond the
      physical branch (an analytic continuation, kept so that the zero is a
      regular sign change), and its status says so.
    """

    name: str
    phi: sp.Expr
    order_parameters: list[OrderParameter]
    controls: list[ControlParameter]
    observables: dict[str, sp.Expr] = field(default_factory=dict)
    replicon: sp.Expr | None = None
    bound_limits: dict[str, BoundLimit] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    description: str = ""
    ladder: ParisiLadder | None = None
    extremum: str | None = None
    reference: FreeEnergy | None = None
    scales: dict[str, tuple[sp.Expr, sp.Expr]] = field(default_factory=dict)
    difference_jacobian: bool = False
    integration_by_parts: tuple[str, ...] | None = None
    quadrature_factors: dict[str, float] = field(default_factory=dict)
    initial: dict[str, sp.Expr] = field(default_factory=dict)
    equation_scales: dict[str, sp.Expr] = field(default_factory=dict)
    backward_branch: FreeEnergy | None = None
    layers: LiquidLayers | None = None
    plateau: FreeEnergy | None = None
    nonnegative: dict[str, str] = field(default_factory=dict)
    maximised: tuple[str, ...] = ()
    layer_ladders: LayerLadders | None = None

    # symbols ---------------------------------------------------------------
    @property
    def theta(self) -> list[sp.Symbol]:
        return [p.symbol for p in self.order_parameters]

    @property
    def control_symbols(self) -> list[sp.Symbol]:
        return [c.symbol for c in self.controls]

    @property
    def order_parameter_names(self) -> list[str]:
        return [p.name for p in self.order_parameters]

    @property
    def given(self) -> list[sp.Symbol]:
        """Symbols of phi fixed by the reference saddle point (its order parameters)."""
        return self.reference.theta if self.reference is not None else []

    @property
    def control_names(self) -> list[str]:
        return [c.name for c in self.controls]

    def key(self) -> str:
        """A hash of the symbolic content (for caches)."""
        parts = [
            sp.srepr(self.phi),
            repr(self.order_parameters),
            repr(self.controls),
            repr(sorted((k, sp.srepr(v)) for k, v in self.observables.items())),
            sp.srepr(self.replicon) if self.replicon is not None else "",
            repr(sorted(self.bound_limits.items())),
            self.ladder.key() if self.ladder is not None else "",
            str(self.extremum),
            self.reference.key() if self.reference is not None else "",
            repr(sorted((k, sp.srepr(c), sp.srepr(w)) for k, (c, w) in self.scales.items())),
            repr(self.difference_jacobian),
            repr(self.integration_by_parts),
            repr(sorted(self.quadrature_factors.items())),
            repr(sorted((k, sp.srepr(v)) for k, v in self.initial.items())),
            repr(sorted((k, sp.srepr(v)) for k, v in self.equation_scales.items())),
            self.layers.key() if self.layers is not None else "",
            self.plateau.key() if self.plateau is not None else "",
            repr(sorted(self.nonnegative.items())),
            repr(self.maximised),
            self.layer_ladders.key() if self.layer_ladders is not None else "",
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    @cached_property
    def numeric_hessian(self) -> bool:
        """True when the second derivatives are finite differences (a Parisi ladder, or declared)."""
        return self.difference_jacobian or self.phi.has(ParisiAverage)

    @cached_property
    def _terms(self) -> list[sp.Expr]:
        """phi as its additive terms in the order parameters (``additive_terms``)."""
        return additive_terms(self.phi, frozenset(self.theta))

    @cached_property
    def coupling(self) -> np.ndarray:
        """S[i, j]: d phi / d theta_i may depend on theta_j (the structure of the Hessian).

        Two order parameters are coupled where they appear in one additive term of phi
        (constant factors distributed over sums: bond/alpha + spin + gap is many terms); the
        scale of equation i couples it to the scale's order parameters as well. No derivative
        is taken. A layered model couples a layer only to its neighbours, so its Jacobian by
        finite differences needs far fewer evaluations than order parameters
        (``compile.lower.difference_jacobian``).
        """
        theta = self.theta
        index = {t: j for j, t in enumerate(theta)}
        out = np.eye(len(theta), dtype=bool)
        for term in self._terms:
            js = [index[s] for s in term.free_symbols if s in index]
            out[np.ix_(js, js)] = True
        for name, scale in self.equation_scales.items():
            i = self.order_parameter_names.index(name)
            js = [index[s] for s in sp.sympify(scale).free_symbols if s in index]
            out[i, js] = True
        return out

    # derivations -------------------------------------------------------------
    @cached_property
    def gradient(self) -> list[sp.Expr]:
        """Stationarity equations d phi / d theta_i.

        With a Parisi ladder in phi the derivative is the plain chain rule:
        the ladder's own derivatives are already exact nodes, and putting the
        rational entropic terms of many steps in canonical form (cancel,
        factor) costs minutes for nothing the lowering needs. Each additive
        term of phi is differentiated in its own order parameters only (a
        layered phi has many terms, each holding a few layers').
        """
        if self.phi.has(ParisiAverage):
            index = {t: i for i, t in enumerate(self.theta)}
            out = [sp.S.Zero] * len(self.theta)
            for term in self._terms:
                for t in term.free_symbols:
                    if t in index:
                        out[index[t]] += sp.diff(term, t)
            return out
        return [derivative(self.phi, t, self._stein) for t in self.theta]

    @property
    def _stein(self) -> frozenset[str] | None:
        return None if self.integration_by_parts is None else frozenset(self.integration_by_parts)

    @cached_property
    def fixed_point(self) -> dict[str, sp.Expr] | None:
        """theta_j = F_j(theta) for every j, or None if no complete set exists.

        Equation i may give variable j when, with the Gaussian averages held
        fixed, it is linear in theta_j. The assignment of equations to
        variables is a perfect matching; conjugate pairings (i != j) are
        preferred, as in the usual q <- q_hat, q_hat <- q iterations.
        """
        if self.numeric_hessian:  # ladders: Newton on the exact gradient
            return None
        theta = self.theta
        candidates: dict[tuple[int, int], sp.Expr] = {}
        for i, eq in enumerate(self.gradient):
            for j, var in enumerate(theta):
                sol = _solve_linear_outside_averages(eq, var)
                if sol is not None:
                    candidates[(i, j)] = sol
        n = len(theta)
        perms = sorted(itertools.permutations(range(n)), key=lambda p: sum(i == j for i, j in enumerate(p)))
        for perm in perms:
            if all((i, j) in candidates for i, j in enumerate(perm)):
                return {theta[j].name: candidates[(i, j)] for i, j in enumerate(perm)}
        return None

    @cached_property
    def equations(self) -> list[sp.Expr]:
        """G(theta) = 0 at the saddle point: theta - F(theta), else the (scaled) gradient."""
        fp = self.fixed_point
        if fp is None:
            scaled = [self.equation_scales.get(t.name, 1) * g for t, g in zip(self.theta, self.gradient, strict=True)]
            return [sp.expand_mul(g) if t.name in self.equation_scales else g for t, g in zip(self.theta, scaled)]
        return [t - fp[t.name] for t in self.theta]

    @property
    def equations_kind(self) -> str:
        return "fixed_point" if self.fixed_point is not None else "gradient"

    @cached_property
    def jacobian(self) -> list[list[sp.Expr]]:
        """dG_i / d theta_j (plain chain rule, see ``hessian``)."""
        if self.fixed_point is None:
            if not self.equation_scales:
                return self.hessian
            hess, eqs, theta = self.hessian, self.equations, self.theta
            return [
                [sp.diff(eqs[i], tj) if ti.name in self.equation_scales else hess[i][j] for j, tj in enumerate(theta)]
                for i, ti in enumerate(theta)
            ]
        fp = self.fixed_point
        return [
            [sp.Integer(i == j) - sp.diff(fp[ti.name], tj) for j, tj in enumerate(self.theta)]
            for i, ti in enumerate(self.theta)
        ]

    @cached_property
    def hessian(self) -> list[list[sp.Expr]]:
        """d^2 phi / d theta_i d theta_j (symmetric; computed once per pair).

        Second derivatives feed only the numerics (Newton, stability), so they
        are the plain chain rule of the canonical gradient: putting them in
        canonical form too costs minutes for nested (RSB) averages and buys
        nothing that the lowering's common-subexpression pass does not.
        """
        n = len(self.theta)
        rows: list[list[sp.Expr]] = [[sp.S.Zero] * n for _ in range(n)]
        for i in range(n):
            for j in range(i, n):
                rows[i][j] = rows[j][i] = sp.diff(self.gradient[i], self.theta[j])
        return rows

    @cached_property
    def control_partials(self) -> dict[str, sp.Expr]:
        """d phi / d c at fixed theta (and fixed given values), for every control parameter c that is not structural."""
        return {c.name: derivative(self.phi, c.symbol, self._stein) for c in self.controls if not c.structural}

    @cached_property
    def given_partials(self) -> list[sp.Expr]:
        """d phi / d g at fixed theta for the given values g of the reference saddle."""
        return [derivative(self.phi, g, self._stein) for g in self.given]

    def equation_partials(self, control: str) -> list[sp.Expr]:
        """d G_i / d c at fixed theta: how the saddle-point system moves with a control.

        Continuation past a fold (where dG/dtheta is singular) and the
        sensitivity of a reference saddle to the controls use it.
        """
        c = sp.Symbol(control, real=True)
        return [sp.diff(g, c) for g in self.equations]

    def bound_coefficient(self, kind: str) -> sp.Expr:
        """C(c) in phi ~ C / eps as the order parameter of ``kind`` reaches its bound."""
        limit = self.bound_limits[kind]
        if limit.coefficient is not None:
            return limit.coefficient
        symbol = sp.Symbol(limit.order_parameter, real=True)
        return bound_coefficient(self.phi, symbol, limit.bound)

    def average_count(self) -> int:
        return len(self.phi.atoms(*AVERAGES))


def _solve_linear_outside_averages(eq: sp.Expr, var: sp.Symbol) -> sp.Expr | None:
    """var = F if eq = 0 is linear in the occurrences of var outside averages."""
    avgs = sorted(eq.atoms(*OPAQUE), key=sp.default_sort_key)
    dummies = [sp.Dummy() for _ in avgs]
    opaque = eq.xreplace(dict(zip(avgs, dummies, strict=False)))
    if var not in opaque.free_symbols:
        return None
    numerator = sp.numer(sp.together(opaque))
    try:
        poly = sp.Poly(sp.expand(numerator), var)
    except sp.PolynomialError:
        return None
    if poly.degree() != 1:
        return None
    c1, c0 = poly.coeff_monomial(var), poly.coeff_monomial(1)
    if c1.has(var) or c0.has(var) or c1 == 0:
        return None
    sol = sp.factor(-c0 / c1)
    if sol.is_number:  # eq = var * (...): a root (e.g. the trivial var = 0), not an iteration
        return None
    return sol.xreplace(dict(zip(dummies, avgs, strict=False)))


def additive_terms(expr: sp.Expr, symbols: frozenset[sp.Symbol]) -> list[sp.Expr]:
    """expr as a list of terms that sum to it, factors free of ``symbols`` distributed over sums.

    c (a + b) is the two terms c a and c b when c holds none of ``symbols``; a product of two
    factors that both hold them is one term (it is not expanded).
    """
    if isinstance(expr, sp.Add):
        return [t for arg in expr.args for t in additive_terms(arg, symbols)]
    if isinstance(expr, sp.Mul):
        inner = [f for f in expr.args if f.free_symbols & symbols]
        if len(inner) == 1 and isinstance(inner[0], sp.Add):
            rest = sp.Mul(*[f for f in expr.args if f is not inner[0]])
            return [rest * t for t in additive_terms(inner[0], symbols)]
    return [expr]
