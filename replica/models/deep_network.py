"""Yoshino's deep perceptron network: a Gardner volume with a Parisi ladder per layer.

L + 1 layers of +-1 neurons (l = 0 input, l = L output), every neuron of layer l >= 1 a
perceptron with c spherical weights on the neurons of layer l - 1 and the hard-core
constraint that its gap S_l (J . S_{l-1}) / sqrt(c) - kappa is positive on every pattern;
the hidden neurons are traced, the input and output layers are clamped by the data.
Dense limit N >> c >> 1, alpha = M/c. Per layer the overlaps of two replicas are
q(l) (spins, l = 1..L-1) and Q(l) (weights, l = 1..L), with q(0) = q(L) = 1 (clamped);
the gap of layer l has the replica covariance p(l) = q(l-1) Q(l) q(l).

Free entropy per neuron and pattern (docs/deep_network.md, eq. (5)), on a common
ladder 0 = m_0 < m_1 <= ... <= m_K < m_{K+1} = 1 with levels i = 0..K in every layer:

    phi = (1/alpha) sum_{l=1}^{L} S_bond[Q(l)]
        + sum_{l=1}^{L-1} { (1/2) sum_i (m_{i+1} - m_i) q_hat_i(l) q_i(l) - q_hat_K(l)/2 + T[q_hat(l)] }
        + sum_{l=1}^{L} F[p(l)],

    S_bond[Q] = (1/2)[ln lam_K + Q_0/lam_0 + sum_i (1/m_i) ln(lam_{i-1}/lam_i)],
                lam_K = 1 - Q_K, lam_{i-1} = lam_i + m_i (Q_i - Q_{i-1})     (Crisanti-Sommers)
    T[q_hat]  = the Parisi ladder of ln 2cosh(h) over q_hat_0 .. q_hat_K    (Ising spins)
    F[p]      = the Parisi ladder of ln H((kappa - h)/sqrt(1 - p_K)) over p_0 .. p_K   (the gap)

RS (K = 0): phi = (1/alpha) sum_l [ln(1 - Q_l)/2 + Q_l/(2(1 - Q_l))]
                 + sum_l [-q_hat_l (1 - q_l)/2 + E_z ln 2cosh(sqrt(q_hat_l) z)]
                 + sum_l E_z ln H((kappa - sqrt(p_l) z)/sqrt(1 - p_l)).

L = 1 is the spherical perceptron: alpha phi is its entropy per weight (same numbers).

A spin layer whose q = q_hat = 0 (and the weights into and out of it, Q = 0) is *liquid*:
a stationary point at every alpha (gauge symmetry). The liquid layer l is unstable where

    glass_l = alpha R(kappa)^4 (q_EA(l-1)^2 + q_EA(l+1)^2) - 1 > 0,    R = G/H,

the quadratic form of (Q(l), q(l), Q(l+1)) around zero (docs/deep_network.md, eq. (8));
q_EA(0) = q_EA(L) = 1. For L >= 3 the first transition is alpha_g(1) = 1/R(kappa)^4
(kappa = 0: pi^2/4), for L = 2 it is 1/(2 R^4). The layers are declared as
``LiquidLayers`` groups (one per spin layer) with that criterion and a seed along the
instability (q ~ A, Q(l) = alpha R^2 q(l-1) q(l), q_hat = R^2 (Q(l) q(l-1) + Q(l+1) q(l+1))).

``scenario: teacher_student`` (RS only): the output layer is produced by a teacher network of the
same architecture; see ``_teacher_student``. ``weights: binary`` (J = +-1, random scenario): the
weight entropy of every layer is the Ising entropy through conjugates Q_hat (``_network``); L = 1
is the binary perceptron.

Ansatze: ``rs``; ``1rsb`` (K = 1, m an order parameter: d phi / d m = 0); ``krsb`` and
``frsb`` (the fixed uniform ladder m_i = i/(K+1), all levels free: ``frsb`` is the same
ladder with more steps, a discretisation of the continuous Parisi functions whose error
is that of K; ``ladder: refined`` narrows the steps towards x = 1, and ``breakpoints: [m_1, ...]``
gives the breakpoints themselves). The fixed-ladder equations have many stationary points (levels
merged in every pattern); the Parisi solution minimises over the overlaps (Q, q, m) after
maximising over the conjugates q_hat, which the model declares (``maximised``): the point solver descends
max_{q_hat} phi (solve/saddle.py). L = 1 is the perceptron (a plain minimum).
"""

