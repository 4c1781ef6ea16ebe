"""The local entropy of the perceptron: dense regions of solutions (large-deviation measure).

Local entropy of a reference W~: S_I(W~, d) = (1/N) ln #{solutions W at distance d from W~},
p = W.W~/N = 1 - 2d (binary: d is the Hamming fraction). References are weighted by
N(W~, d)^y (Baldassi, Ingrosso, Lucibello, Saglietti, Zecchina 2015; the robust ensemble),
here unconstrained (the reference need not be a solution: variant U of the specification),
with the free entropy Phi(d, y) = E ln sum_W~ N(W~, d)^y / N and its Legendre structure

    S_I = d Phi / d y  (the local entropy of the dominant references),
    S_E = Phi - y S_I  (their log-number, the external entropy; >= 0 where RS is consistent).

Replicas: each reference carries y constrained replicas, a 1RSB-like structure with Parisi
parameter y; q0 (q1) is the overlap of constrained replicas of different (the same) references.
With dq = y (q1 - q0) and dq_hat = y (q1_hat - q0_hat) (finite as y -> infinity):

finite y (binary):
    Phi = extr { -y p_hat p - (y/2) q1_hat [1 + (y - 1) q1] + (y^2/2) q0_hat q0 + G_S + alpha G_E }
    G_S = E_z ln sum_{W~ = +-1} E_zeta [2cosh(sqrt(q0_hat) z + sqrt(q1_hat - q0_hat) zeta + p_hat W~)]^y
    G_E = E_z ln E_zeta H((kappa - sqrt(q0) z - sqrt(q1 - q0) zeta)/sqrt(1 - q1))^y

(``LogAvgExp``: the inner averages are log-mean-exps; the W~ sum is a ``logaddexp``; z is
integrated on a sinh-mapped rule centred on z = 0, where the two W~ branches switch over a
width ~ 1/y). S_I is the partial derivative in y at fixed order parameters (envelope theorem).

y = inf (binary; ``y: inf`` in a config): the frozen limit, the zeta averages become Laplace
maxima (``Maximum``):

    S_I = extr { -p_hat p - q0_hat (1 - q0)/2 - (q0_hat dq + q0 dq_hat)/2
                 + E_z max_{W~, u} [ln 2cosh(sqrt(q0_hat) z + u + p_hat W~) - u^2/(2 dq_hat)]
                 + alpha E_z max_v [ln H((kappa - sqrt(q0) z - v)/sqrt(1 - q0)) - v^2/(2 dq)] }

The entropic maximum is even in its field and grows with its modulus, so for p_hat >= 0 the
best W~ is sign(z) and the term is 2 int_0^inf Dz g(sqrt(q0_hat) z + p_hat): an average over
the half line (``TruncatedAvg`` at 0: no kink in z). The frozen branch exists for p_hat >= 0
only; p_hat reaching 0 as alpha grows is the loss of dense regions (transition kind
``dense_region_loss``, alpha_U). For a field a >= 0 the maximiser u lies in [0, dq_hat] (the maximum
over u of a concave-then-linear difference), and v in [0, dq R(X(0))/sqrt(1 - q0)]. The maximum
over u in [0, dq_hat] continues the frozen branch analytically to p_hat < 0 (the u > 0 local
maximum), so that p_hat crosses zero as a regular root: the end of the physical branch.

y = inf (spherical, log-volumes relative to the sphere): the reference sits at the centre of
mass of its cap, q0 = p^2, and

    S_I = stat_{dq > 0} { (1/2) ln(1 - p^2) + p^2/(2(1 - p^2 + dq))
                          + alpha E_z max_v [ln H((kappa - p z - v)/sqrt(1 - p^2)) - v^2/(2 dq)] }

valid for p above sqrt(q_eq) (below, the plateau value s_eq applies; not declared here).
"""

from __future__ import annotations

import math
from dataclasses import replace

import sympy as sp

from ..symbolic import (
    ControlParameter,
    FreeEnergy,
    GaussAvg,
    LogAvgExp,
    Maximum,
    Mills,
    OrderParameter,
    TruncatedAvg,
    log2cosh,
    logaddexp,
    logH,
)
from .perceptron import perceptron

