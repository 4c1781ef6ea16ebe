"""The perceptron Gardner volume: storage of random patterns with a margin.

N weights, P = alpha N patterns, stabilities Delta = w.xi / sqrt(N) >= kappa.
With u(z) = (kappa - sqrt(q) z) / sqrt(1 - q), replica symmetric (RS):

spherical weights (|w|^2 = N), Gardner 1988:

    s(q) = (1/2) ln(1 - q) + q / (2 (1 - q)) + alpha E_z[ln H(u)]

binary weights (w = +-1), Gardner-Derrida 1988, Krauth-Mezard 1989:

    s(q, q_hat) = -q_hat (1 - q) / 2 + E_z[ln 2cosh(sqrt(q_hat) z)] + alpha E_z[ln H(u)]

The entropy s is the log of the fractional volume of solutions per weight
(binary: of the 2^N configurations, so s -> ln 2 as alpha -> 0). The replicon
(de Almeida-Thouless) eigenvalue, with g''(h) = -R(u)(R(u) - u)/(1 - q) the
second derivative of ln H((kappa - h)/sqrt(1 - q)) and R the inverse Mills ratio:

    spherical: lambda_R = 1 - alpha (1 - q)^2 E_z[g''^2]
    binary:    lambda_R = 1 - alpha E_z[(1 - tanh^2(sqrt(q_hat) z))^2] E_z[g''^2]

RS is stable while lambda_R > 0. The spherical capacity is the q -> 1 limit
of s (kind ``capacity``); the binary one is where s = 0 (``entropy_zero``).
"""

from __future__ import annotations

import math

import sympy as sp

from ..symbolic import (
    BoundLimit,
    ControlParameter,
    FreeEnergy,
    GaussAvg,
    LogAvgExp,
    Mills,
    OrderParameter,
    ladder_average,
    log2cosh,
    logH,
)

OPTIONS = {
    "weights": ("spherical", "binary"),
    "ansatz": ("rs", "1rsb", "krsb", "frsb"),
    "m": ("auto", "fixed"),
    "frozen": ("false", "true"),
    "regime": ("volume", "jamming"),
}
# option -> conditions (other option, its values) that must all hold for it to apply
APPLIES_WHEN = {
    "m": (("ansatz", ("1rsb",)), ("regime", ("volume",))),
    "frozen": (("ansatz", ("1rsb",)), ("weights", ("binary",))),
    "regime": (("ansatz", ("1rsb", "frsb")), ("weights", ("spherical",))),
    "steps": (("ansatz", ("krsb", "frsb")),),
}
# integer options: name -> (lowest, highest, default per ansatz)
INTEGER_OPTIONS = {"steps": (1, 400, "number of RSB steps k (krsb: 2, frsb: 24)")}
DEFAULT_STEPS = {"krsb": 2, "frsb": 24}

LABELS = {
    "alpha": r"$\alpha$ (patterns per weight)",
    "kappa": r"$\kappa$ (margin)",
    "q": r"overlap $q$",
    "q_hat": r"conjugate $\hat q$",
    "entropy": r"entropy $s$ (nats per weight)",
    "replicon": r"replicon $\lambda_R$",
    "dphi_dalpha": r"$\partial s/\partial\alpha$",
    "dphi_dkappa": r"$\partial s/\partial\kappa$",
    "q0": r"overlap $q_0$ (between states)",
    "q1": r"overlap $q_1$ (within a state)",
    "q0_hat": r"conjugate $\hat q_0$",
    "q1_hat": r"conjugate $\hat q_1$",
    "m": r"Parisi parameter $m$",
    "complexity": r"complexity $\Sigma$",
    "internal_entropy": r"internal entropy $s_{\rm int}$",
    "dphi_dm": r"$\partial s/\partial m$",
    "q_min": r"$q_m$ (smallest overlap)",
    "q_max": r"$q_M$ (largest overlap)",
    "mu": r"$\mu = m/(1-q_1)$",
    "Phi": r"jamming potential $\Phi = \lim \varepsilon s$",
    "dphi_dalpha_jamming": r"$\partial\Phi/\partial\alpha$",
}