from __future__ import annotations

import math

import sympy as sp

from ..errors import ConfigError
from ..symbolic import (
    SEED_AMPLITUDE,
    ControlParameter,
    FreeEnergy,
    GaussAvg,
    LayerLadders,
    LiquidLayers,
    Mills,
    OrderParameter,
    ParisiAverage,
    TruncatedAvg,
    held,
    log2cosh,
    logH,
)
from .perceptron_rsb import STEP_FLOOR, spherical_ladder_entropy

OPTIONS = {
    "weights": ("spherical", "binary"),
    "ansatz": ("rs", "1rsb", "krsb", "frsb"),
    "scenario": ("random", "teacher_student"),
    "ladder": ("uniform", "refined"),
}
FIXED_LADDER = (("ansatz", ("krsb", "frsb")),)
APPLIES_WHEN = {"steps": FIXED_LADDER, "ladder": FIXED_LADDER, "breakpoints": FIXED_LADDER}
INTEGER_OPTIONS = {"steps": (1, 64, "levels K of the fixed ladder (krsb: 4, frsb: 12)")}
LIST_OPTIONS = {
    "breakpoints": (
        0.0,
        1.0,
        INTEGER_OPTIONS["steps"][1],
        "the fixed ladder's breakpoints m_1 < ... < m_K, K = their number",
    )
}
EXCLUSIVE = (("breakpoints", "ladder"), ("breakpoints", "steps"))  # the breakpoints fix both
DEFAULT_STEPS = {"krsb": 4, "frsb": 12}
MAX_DEPTH = 64

LABELS = {
    "alpha": r"$\alpha = M/c$ (patterns per weight)",
    "kappa": r"$\kappa$ (margin)",
    "L": r"depth $L$",
    "free_entropy": r"free entropy $\phi$ (per neuron and pattern)",
    "dphi_dalpha": r"$\partial\phi/\partial\alpha$",
    "dphi_dkappa": r"$\partial\phi/\partial\kappa$",
}


def controls() -> list[ControlParameter]:
    return [
        ControlParameter("alpha", None, 0.0, math.inf, "patterns per weight, M/c", lower_open=True),
        ControlParameter("kappa", 0.0, -math.inf, math.inf, "margin of every gap"),
        ControlParameter("L", None, 1, MAX_DEPTH, "depth (number of weight layers)", integer=True, structural=True),
    ]


def depth(params: dict) -> int:
    """The depth L from the raw params of a config (it fixes the order parameters)."""
    if "L" not in params:
        raise ConfigError("params.L", f"missing: the depth L (an integer in [1, {MAX_DEPTH}]) fixes the model")
    value = params["L"]
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ConfigError("params.L", f"expected an integer depth, got {value!r}")
    if not 1 <= int(value) <= MAX_DEPTH:
        raise ConfigError("params.L", f"{value} is out of range: L must be in [1, {MAX_DEPTH}]")
    return int(value)


def deep_network(options: dict, params: dict) -> FreeEnergy:
    """The deep network's FreeEnergy for ``options`` and the depth ``params['L']``."""
    L = depth(params)
    weights = options.get("weights", "spherical")
    ansatz = options.get("ansatz", "rs")
    if options.get("scenario", "random") == "teacher_student":
        if weights != "spherical":
            raise ConfigError("options.weights", "the teacher_student scenario is implemented for spherical weights")
        if ansatz != "rs":
            raise ConfigError(
                "options.ansatz", "the teacher_student scenario is implemented replica symmetric only (rs)"
            )
        return _teacher_student(L)
    if ansatz == "rs":
        return _network(L, 0, None, weights)
    if ansatz == "1rsb":
        return _network(L, 1, "optimised", weights)
    if options.get("breakpoints"):
        breakpoints = tuple(sp.Rational(repr(float(m))) for m in options["breakpoints"])
        return _network(L, len(breakpoints), breakpoints, weights)
    steps = int(options.get("steps") or DEFAULT_STEPS[ansatz])
    return _network(L, steps, options.get("ladder") or "uniform", weights)


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _ladder(base: str, layer: int, steps: int) -> tuple[list[sp.Symbol], list[sp.Expr]]:
    """The order parameters of one ladder and its levels.

    RS: one overlap ``{base}_{layer}``. RSB: the lowest level ``{base}_{layer}_0`` and the
    increments ``d{base}_{layer}_i`` >= 0 (i = 1..K), level i being the sum up to i: the
    ladder cannot decrease, and merged levels (an increment at zero) stay inside the domain.
    """
    if steps == 0:
        s = _sym(f"{base}_{layer}")
        return [s], [s]
    symbols = [_sym(f"{base}_{layer}_0")] + [_sym(f"d{base}_{layer}_{i}") for i in range(1, steps + 1)]
    levels = [sum(symbols[: i + 1], sp.S.Zero) for i in range(steps + 1)]
    return symbols, levels


