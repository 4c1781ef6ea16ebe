"""The Franz-Parisi potential of the perceptron: solutions at distance d from a reference.

S_FP(d) = lim (1/N) E ln #{solutions W at distance d from a reference W~}, with overlap
p = W.W~/N = 1 - 2d (binary: d is the Hamming fraction; spherical: d = |W - W~|^2/(4N)).

``reference: equilibrium`` — random patterns, W~ drawn from the flat measure on the
solutions (Franz & Parisi 1995; Huang & Kabashima 2014). Replica symmetric, with the
reference overlap q0 (and q0_hat) fixed by the equilibrium saddle point of the perceptron,
solved first (``FreeEnergy.reference``), and constrained replicas attached to one reference:
overlaps t (with the other references) and q1 (among themselves). With
A = t/sqrt(q0), B = (p - t)/sqrt(1 - q0), C^2 = q1 - t^2/q0 - (p - t)^2/(1 - q0) and the
reference's stability x truncated at x0 = (kappa - sqrt(q0) z0)/sqrt(1 - q0) (it is a solution),

    G_E = E_z0 < E_y ln H((kappa - A z0 - B x - C y)/sqrt(1 - q1)) >_{x >= x0}

binary:    S_FP = extr [ -p_hat p + t_hat t - q1_hat (1 - q1)/2 + G_S + alpha G_E ]  over t, q1, t_hat, q1_hat, p_hat
           G_S = E_z0 (1 + tanh(sqrt(q0_hat) z0)) E_z1 ln 2cosh((t_hat/sqrt q0_hat) z0
                 + sqrt(q1_hat - t_hat^2/q0_hat) z1 + p_hat - t_hat)
spherical: S_FP = extr [ (1/2)(ln(1 - q1) + (q1 - c)/(1 - q1)) + alpha G_E ]  over t, q1,
           c = (p - t)(p + t - 2 q0 p)/(1 - q0)^2

The +t_hat t term (multiplicity n - 1 -> -1) makes the functional a saddle, not a maximum:
the engine solves its gradient = 0 with Newton, never maximises. At the typical overlap
p = q0 the exact solution is t = q1 = q0 (binary: t_hat = q1_hat = p_hat = q0_hat) and
S_FP = s_eq; there the Gaussian decomposition degenerates (C^2 = 0, q1_hat = t_hat^2/q0_hat).
So the order parameters are t, C (and t_hat, C_hat, p_hat), the signed square roots of
the variances C^2 = q1 - t^2/q0 - (p - t)^2/(1 - q0) and C_hat^2 = q1_hat - t_hat^2/q0_hat:
along a curve S_FP(d) they pass through zero linearly at the typical point (C^2 has a double
zero there, which no continuation in C^2 >= 0 crosses). The averages over the constrained
replicas' own noise are Gaussian smoothings with these variances (``GaussSmooth``), whose
derivatives are the heat-equation form d/dC^2 = (1/2) d^2/dh^2, finite at C = 0 (no
integration by parts needed: ``integration_by_parts=()``); and since phi depends on C only
through C^2, its equation is d phi/d(C^2) = 0 (``equation_scales`` 1/(2C)), without the
spurious root C = 0. q1 and q1_hat are reported as observables.

``reference: teacher`` — the teacher-student potential V(R): students in the version space
(margin kappa) of a teacher with the same prior, at overlap R = 1 - 2d with it, q and the
conjugates free: the teacher-student functional (``models.teacher_student``, Gibbs, sign
channel) with R a control. Its maxima are the teacher-student branches (R = q) and, for
binary weights, R = 1 (S_FP = 0: the teacher alone).

S_FP is the log-number of binary configurations (-> H2(d) as alpha -> 0), the log-volume
relative to the sphere for spherical weights (-> (1/2) ln(1 - p^2)). It crosses zero at
small d at ``d_min`` (transition kind ``d_min``).
"""

from __future__ import annotations

import math
from dataclasses import replace

import sympy as sp

from ..symbolic import (
    ControlParameter,
    FreeEnergy,
    GaussAvg,
    GaussSmooth,
    OrderParameter,
    TruncatedAvg,
    log2cosh,
    logH,
)
from .perceptron import perceptron
from .teacher_student import energetic, entropy_kink, student_entropy

OPTIONS = {
    "weights": ("binary", "spherical"),
    "reference": ("equilibrium", "teacher"),
}

