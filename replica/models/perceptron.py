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
    log2cosh,
    logH,
)

OPTIONS = {"weights": ("spherical", "binary"), "ansatz": ("rs", "1rsb"), "m": ("auto", "fixed")}
APPLIES_WHEN = {"m": ("ansatz", ("1rsb",))}

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
}


def controls() -> list[ControlParameter]:
    return [
        ControlParameter("alpha", None, 0.0, math.inf, "number of patterns per weight, P/N"),
        ControlParameter("kappa", 0.0, -math.inf, math.inf, "margin (stability threshold)"),
    ]


def perceptron(options: dict) -> FreeEnergy:
    """Gardner volume of the perceptron; options ``weights``, ``ansatz`` and ``m`` (1RSB)."""
    if options.get("ansatz", "rs") == "1rsb":
        return perceptron_1rsb(options["weights"], options.get("m", "auto"))
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