def _network(L: int, steps: int, ladder: str | tuple | None, weights: str = "spherical") -> FreeEnergy:
    """The free entropy (module docstring) with ``steps`` = K levels above level 0 (RS: K = 0).

    ``ladder``: None (RS), ``optimised`` (1RSB, m an order parameter), the name of a fixed ladder
    (``fixed_ladder``), or its breakpoints m_1 < ... < m_K themselves (``options.breakpoints``).

    ``weights: binary`` (J = +-1) replaces the Crisanti-Sommers entropy of every weight layer by the
    Ising entropy at overlaps Q through conjugates Q_hat, the same form as the hidden spins':
    S_bond[Q] = (1/2) sum_i (m_{i+1} - m_i) Q_hat_i Q_i - Q_hat_K/2 + T[Q_hat].
    """
    alpha, kappa = _sym("alpha"), _sym("kappa")
    levels = range(steps + 1)
    Q_sym, Q = {}, {}
    q_sym, q, q_hat_sym, q_hat = {}, {}, {}, {}
    Q_hat_sym, Q_hat = {}, {}
    binary = weights == "binary"
    for l in range(1, L + 1):
        Q_sym[l], Q[l] = _ladder("Q", l, steps)
        if binary:
            Q_hat_sym[l], Q_hat[l] = _ladder("Q_hat", l, steps)
    for l in range(1, L):
        q_sym[l], q[l] = _ladder("q", l, steps)
        q_hat_sym[l], q_hat[l] = _ladder("q_hat", l, steps)
    q[0] = q[L] = [sp.S.One] * (steps + 1)
    if ladder == "optimised":
        ms = [_sym("m")]
    elif isinstance(ladder, tuple):
        ms = list(ladder)
    else:
        ms = fixed_ladder(steps, ladder) if steps else []
    mm = [sp.S.Zero, *ms, sp.S.One]
    p = {l: [q[l - 1][i] * Q[l][i] * q[l][i] for i in levels] for l in range(1, L + 1)}

    def ising(x, x_hat):
        """The entropy of +-1 vectors at overlaps x, through the conjugates x_hat (a Legendre transform)."""
        return sum((mm[i + 1] - mm[i]) * x_hat[i] * x[i] for i in levels) / 2 - x_hat[-1] / 2 + _spins(x_hat, ms)

    if binary:
        bond = sum(ising(Q[l], Q_hat[l]) for l in range(1, L + 1))
    else:
        bond = sum(_bond(Q[l], ms) for l in range(1, L + 1))
    spin = sum(ising(q[l], q_hat[l]) for l in range(1, L))
    gap = sum(_gap(p[l], ms, kappa) for l in range(1, L + 1))
    phi = bond / alpha + spin + gap

    ops: list[OrderParameter] = []

    def declare(symbols, upper: float, what: str, start: bool) -> None:
        """Order parameters of one ladder; ``start``: a rising ladder (L = 1), else zero (liquid)."""
        for i, s in enumerate(symbols):
            init = (0.3 if i == 0 else 0.6 / steps) if start else 0.0
            part = "" if steps == 0 else (", lowest level" if i == 0 else f", increment of level {i}")
            ops.append(OrderParameter(s.name, init, 0.0, upper, lower_closed=True, description=what + part))

    for l in range(1, L + 1):
        declare(Q_sym[l], 1.0, f"weight overlap of layer {l}", L == 1)
        if binary:
            declare(Q_hat_sym[l], math.inf, f"conjugate of the weight overlap of layer {l}", L == 1)
    for l in range(1, L):
        declare(q_sym[l], 1.0, f"spin overlap of layer {l}", False)
        declare(q_hat_sym[l], math.inf, f"conjugate of the spin overlap of layer {l}", False)
    if ladder == "optimised":
        ops.append(OrderParameter("m", 0.5, STEP_FLOOR, 1.0, True, True, description="Parisi parameter m"))

    R2 = Mills(kappa) ** 2
    observables: dict[str, sp.Expr] = {"free_entropy": phi}
    for l in range(1, L):
        observables[f"q_{l}"] = q[l][-1]
    for l in range(1, L + 1):
        observables[f"Q_{l}"] = Q[l][-1]
    for l in range(1, L):
        observables[f"glass_{l}"] = alpha * R2**2 * (q[l - 1][-1] ** 2 + q[l + 1][-1] ** 2) - 1

    labels = dict(LABELS)
    for l in range(1, L):
        labels[f"q_{l}"] = rf"$q_{{\rm EA}}({l})$"
        labels[f"glass_{l}"] = rf"$\alpha R^4 (q_{{{l - 1}}}^2 + q_{{{l + 1}}}^2) - 1$"
    for l in range(1, L + 1):
        labels[f"Q_{l}"] = rf"$Q_{{\rm EA}}({l})$"

    symbols = (Q_sym, q_sym, q_hat_sym, Q_hat_sym)
    layers = _liquid_layers(L, steps, symbols, Q, q, R2, alpha, ladder == "optimised") if L > 1 else None
    what = {0: "replica symmetric"}.get(
        steps, f"{steps}-step RSB" + (" (m optimised)" if ladder == "optimised" else "")
    )
    if ladder == "uniform":
        what += f" on the fixed ladder m_i = i/{steps + 1}"
    elif ladder == "refined":
        what += f" on the fixed ladder m_i = 1 - (1 - i/{steps + 1})^2"
    elif isinstance(ladder, tuple):
        what += " on the fixed ladder m = (" + ", ".join(f"{float(m):g}" for m in ladder) + ")"
    return FreeEnergy(
        name="deep_network",
        phi=phi,
        order_parameters=ops,
        controls=controls(),
        observables=observables,
        labels=labels,
        description=f"deep perceptron network of depth {L}, {weights} weights, random data, {what}",
        difference_jacobian=True,
        layers=layers,
        # L = 1 is the spherical perceptron, a minimum in Q. Deeper, the spins' conjugates make it a
        # saddle: RS is solved as a root of the gradient; an RSB ladder as min over (Q, q) of max over
        # q_hat, which picks the Parisi solution among the fixed ladder's stationary points
        extremum="min" if (L == 1 and not binary) or steps > 0 else None,
        maximised=tuple(s.name for x in (q_hat_sym, Q_hat_sym) for syms in x.values() for s in syms) if steps else (),
        layer_ladders=LayerLadders(tuple(ms), {"q": {l: tuple(q[l]) for l in range(L + 1)}, "Q": Q}) if steps else None,
    )