def controls() -> list[ControlParameter]:
    return [
        ControlParameter("alpha", None, 0.0, math.inf, "number of patterns per weight, P/N"),
        ControlParameter("kappa", 0.0, -math.inf, math.inf, "margin (stability threshold)"),
    ]


def perceptron(options: dict) -> FreeEnergy:
    """Gardner volume of the perceptron; options ``weights``, ``ansatz`` and ``m`` (1RSB)."""
    ansatz = options.get("ansatz", "rs")
    weights = options["weights"]
    if ansatz in ("krsb", "frsb"):
        steps = int(options.get("steps") or DEFAULT_STEPS[ansatz])
        if options.get("regime", "volume") == "jamming":
            return perceptron_jamming(steps, ansatz)
        return perceptron_ladder(weights, steps, ansatz)
    if ansatz == "1rsb":
        if options.get("regime", "volume") == "jamming":
            return perceptron_jamming(1, "1rsb")
        if str(options.get("frozen", "false")) == "true":
            return perceptron_frozen_1rsb()
        return perceptron_1rsb(weights, options.get("m", "auto"))
    weights = options["weights"]
    alpha, kappa = sp.symbols("alpha kappa", real=True)
    q, q_hat, z = sp.symbols("q q_hat z", real=True)
    u = (kappa - sp.sqrt(q) * z) / sp.sqrt(1 - q)
    energetic = GaussAvg(logH(u), z)
    # (1 - q)^2 E_z[g''(sqrt(q) z)^2]
    gpp2 = GaussAvg((Mills(u) * (Mills(u) - u)) ** 2, z)
    q_param = OrderParameter("q", 0.3, 0.0, 1.0, lower_closed=True, description="overlap between two solutions")

    if weights == "spherical":
        phi = sp.log(1 - q) / 2 + q / (2 * (1 - q)) + alpha * energetic
        return FreeEnergy(
            name="perceptron",
            phi=phi,
            order_parameters=[q_param],
            controls=controls(),
            observables={"entropy": phi, "q": q},
            replicon=1 - alpha * gpp2,
            bound_limits={"capacity": BoundLimit("q", 1.0, "q -> 1: the Gardner capacity")},
            labels=LABELS,
            description="spherical perceptron, replica symmetric",
        )
    if weights == "binary":
        entropic = GaussAvg(log2cosh(sp.sqrt(q_hat) * z), z)
        phi = -q_hat * (1 - q) / 2 + entropic + alpha * energetic
        tanh2 = GaussAvg((1 - sp.tanh(sp.sqrt(q_hat) * z) ** 2) ** 2, z)
        return FreeEnergy(
            name="perceptron",
            phi=phi,
            order_parameters=[
                OrderParameter("q", 0.1, 0.0, 1.0, lower_closed=True, description="overlap between two solutions"),
                OrderParameter("q_hat", 0.1, 0.0, math.inf, lower_closed=True, description="conjugate of q"),
            ],
            controls=controls(),
            observables={"entropy": phi, "q": q, "q_hat": q_hat},
            replicon=1 - alpha * tanh2 * gpp2 / (1 - q) ** 2,
            labels=LABELS,
            description="binary (Ising) perceptron, replica symmetric",
        )
    raise ValueError(f"unknown weights {weights!r}")