OPTIONS = {"weights": ("binary", "spherical")}

LABELS = {
    "alpha": r"$\alpha$ (patterns per weight)",
    "kappa": r"$\kappa$ (margin)",
    "d": r"distance $d$ to the reference",
    "y": r"$y$ (weight of the local entropy)",
    "Phi": r"free entropy $\Phi(d, y)$",
    "F": r"$F = \Phi/y$",
    "S_I": r"local entropy $S_I$",
    "S_E": r"external entropy $S_E$",
    "p": r"overlap $p = 1 - 2d$",
    "q0": r"overlap $q_0$ (replicas of different references)",
    "q1": r"overlap $q_1$ (replicas of one reference)",
    "dq": r"$\delta q = y(q_1 - q_0)$",
    "q0_hat": r"conjugate $\hat q_0$",
    "q1_hat": r"conjugate $\hat q_1$",
    "dq_hat": r"$\delta\hat q = y(\hat q_1 - \hat q_0)$",
    "p_hat": r"conjugate $\hat p$",
    "H2": r"$H_2(d)$ (all configurations at distance d)",
    "s_eq": r"equilibrium entropy $s_{eq}$",
}

ALPHA, KAPPA, D, Y = sp.symbols("alpha kappa d y", real=True)
P = 1 - 2 * D
Q0, DQ, Q0_HAT, DQ_HAT, P_HAT = sp.symbols("q0 dq q0_hat dq_hat p_hat", real=True)
Q_EQ, Q_EQ_HAT = sp.symbols("q_eq q_eq_hat", real=True)
H2 = -D * sp.log(D) - (1 - D) * sp.log(1 - D)


def is_infinite(y) -> bool:
    """Whether a config's value of y is the frozen limit (``y: inf``, ``.inf``, the string 'inf')."""
    if isinstance(y, str):
        return y.strip().lower().lstrip("+.") in ("inf", "infinity")
    return isinstance(y, float) and math.isinf(y) and y > 0


def controls(frozen: bool) -> list[ControlParameter]:
    y = (
        ControlParameter("y", math.inf, math.inf, math.inf, "y = inf: the frozen limit (local entropy proper)")
        if frozen
        else ControlParameter("y", None, 0.0, math.inf, "weight y of the local entropy (Parisi parameter)", True)
    )
    return [
        ControlParameter("alpha", None, 0.0, math.inf, "number of patterns per weight, P/N"),
        ControlParameter("kappa", 0.0, -math.inf, math.inf, "margin (stability threshold)"),
        ControlParameter("d", None, 0.0, 0.5, "distance to the reference, p = 1 - 2d", lower_open=True),
        y,
    ]


def local_entropy(options: dict, params: dict | None = None) -> FreeEnergy:
    """Phi(d, y), S_I, S_E of the perceptron; options weights (binary | spherical); y = inf: the frozen form."""
    weights = options.get("weights", "binary")
    frozen = is_infinite((params or {}).get("y"))
    if weights == "spherical":  # only the frozen limit is declared: its y takes the one value inf
        return spherical_frozen()
    return binary_frozen() if frozen else binary_finite()


def equilibrium_reference() -> FreeEnergy:
    """The binary perceptron's RS saddle point (q_eq, q_eq_hat): the y = 1 solution, and starting values."""
    fe = perceptron({"weights": "binary", "ansatz": "rs"})
    names = {"q": "q_eq", "q_hat": "q_eq_hat"}
    symbols = {sp.Symbol(a, real=True): sp.Symbol(b, real=True) for a, b in names.items()}
    return FreeEnergy(
        name="perceptron",
        phi=fe.phi.xreplace(symbols),
        order_parameters=[replace(p, name=names[p.name]) for p in fe.order_parameters],
        controls=[c for c in fe.controls if c.name in ("alpha", "kappa")],
        description="binary perceptron, equilibrium (RS)",
    )


# the equilibrium entropy at the reference saddle (q_eq, q_eq_hat): the plateau value of S_I(inf)
S_EQ = equilibrium_reference().phi