def fixed_ladder(steps: int, ladder: str) -> list[sp.Rational]:
    """The fixed breakpoints m_1 < ... < m_K of ``ladder`` (validated as ``options.ladder``), K = ``steps``.

    ``uniform``: m_i = i/(K + 1). ``refined``: m_i = 1 - (1 - i/(K + 1))^2, steps that shrink
    linearly towards x = 1, where the deeper layers order (a layer l turns glassy first at the
    largest x, where its neighbour's q(x, l - 1) is largest), with the same number of levels.
    """
    x = [sp.Rational(i, steps + 1) for i in range(1, steps + 1)]
    return {"uniform": x, "refined": [1 - (1 - xi) ** 2 for xi in x]}[ladder]


def _bond(Q: list, ms: list) -> sp.Expr:
    """S_bond[Q]: the entropy of spherical weight vectors with overlap ladder Q (Crisanti-Sommers)."""
    if not ms:
        return sp.log(1 - Q[0]) / 2 + Q[0] / (2 * (1 - Q[0]))
    return spherical_ladder_entropy(Q, ms, 1 - Q[-1]) + sp.log(1 - Q[-1]) / 2


def _spins(q_hat: list, ms: list) -> sp.Expr:
    """T[q_hat]: E ln 2cosh over the field ladder q_hat (Ising spins).

    The ladder is written in u = h / sqrt(S), S = q_hat_K + 1, so that its top variance stays
    below one on the kernel's grid and a liquid layer (q_hat = 0) is the plain value ln 2. S only
    sets the grid's units (T does not depend on it in exact arithmetic), so it is held fixed under
    differentiation (``held``): the level equations are then the Parisi form at every level, and
    merged levels stay exactly stationary (with S differentiated, the top level's equation differs
    from the others' by the grid's error, ~1e-10, and merged top levels split by that much).
    """
    if not ms:
        z = _sym("z")
        return GaussAvg(log2cosh(sp.sqrt(q_hat[0]) * z), z)
    scale = held(q_hat[-1] + 1)
    u = _sym("u")
    return ParisiAverage(log2cosh(sp.sqrt(scale) * u), u, [x / scale for x in q_hat], ms)