def perceptron_1rsb(weights: str, m_choice: str = "auto") -> FreeEnergy:
    """One step of replica symmetry breaking (spec: overlaps q0 <= q1, Parisi m).

    With Lambda = 1 - q1 + m (q1 - q0) and the energetic step

        E(q0, q1, m) = (1/m) E_z0 ln E_z1 H(u)^m,  u = (kappa - sqrt(q0) z0 - sqrt(q1 - q0) z1)/sqrt(1 - q1),

    written as (1/m) E_z0 LogAvgExp(m ln H(u), z1) (log-sum-exp: no underflow of H^m):

    spherical: s = (1/2)[(m-1)/m ln(1-q1) + (1/m) ln Lambda + q0/Lambda] + alpha E
    binary:    s = -q1_hat/2 - (m-1) q1_hat q1/2 + m q0_hat q0/2
                   + (1/m) E_z0 ln E_z1 [2cosh(sqrt(q0_hat) z0 + sqrt(q1_hat - q0_hat) z1)]^m + alpha E

    ``m_choice``: ``auto`` makes m an order parameter (thermodynamic choice,
    ds/dm = 0, zero complexity); ``fixed`` makes it a control parameter
    (``params.m``), with complexity Sigma = -m^2 ds/dm and internal entropy
    s + m ds/dm. The replicon is that of the innermost block, in the tilted
    measure of z1: lambda_R = 1 - alpha (1-q1)^2 <g''^2> (spherical),
    1 - alpha <(1 - tanh^2)^2> <g''^2> (binary).
    """
    alpha, kappa = sp.symbols("alpha kappa", real=True)
    q0, q1, m, z0, z1 = sp.symbols("q0 q1 m z0 z1", real=True)
    u = (kappa - sp.sqrt(q0) * z0 - sp.sqrt(q1 - q0) * z1) / sp.sqrt(1 - q1)
    step = LogAvgExp(m * logH(u), z1)
    energetic = GaussAvg(step, z0) / m
    # <g''^2> in the tilted measure of the inner step, times (1 - q1)^2
    gpp2 = GaussAvg(GaussAvg((Mills(u) * (Mills(u) - u)) ** 2 * step.tilt(), z1), z0)
    ops = [
        OrderParameter("q0", 0.3, 0.0, 1.0, lower_closed=True, description="overlap between states"),
        OrderParameter("q1", 0.6, 0.0, 1.0, lower_closed=True, description="overlap within a state"),
    ]
    ctrls = controls()
    if m_choice == "auto":
        ops.append(OrderParameter("m", 0.5, 0.0, 1.0, upper_closed=True, description="Parisi parameter"))
    elif m_choice == "fixed":
        ctrls.append(ControlParameter("m", None, 0.0, 1.0, "Parisi parameter (size of the blocks)"))
    else:
        raise ValueError(f"unknown m choice {m_choice!r}")

    if weights == "spherical":
        lam = 1 - q1 + m * (q1 - q0)
        entropic = ((m - 1) / m * sp.log(1 - q1) + sp.log(lam) / m + q0 / lam) / 2
        replicon = 1 - alpha * gpp2
    elif weights == "binary":
        q0_hat, q1_hat = sp.symbols("q0_hat q1_hat", real=True)
        field = sp.sqrt(q0_hat) * z0 + sp.sqrt(q1_hat - q0_hat) * z1
        inner = LogAvgExp(m * log2cosh(field), z1)
        entropic = -q1_hat / 2 - (m - 1) * q1_hat * q1 / 2 + m * q0_hat * q0 / 2 + GaussAvg(inner, z0) / m
        tanh2 = GaussAvg(GaussAvg((1 - sp.tanh(field) ** 2) ** 2 * inner.tilt(), z1), z0)
        replicon = 1 - alpha * tanh2 * gpp2 / (1 - q1) ** 2
        ops[2:2] = [
            OrderParameter("q0_hat", 0.3, 0.0, math.inf, lower_closed=True, description="conjugate of q0"),
            OrderParameter("q1_hat", 1.0, 0.0, math.inf, lower_closed=True, description="conjugate of q1"),
        ]
    else:
        raise ValueError(f"unknown weights {weights!r}")
    phi = entropic + alpha * energetic
    observables = {"entropy": phi, **{p.name: p.symbol for p in ops}}
    if m_choice == "fixed":
        ds_dm = sp.diff(phi, m)
        observables.update(complexity=-(m**2) * ds_dm, internal_entropy=phi + m * ds_dm)
    return FreeEnergy(
        name="perceptron",
        phi=phi,
        order_parameters=ops,
        controls=ctrls,
        observables=observables,
        replicon=replicon,
        labels=LABELS,
        description=f"{weights} perceptron, one step of replica symmetry breaking (m {m_choice})",
    )