def energetic_maximum(z: sp.Symbol, q0: sp.Expr, dq: sp.Expr) -> sp.Expr:
    """max_v [ln H((kappa - sqrt(q0) z - v)/sqrt(1 - q0)) - v^2/(2 dq)] (concave in v: one maximiser)."""
    v = sp.Symbol("v", real=True)
    x0 = (KAPPA - sp.sqrt(q0) * z) / sp.sqrt(1 - q0)
    body = logH((KAPPA - sp.sqrt(q0) * z - v) / sp.sqrt(1 - q0)) - v**2 / (2 * dq)
    return Maximum(body, v, 0, dq * Mills(x0) / sp.sqrt(1 - q0))


def order_parameters(dq_name: str = "dq") -> list[OrderParameter]:
    return [
        OrderParameter("q0", 0.3, 0.0, 1.0, description="overlap of constrained replicas of different references"),
        OrderParameter(dq_name, 1.0, 0.0, math.inf, description="y (q1 - q0): spread of a reference's replicas"),
        OrderParameter("q0_hat", 0.3, 0.0, math.inf, description="conjugate of q0"),
        OrderParameter("dq_hat", 1.0, 0.0, math.inf, description="y (q1_hat - q0_hat)"),
        OrderParameter("p_hat", 0.5, description="conjugate of p (Lagrange multiplier of the distance)"),
    ]


def binary_frozen() -> FreeEnergy:
    x, z, u = sp.symbols("x z u", real=True)
    # for a field a = sqrt(q0_hat) x + p_hat >= 0 the global maximiser lies in [0, dq_hat]; the same
    # interval continues the branch analytically to p_hat < 0 (where dense_region_loss finds p_hat = 0)
    g = Maximum(log2cosh(sp.sqrt(Q0_HAT) * x + P_HAT + u) - u**2 / (2 * DQ_HAT), u, 0, DQ_HAT)
    g_s = TruncatedAvg(g, x, 0)  # E_z max_W~ = 2 int_0^inf Dz (the best W~ is sign z)
    g_e = GaussAvg(energetic_maximum(z, Q0, DQ), z)
    phi = -P_HAT * P - Q0_HAT * (1 - Q0) / 2 - (Q0_HAT * DQ + Q0 * DQ_HAT) / 2 + g_s + ALPHA * g_e
    return FreeEnergy(
        name="local_entropy",
        phi=phi,
        order_parameters=order_parameters(),
        controls=controls(frozen=True),
        observables={"S_I": phi, "p_hat": P_HAT, "q0_hat": Q0_HAT, "p": P, "H2": H2, "s_eq": S_EQ},
        labels=LABELS,
        description="binary perceptron, local entropy S_I(d) at y = inf (frozen RS, unconstrained reference)",
        reference=equilibrium_reference(),
        integration_by_parts=(),
        initial=frozen_initial(),
        # q0_hat -> 0 in the dense limit: its equation carries 1/sqrt(q0_hat)
        equation_scales={"q0_hat": sp.sqrt(Q0_HAT)},
        plateau=binary_plateau(),
        nonnegative={"p_hat": "past the end of the frozen branch (analytic continuation, no dense region)"},
    )


def binary_plateau() -> FreeEnergy:
    """The plateau of the frozen local entropy: S_I = s_eq for d >= d*.

    The clipped centre of mass sign(m) of the typical solutions lies at overlap
    p* = E|tanh(sqrt(q_eq_hat) z)| from them (d* = (1 - p*)/2); for p <= p* a reference
    at distance d from typical solutions exists, the constraint does not bind (p_hat = 0,
    dq = dq_hat = 0, q0 = q_eq) and S_I is the equilibrium entropy. Holds where
    p* - p >= 0 (``plateau_holds``); E|tanh| as the average over the half line x >= 0
    (no kink at z = 0).
    """
    x = sp.Symbol("x", real=True)
    p_star = TruncatedAvg(sp.tanh(sp.sqrt(Q_EQ_HAT) * x), x, 0)
    zero = sp.S.Zero
    return FreeEnergy(
        name="local_entropy",
        phi=S_EQ,
        order_parameters=[],
        controls=controls(frozen=True),
        observables={
            "S_I": S_EQ,
            "p_hat": zero,
            "q0_hat": Q_EQ_HAT,
            "p": P,
            "H2": H2,
            "s_eq": S_EQ,
            "q0": Q_EQ,
            "dq": zero,
            "dq_hat": zero,
            "plateau_holds": p_star - P,
            "d_star": (1 - p_star) / 2,
        },
        labels=LABELS,
        description="d >= d*: S_I = s_eq",
        reference=equilibrium_reference(),
    )