LABELS = {
    "alpha": r"$\alpha$ (patterns per weight)",
    "kappa": r"$\kappa$ (margin)",
    "d": r"distance $d$ to the reference",
    "S_FP": r"Franz-Parisi potential $S_{FP}$",
    "p": r"overlap $p = 1 - 2d$",
    "q0": r"reference overlap $q_0$",
    "q0_hat": r"conjugate $\hat q_0$",
    "t": r"overlap $t$ (other references)",
    "q1": r"overlap $q_1$ (constrained replicas)",
    "C": r"$C$, $C^2 = q_1 - t^2/q_0 - (p-t)^2/(1-q_0)$",
    "C_hat": r"$\hat C$, $\hat C^2 = \hat q_1 - \hat t^2/\hat q_0$",
    "t_hat": r"conjugate $\hat t$",
    "q1_hat": r"conjugate $\hat q_1$",
    "p_hat": r"conjugate $\hat p$",
    "q": r"student overlap $q$",
    "q_perp": r"$q_\perp = (q - R^2)/(1 - R^2)$",
    "q_hat": r"conjugate $\hat q$",
    "R_hat": r"conjugate $\hat R$",
}

ALPHA, KAPPA, D = sp.symbols("alpha kappa d", real=True)
P = 1 - 2 * D


def controls() -> list[ControlParameter]:
    return [
        ControlParameter("alpha", None, 0.0, math.inf, "number of patterns per weight, P/N"),
        ControlParameter("kappa", 0.0, -math.inf, math.inf, "margin (stability threshold)"),
        ControlParameter("d", None, 0.0, 1.0, "distance to the reference, p = 1 - 2d", lower_open=True),
    ]


def equilibrium_reference(weights: str) -> FreeEnergy:
    """The perceptron's RS saddle point with its overlap renamed q0 (and q_hat -> q0_hat)."""
    fe = perceptron({"weights": weights, "ansatz": "rs"})
    names = {"q": "q0", "q_hat": "q0_hat"}
    symbols = {sp.Symbol(a, real=True): sp.Symbol(b, real=True) for a, b in names.items()}
    ops = [replace(p, name=names[p.name]) for p in fe.order_parameters]
    return FreeEnergy(
        name="perceptron",
        phi=fe.phi.xreplace(symbols),
        order_parameters=ops,
        controls=[c for c in fe.controls if c.name in ("alpha", "kappa")],
        description=f"{weights} perceptron, equilibrium (RS)",
    )


def franz_parisi(options: dict) -> FreeEnergy:
    """S_FP(d) of the perceptron; options weights (binary | spherical), reference (equilibrium | teacher)."""
    if options.get("reference", "equilibrium") == "teacher":
        return teacher_potential(options["weights"])
    return equilibrium_potential(options["weights"])


def equilibrium_potential(weights: str) -> FreeEnergy:
    q0, q0_hat = sp.symbols("q0 q0_hat", real=True)
    t, c, t_hat, c_hat, p_hat = sp.symbols("t C t_hat C_hat p_hat", real=True)
    z0, z1, x, y = sp.symbols("z0 z1 x y", real=True)
    a, b = t / sp.sqrt(q0), (P - t) / sp.sqrt(1 - q0)
    q1 = c**2 + t**2 / q0 + (P - t) ** 2 / (1 - q0)
    x0 = (KAPPA - sp.sqrt(q0) * z0) / sp.sqrt(1 - q0)
    inner = GaussSmooth(logH((KAPPA - y) / sp.sqrt(1 - q1)), y, a * z0 + b * x, c**2)
    g_e = GaussAvg(TruncatedAvg(inner, x, x0), z0)
    ops = [
        OrderParameter("t", 0.3, -1.0, 1.0, description="overlap of a constrained replica with another reference"),
        OrderParameter("C", 0.3, -1.0, 1.0, description="C^2 = q1 - t^2/q0 - (p - t)^2/(1 - q0), own variance"),
    ]
    observables = {"S_FP": sp.S.Zero, "p": P, "q0": q0, "q1": q1}
    if weights == "binary":
        q1_hat = c_hat**2 + t_hat**2 / q0_hat
        mean = (t_hat / sp.sqrt(q0_hat)) * z0 + p_hat - t_hat
        g_s = GaussAvg((1 + sp.tanh(sp.sqrt(q0_hat) * z0)) * GaussSmooth(log2cosh(z1), z1, mean, c_hat**2), z0)
        phi = -p_hat * P + t_hat * t - q1_hat * (1 - q1) / 2 + g_s + ALPHA * g_e
        ops += [
            OrderParameter("t_hat", 0.5, description="conjugate of t"),
            OrderParameter("C_hat", 0.3, description="C_hat^2 = q1_hat - t_hat^2/q0_hat, own field variance"),
            OrderParameter("p_hat", 0.5, description="conjugate of p (Lagrange multiplier of the distance)"),
        ]
        observables.update(q0_hat=q0_hat, q1_hat=q1_hat)
    else:
        cc = (P - t) * (P + t - 2 * q0 * P) / (1 - q0) ** 2
        phi = (sp.log(1 - q1) + (q1 - cc) / (1 - q1)) / 2 + ALPHA * g_e
    observables["S_FP"] = phi
    return FreeEnergy(
        name="franz_parisi",
        phi=phi,
        order_parameters=ops,
        controls=controls(),
        observables=observables,
        labels=LABELS,
        description=f"{weights} perceptron, Franz-Parisi potential around an equilibrium solution (RS)",
        reference=equilibrium_reference(weights),
        integration_by_parts=(),
        # the truncated reference field resolves the kink of ln H at small d; the smoothings are narrow
        quadrature_factors={"x": 2.0, "y": 0.25, "z1": 0.5},
        initial=initial_guess(weights, q0, q0_hat),
        # phi depends on C, C_hat through their squares: solve d phi / d C^2 = 0 (no spurious root C = 0)
        equation_scales={"C": 1 / (2 * c), "C_hat": 1 / (2 * c_hat)},
    )