def _energetic_boundary(h: sp.Symbol, q_top: sp.Expr) -> sp.Expr:
    """ln H((kappa - h)/sqrt(1 - q_k)): the constraint Delta >= kappa, smeared inside a state."""
    kappa = sp.Symbol("kappa", real=True)
    return logH((kappa - h) / sp.sqrt(1 - q_top))


def spherical_ladder_entropy(qs: list, ms: list, lam_top: sp.Expr) -> sp.Expr:
    """Entropic term of k-step RSB for spherical weights (Crisanti-Sommers form).

        (1/2)[ln lam_k + q_0 / lam_0 + sum_i (1/m_i) ln(lam_{i-1}/lam_i)],
        lam_{i-1} = lam_i + m_i (q_i - q_{i-1}),

    the step-function case of (1/2)[ln(1 - q_M) + q_m/lam(q_m) + int dq/lam(q)]
    with lam(q) = int_q^1 x(p) dp; lam_k = 1 - q_k (volume). k = 1 is the
    1RSB term of the spec. ``lam_top`` is lam_k; the jamming limit passes 1
    and drops ln lam_k (see ``perceptron_jamming``).
    """
    lams = [lam_top]
    for i in range(len(ms), 0, -1):
        lams.append(lams[-1] + ms[i - 1] * (qs[i] - qs[i - 1]))
    lams = lams[::-1]  # lam_0 .. lam_k
    out = qs[0] / lams[0]
    for i in range(1, len(ms) + 1):
        out += sp.log(lams[i - 1] / lams[i]) / ms[i - 1]
    return out / 2