def frozen_initial() -> dict[str, sp.Expr]:
    """A start between the dense limit (q0 = p^2, q0_hat = 0) and the equilibrium (q0 = q_eq)."""
    return {
        "q0": (P**2 + Q_EQ) / 2,
        "q0_hat": Q_EQ_HAT / 2,
        "dq": sp.Rational(1),
        "dq_hat": sp.Rational(1),
        "p_hat": sp.atanh(P) / 2,
    }


def binary_finite() -> FreeEnergy:
    z, zeta, z2, zeta2 = sp.symbols("z zeta z2 zeta2", real=True)
    q1, q1_hat = Q0 + DQ / Y, Q0_HAT + DQ_HAT / Y

    def branch(w: int) -> sp.Expr:
        field = sp.sqrt(Q0_HAT) * z + sp.sqrt(DQ_HAT / Y) * zeta + P_HAT * w
        return LogAvgExp(Y * log2cosh(field), zeta)

    g_s = GaussAvg(logaddexp(branch(1), branch(-1)), z)
    g_e = GaussAvg(
        LogAvgExp(Y * logH((KAPPA - sp.sqrt(Q0) * z2 - sp.sqrt(DQ / Y) * zeta2) / sp.sqrt(1 - q1)), zeta2), z2
    )
    phi = -Y * P_HAT * P - Y / 2 * q1_hat * (1 + (Y - 1) * q1) + Y**2 / 2 * Q0_HAT * Q0 + g_s + ALPHA * g_e
    s_i = sp.diff(phi, Y)
    return FreeEnergy(
        name="local_entropy",
        phi=phi,
        order_parameters=order_parameters(),
        controls=controls(frozen=False),
        observables={
            "Phi": phi,
            "S_I": s_i,
            "S_E": phi - Y * s_i,
            "F": phi / Y,
            "p_hat": P_HAT,
            "q0_hat": Q0_HAT,
            "q1": q1,
            "q1_hat": q1_hat,
            "p": P,
            "H2": H2,
            "s_eq": S_EQ,
        },
        labels=LABELS,
        description="binary perceptron, local-entropy free entropy Phi(d, y) (RS, unconstrained reference)",
        reference=equilibrium_reference(),
        integration_by_parts=(),
        # the W~ = +-1 branches of G_S switch at z = 0 over a width ~ 1/y
        scales={"z": (sp.S.Zero, sp.Min(1, 1 / Y))},
        initial={
            "q0": Q_EQ,
            "q0_hat": Q_EQ_HAT,
            "dq": Y * (1 - Q_EQ) / 2,
            "dq_hat": Y * Q_EQ_HAT / 2,
            "p_hat": sp.atanh(P),
        },
    )


def spherical_frozen() -> FreeEnergy:
    z = sp.Symbol("z", real=True)
    q0 = P**2
    phi = sp.log(1 - q0) / 2 + q0 / (2 * (1 - q0 + DQ)) + ALPHA * GaussAvg(energetic_maximum(z, q0, DQ), z)
    return FreeEnergy(
        name="local_entropy",
        phi=phi,
        order_parameters=[
            OrderParameter("dq", 0.5, 0.0, math.inf, description="spread of the replicas in the reference's cap"),
        ],
        controls=controls(frozen=True),
        observables={"S_I": phi, "p": P, "q0": q0, "cap": sp.log(1 - q0) / 2},
        labels=LABELS | {"cap": r"cap volume $\frac{1}{2}\ln(1-p^2)$"},
        description="spherical perceptron, local entropy S_I(p) at y = inf (frozen RS, reference at the centre)",
        extremum="min",  # an interior minimum in dq (dq -> inf is the empty cap, S_I -> its volume)
        integration_by_parts=(),
    )