def initial_guess(weights: str, q0: sp.Symbol, q0_hat: sp.Symbol) -> dict[str, sp.Expr]:
    """The typical point (exact at p = q0) moved towards p: t = q0 (1 - q0 + p), p_hat shifted by
    atanh(p) - atanh(q0) (its alpha -> 0 dependence); C = C_hat = 1/10, off the singular C = 0."""
    guess = {"t": q0 * (1 - q0 + P), "C": sp.Rational(1, 10)}
    if weights == "binary":
        guess.update(t_hat=q0_hat, C_hat=sp.Rational(1, 10), p_hat=q0_hat + sp.atanh(P) - sp.atanh(q0))
    return guess


def teacher_potential(weights: str) -> FreeEnergy:
    """V(R) with R = 1 - 2d; the student overlap is written q = R^2 + (1 - R^2) q_perp, so that q >= R^2
    (Cauchy-Schwarz) holds for every q_perp in [0, 1): q_perp is the overlap of the students' components
    orthogonal to the teacher (R/(1 + R) on the Nishimori line)."""
    z = sp.Symbol("z", real=True)
    q_perp = sp.Symbol("q_perp", real=True)
    q = P**2 + (1 - P**2) * q_perp
    phi = student_entropy(weights, weights, r=P, q=q) + ALPHA * energetic("sign", "gibbs", z, r=P, q=q)
    if weights == "binary":
        phi += sp.log(2)  # counting configurations: the teacher alone is S_FP = 0
    ops = [
        OrderParameter(
            "q_perp", 0.3, 0.0, 1.0, lower_closed=True, description="(q - R^2)/(1 - R^2): students beyond the teacher"
        )
    ]
    if weights == "binary":
        ops += [
            OrderParameter("q_hat", 0.5, 0.0, math.inf, lower_closed=True, description="conjugate of q"),
            OrderParameter("R_hat", 0.5, description="conjugate of R (Lagrange multiplier of the distance)"),
        ]
    return FreeEnergy(
        name="franz_parisi",
        phi=phi,
        order_parameters=ops,
        controls=controls(),
        observables={"S_FP": phi, "p": P, "q": q},
        labels=LABELS,
        description=f"{weights} teacher and students, Franz-Parisi potential V(R) around the teacher (RS)",
        # the student's step (width sqrt(1 - q)) and the teacher's label weight H(-R z/sqrt(q - R^2)), whose
        # width sqrt((1 - R^2) q_perp)/R is the narrower as alpha -> 0 (q -> R^2)
        scales={"z": (KAPPA / sp.sqrt(q), sp.Min(sp.sqrt(1 - q), sp.sqrt((1 - P**2) * q_perp) / sp.Abs(P)))}
        | ({"z_s": entropy_kink(weights)} if weights == "binary" else {}),
        equation_scales={"q_perp": (1 - q) ** 2} if weights == "spherical" else {},
    )
