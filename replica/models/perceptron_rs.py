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

from ..symbolic import BoundLimit, ControlParameter, FreeEnergy, GaussAvg, Mills, OrderParameter, log2cosh, logH

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


def perceptron_rs(weights: str) -> FreeEnergy:
    """The replica-symmetric Gardner volume (module docstring) for ``weights`` spherical or binary."""
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
            extremum="min",
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