def _gap(p: list, ms: list, kappa: sp.Symbol) -> sp.Expr:
    """F[p]: the hard core of one layer's gaps, ln H((kappa - h)/sqrt(1 - p_K)) over the ladder p."""
    if not ms:
        z = _sym("z")
        return GaussAvg(logH((kappa - sp.sqrt(p[0]) * z) / sp.sqrt(1 - p[0])), z)
    u = _sym("u")
    return ParisiAverage(logH((kappa - u) / sp.sqrt(1 - p[-1])), u, p, ms)


def _liquid_layers(L: int, steps: int, symbols, Q, q, R2, alpha, shared_m: bool) -> LiquidLayers:
    """One group per hidden spin layer: its q, q_hat and the weights into and out of it."""
    Q_sym, q_sym, q_hat_sym, Q_hat_sym = symbols
    spins = {l: [s.name for s in (*q_sym[l], *q_hat_sym[l])] for l in range(1, L)}
    weights = {l: [s.name for s in (*Q_sym[l], *Q_hat_sym.get(l, ()))] for l in range(1, L + 1)}
    seeds = [_seed(l, steps, symbols, Q, q, R2, alpha) for l in range(1, L)]
    return _layer_groups(L, spins, weights, seeds, ("m",) if shared_m else ())


def _layer_groups(L: int, spins: dict[int, list[str]], weights: dict[int, list[str]], seeds, shared=()) -> LiquidLayers:
    """The LiquidLayers of a network of depth L: one group per hidden spin layer l = 1..L-1, owning the
    order parameters ``spins[l]``; the weights ``weights[l]`` into layer l couple the hidden layers l - 1
    and l, and are free only where both are glassy (the clamped layers 0 and L are not groups)."""
    requires: dict[str, tuple[int, ...]] = {}
    for l, names in spins.items():
        for name in names:
            requires[name] = (l - 1,)
    for l, names in weights.items():
        hidden = tuple(g - 1 for g in (l - 1, l) if 1 <= g <= L - 1)
        for name in names:
            requires[name] = hidden
    return LiquidLayers(
        groups=tuple(f"layer {l}" for l in range(1, L)),
        requires=requires,
        criterion=tuple(f"glass_{l}" for l in range(1, L)),
        seeds=tuple(seeds),
        shared=tuple(shared),
    )