def perceptron_ladder(weights: str, steps: int, ansatz: str) -> FreeEnergy:
    """k-step (``krsb``) and full (``frsb``) RSB of the Gardner volume, on a Parisi ladder.

    With the ladder L[g](q_0..q_k; m_1..m_k) of ``ParisiAverage``:

    spherical: s = spherical_ladder_entropy(q, m; 1 - q_k) + alpha L[ln H((kappa - h)/sqrt(1 - q_k))]
    binary:    s = -q_hat_k/2 + (1/2) sum_{i=0..k} (m_{i+1} - m_i) q_hat_i q_i + L[ln 2cosh h](q_hat; m)
                   + alpha L[ln H(...)](q; m),     m_0 = 0, m_{k+1} = 1

    ``krsb``: every q_i, m_i (and q_hat_i) is an order parameter. ``frsb``:
    the ladder is the uniform grid q_i = q_min + (q_max - q_min) i/k and the
    Parisi function x(q) takes the values x_1..x_k on its steps (order
    parameters q_min, q_max, x_i, and q_hat_i for binary weights): a step
    x(q) that converges to the continuous Parisi function as k grows (its
    error is that of k; the grid of fields is checked like a quadrature).
    One step (k = 1) of either is 1RSB with m auto.
    """
    alpha = sp.Symbol("alpha", real=True)
    h = sp.Symbol("h", real=True)
    ops: list[OrderParameter] = []
    if ansatz == "krsb":
        qs = [sp.Symbol(f"q{i}", real=True) for i in range(steps + 1)]
        ms = [sp.Symbol(f"m{i}", real=True) for i in range(1, steps + 1)]
        for i, q in enumerate(qs):
            init = 0.3 + 0.6 * i / max(steps, 1)
            ops.append(OrderParameter(q.name, init, 0.0, 1.0, lower_closed=True, description=f"overlap of step {i}"))
        for i, m in enumerate(ms, start=1):
            ops.append(
                OrderParameter(m.name, i / (steps + 1), 0.0, 1.0, upper_closed=True, description=f"Parisi m_{i}")
            )
    else:
        q_min, q_max = sp.symbols("q_min q_max", real=True)
        qs = [q_min + (q_max - q_min) * sp.Rational(i, steps) for i in range(steps + 1)]
        ms = [sp.Symbol(f"x{i}", real=True) for i in range(1, steps + 1)]
        ops += [
            OrderParameter("q_min", 0.5, 0.0, 1.0, lower_closed=True, description="smallest overlap q_m"),
            OrderParameter("q_max", 0.9, 0.0, 1.0, lower_closed=True, description="largest overlap q_M"),
        ]
        for i, m in enumerate(ms, start=1):
            ops.append(
                OrderParameter(
                    m.name, 0.1 + 0.3 * i / steps, 0.0, 1.0, upper_closed=True, description=f"x(q) on step {i}"
                )
            )
    energetic = ladder_average(_energetic_boundary(h, qs[-1]), h, qs, ms)
    if weights == "spherical":
        entropic = spherical_ladder_entropy(qs, ms, 1 - qs[-1]) + sp.log(1 - qs[-1]) / 2
    elif weights == "binary":
        names = [f"q{i}_hat" if ansatz == "krsb" else f"q_hat{i}" for i in range(steps + 1)]
        q_hats = [sp.Symbol(name, real=True) for name in names]
        for i, qh in enumerate(q_hats):
            ops.append(
                OrderParameter(
                    qh.name,
                    0.3 + 2.0 * i / steps,
                    0.0,
                    math.inf,
                    lower_closed=True,
                    description=f"conjugate of the overlap of step {i}",
                )
            )
        mm = [sp.S.Zero, *ms, sp.S.One]
        entropic = -q_hats[-1] / 2 + ladder_average(log2cosh(h), h, q_hats, ms)
        entropic += sum((mm[i + 1] - mm[i]) * q_hats[i] * qs[i] for i in range(steps + 1)) / 2
    else:
        raise ValueError(f"unknown weights {weights!r}")
    phi = entropic + alpha * energetic
    observables = {"entropy": phi, **{p.name: p.symbol for p in ops}}
    what = f"{steps}-step RSB" if ansatz == "krsb" else f"full RSB (step x(q) on {steps} steps)"
    return FreeEnergy(
        name="perceptron",
        phi=phi,
        order_parameters=ops,
        controls=controls(),
        observables=observables,
        labels=LABELS,
        description=f"{weights} perceptron, {what}",
    )


def perceptron_jamming(steps: int, ansatz: str) -> FreeEnergy:
    """The jamming limit of the spherical Gardner volume (SAT/UNSAT line, kappa < 0).

    As alpha -> alpha_J the largest overlap q_M = 1 - eps -> 1 and the Parisi
    function scales as x(q) = eps y(q); then s = Phi[y]/eps + O(ln eps) with

        Phi = (1/2)[q_m/lam(q_m) + int_{q_m}^1 dq/lam(q)] + alpha L[-max(0, kappa - h)^2/2](q; y),
        lam(q) = 1 + int_q^1 y(p) dp,

    a zero-temperature Parisi functional of the quadratic hinge (spec §6;
    Franz, Parisi, Sevelev, Urbani, Zamponi 2017). One step (``1rsb``,
    order parameters q0 and mu = m/eps) is the spec's Phi(q0, mu); ``frsb``
    puts y_1..y_k on the uniform ladder q_i = q_min + (1 - q_min) i/k.
    Jamming is where the stationary Phi crosses zero (kind ``jamming``).
    """
    alpha, kappa = sp.symbols("alpha kappa", real=True)
    h = sp.Symbol("h", real=True)
    gap = kappa - h
    boundary = -(gap**2) * sp.Heaviside(gap) / 2
    if ansatz == "1rsb":
        q0, mu = sp.symbols("q0 mu", real=True)
        qs, ms = [q0, sp.S.One], [mu]
        ops = [
            OrderParameter("q0", 0.6, 0.0, 1.0, lower_closed=True, description="overlap between states"),
            OrderParameter("mu", 10.0, 0.0, math.inf, description="rescaled Parisi parameter m/(1 - q1)"),
        ]
    else:
        q_min = sp.Symbol("q_min", real=True)
        qs = [q_min + (1 - q_min) * sp.Rational(i, steps) for i in range(steps + 1)]
        ms = [sp.Symbol(f"y{i}", real=True) for i in range(1, steps + 1)]
        ops = [OrderParameter("q_min", 0.6, 0.0, 1.0, lower_closed=True, description="smallest overlap q_m")]
        ops += [
            OrderParameter(m.name, 2.0 * 10.0 ** (2.0 * i / steps), 0.0, math.inf, description=f"y(q) on step {i}")
            for i, m in enumerate(ms, start=1)
        ]
    phi = spherical_ladder_entropy(qs, ms, sp.S.One) + alpha * ladder_average(boundary, h, qs, ms)
    observables = {"Phi": phi, **{p.name: p.symbol for p in ops}}
    what = "1RSB" if ansatz == "1rsb" else f"full RSB on {steps} steps"
    return FreeEnergy(
        name="perceptron",
        phi=phi,
        order_parameters=ops,
        controls=controls(),
        observables=observables,
        labels=LABELS,
        description=f"spherical perceptron at jamming (q_M -> 1 limit), {what}",
    )


def perceptron_frozen_1rsb() -> FreeEnergy:
    """Frozen 1RSB of the binary perceptron: q1 = 1, states are single configurations.

    With q1 -> 1 and q1_hat -> inf in the 1RSB free entropy (spec §5), the
    inner averages become E_z1 e^{m ln 2cosh} -> e^{m^2 b^2/2} 2cosh(m a) and
    H(.)^m -> Theta, and

        s(q0, q0_hat; m) = -m q0_hat (1 - q0)/2 + (1/m) E_z ln 2cosh(m sqrt(q0_hat) z)
                           + (alpha/m) E_z ln H((kappa - sqrt(q0) z)/sqrt(1 - q0)),

    i.e. s_RS(q0, m^2 q0_hat)/m: the complexity Sigma = -m^2 ds/dm equals the
    RS entropy and the internal entropy vanishes. m is a control (default 1);
    the frozen capacity is where Sigma = 0 (kind ``complexity_zero``): the
    Krauth-Mezard point.
    """
    alpha, kappa = sp.symbols("alpha kappa", real=True)
    q0, q0_hat, m, z = sp.symbols("q0 q0_hat m z", real=True)
    u = (kappa - sp.sqrt(q0) * z) / sp.sqrt(1 - q0)
    phi = (
        -m * q0_hat * (1 - q0) / 2
        + GaussAvg(log2cosh(m * sp.sqrt(q0_hat) * z), z) / m
        + alpha * GaussAvg(logH(u), z) / m
    )
    ds_dm = sp.diff(phi, m)
    ctrls = controls() + [ControlParameter("m", 1.0, 0.0, 1.0, "Parisi parameter (size of the blocks)")]
    return FreeEnergy(
        name="perceptron",
        phi=phi,
        order_parameters=[
            OrderParameter("q0", 0.1, 0.0, 1.0, lower_closed=True, description="overlap between states"),
            OrderParameter("q0_hat", 0.1, 0.0, math.inf, lower_closed=True, description="conjugate of q0"),
        ],
        controls=ctrls,
        observables={
            "entropy": phi,
            "q0": q0,
            "q0_hat": q0_hat,
            "complexity": -(m**2) * ds_dm,
            "internal_entropy": phi + m * ds_dm,
        },
        labels=LABELS,
        description="binary perceptron, frozen one-step RSB (q1 = 1)",
    )