def _seed(l: int, steps: int, symbols, Q, q, R2, alpha) -> dict[str, sp.Expr]:
    """Layer l along the instability of its liquid, at amplitude A (SEED_AMPLITUDE).

    Level i of the new layer is weighted by w_i = (q_i(l-1)^2 + q_i(l+1)^2) / (top value)
    (the levels where the neighbours are ordered go first) times (i + 1)/(K + 1) (a ladder
    that rises: a flat one is the RS point), q_i(l) = A w_i sqrt(top value) (a layer orders
    less than its ordered neighbours), and the weights and conjugates
    follow the linearised equations: Q_i(l) = x/(1 + x) with x = alpha R^2 q_i(l-1) q_i(l)
    (the RS form Q/(1 - Q) = x, which stays below one), q_hat_i(l) = R^2 (Q_i(l) q_i(l-1) +
    Q_i(l+1) q_i(l+1)); binary weights: Q_hat_i(l) = x. Ladders are given by their lowest level and
    increments.
    """
    Q_sym, q_sym, q_hat_sym, Q_hat_sym = symbols
    top = q[l - 1][-1] ** 2 + q[l + 1][-1] ** 2
    new_q, into, out_of, conj, hat_in, hat_out = [], [], [], [], [], []
    for i in range(steps + 1):
        w = (q[l - 1][i] ** 2 + q[l + 1][i] ** 2) / top * sp.Rational(i + 1, steps + 1)
        qi = SEED_AMPLITUDE * w * sp.sqrt(top)
        x_in, x_out = alpha * R2 * q[l - 1][i] * qi, alpha * R2 * q[l + 1][i] * qi
        Qi, Qo = x_in / (1 + x_in), x_out / (1 + x_out)
        new_q.append(qi)
        hat_in.append(x_in)
        hat_out.append(x_out)
        into.append(Qi)
        out_of.append(Qo)
        conj.append(R2 * (Qi * q[l - 1][i] + Qo * q[l + 1][i]))
    out: dict[str, sp.Expr] = {}
    pairs = [(q_sym[l], new_q), (Q_sym[l], into), (Q_sym[l + 1], out_of), (q_hat_sym[l], conj)]
    if Q_hat_sym:
        pairs += [(Q_hat_sym[l], hat_in), (Q_hat_sym[l + 1], hat_out)]
    for syms, values in pairs:
        for i, s in enumerate(syms):
            out[s.name] = values[0] if i == 0 else values[i] - values[i - 1]
    return out


def _teacher_student(L: int) -> FreeEnergy:
    """The teacher-student scenario, RS: the output layer is the output of a teacher network.

    The teacher has the same architecture and its gaps satisfy the same hard core; replica 0 is
    the teacher, the students' overlaps with it are r(l) (spins, r(0) = r(L) = 1: noiseless data)
    and R(l) (weights), and the gap of layer l has student-teacher covariance
    rho(l) = r(l-1) R(l) r(l). With the teacher's gap t (a standard normal above kappa) and the
    students' common field rho t + sqrt(p - rho^2) z:

        phi = (1/alpha) sum_l [ln(1 - Q_l)/2 + (Q_l - R_l^2)/(2(1 - Q_l))]
            + sum_l [-r_hat_l r_l - q_hat_l (1 - q_l)/2 + E_z ln 2cosh(r_hat_l + sqrt(q_hat_l) z)]
            + sum_l E_{t >= kappa} E_z ln H((kappa - rho_l t - sqrt(p_l - rho_l^2) z)/sqrt(1 - p_l)).

    At kappa = 0 the teacher is a sample of the students' own measure (Bayes-optimal learning):
    the saddle point is on the Nishimori line r = q, R = Q (not imposed; tested). L = 1 is the
    perceptron teacher-student problem. The generalization error of the network (sign units on
    a fresh input): the test overlap r_t(l) = (2/pi) arcsin(R_l r_t(l-1)), r_t(0) = 1, and
    epsilon_g = (1 - r_t(L))/2 (L = 1: arccos(R)/pi).
    """
    alpha, kappa = _sym("alpha"), _sym("kappa")
    z, t = _sym("z"), _sym("t")
    Q = {l: _sym(f"Q_{l}") for l in range(1, L + 1)}
    R = {l: _sym(f"R_{l}") for l in range(1, L + 1)}
    q = {l: _sym(f"q_{l}") for l in range(1, L)}
    r = {l: _sym(f"r_{l}") for l in range(1, L)}
    q_hat = {l: _sym(f"q_hat_{l}") for l in range(1, L)}
    r_hat = {l: _sym(f"r_hat_{l}") for l in range(1, L)}
    q[0] = q[L] = r[0] = r[L] = sp.S.One
    bond = sum(sp.log(1 - Q[l]) / 2 + (Q[l] - R[l] ** 2) / (2 * (1 - Q[l])) for l in range(1, L + 1))
    spin = sum(
        -r_hat[l] * r[l] - q_hat[l] * (1 - q[l]) / 2 + GaussAvg(log2cosh(r_hat[l] + sp.sqrt(q_hat[l]) * z), z)
        for l in range(1, L)
    )
    gap = sp.S.Zero
    for l in range(1, L + 1):
        p, rho = q[l - 1] * Q[l] * q[l], r[l - 1] * R[l] * r[l]
        u = (kappa - rho * t - sp.sqrt(p - rho**2) * z) / sp.sqrt(1 - p)
        gap += TruncatedAvg(GaussAvg(logH(u), z), t, kappa)
    phi = bond / alpha + spin + gap

    ops: list[OrderParameter] = []
    for l in range(1, L + 1):
        start = 0.5 if L == 1 else 0.0
        ops.append(OrderParameter(Q[l].name, start, 0.0, 1.0, lower_closed=True, description=f"weights {l}, students"))
        ops.append(OrderParameter(R[l].name, start, -1.0, 1.0, description=f"weights {l}, student-teacher"))
    for l in range(1, L):
        ops.append(OrderParameter(q[l].name, 0.0, 0.0, 1.0, lower_closed=True, description=f"spins {l}, students"))
        ops.append(OrderParameter(r[l].name, 0.0, -1.0, 1.0, description=f"spins {l}, student-teacher"))
        ops.append(
            OrderParameter(q_hat[l].name, 0.0, 0.0, math.inf, lower_closed=True, description=f"conjugate of q_{l}")
        )
        ops.append(OrderParameter(r_hat[l].name, 0.0, -math.inf, math.inf, description=f"conjugate of r_{l}"))

    R2 = Mills(kappa) ** 2
    test = sp.S.One
    for l in range(1, L + 1):
        test = 2 / sp.pi * sp.asin(R[l] * test)
    observables: dict[str, sp.Expr] = {"free_entropy": phi, "generalization_error": (1 - test) / 2}
    for l in range(1, L):
        observables[f"q_{l}"] = q[l]
        observables[f"r_{l}"] = r[l]
    for l in range(1, L + 1):
        observables[f"Q_{l}"] = Q[l]
        observables[f"R_{l}"] = R[l]
    for l in range(1, L):
        students = q[l - 1] ** 2 + q[l + 1] ** 2
        teacher = r[l - 1] ** 2 + r[l + 1] ** 2
        observables[f"glass_{l}"] = alpha * R2**2 * sp.Max(students, teacher) - 1
    labels = dict(LABELS, generalization_error=r"generalization error $\epsilon_g$")
    for l in range(1, L):
        labels[f"r_{l}"] = rf"student-teacher overlap $r({l})$"
    for l in range(1, L + 1):
        labels[f"R_{l}"] = rf"student-teacher weights $R({l})$"

    layers = None
    if L > 1:
        seeds = []
        for l in range(1, L):
            # along the instability, on the Nishimori line (r = q, R = Q, r_hat = q_hat)
            top = r[l - 1] ** 2 + r[l + 1] ** 2
            amp = SEED_AMPLITUDE * sp.sqrt(top)
            x_in, x_out = alpha * R2 * r[l - 1] * amp, alpha * R2 * r[l + 1] * amp
            into, out_of = x_in / (1 + x_in), x_out / (1 + x_out)
            conj = R2 * (into * r[l - 1] + out_of * r[l + 1])
            seeds.append(
                {
                    q[l].name: amp,
                    r[l].name: amp,
                    Q[l].name: into,
                    R[l].name: into,
                    Q[l + 1].name: out_of,
                    R[l + 1].name: out_of,
                    q_hat[l].name: conj,
                    r_hat[l].name: conj,
                }
            )
        spins = {l: [x.name for x in (q[l], r[l], q_hat[l], r_hat[l])] for l in range(1, L)}
        weights = {l: [Q[l].name, R[l].name] for l in range(1, L + 1)}
        layers = _layer_groups(L, spins, weights, seeds)
    return FreeEnergy(
        name="deep_network",
        phi=phi,
        order_parameters=ops,
        controls=controls(),
        observables=observables,
        labels=labels,
        description=f"deep perceptron network of depth {L}, spherical weights, teacher-student, replica symmetric",
        difference_jacobian=True,
        layers=layers,
    )
