"""Replica symmetry breaking of the perceptron Gardner volume (spec sections 5 and 6).

- ``perceptron_1rsb``: one step, the inner average as a LogAvgExp node;
- ``perceptron_ladder``: k steps (``krsb``) and full RSB (``frsb``) on a Parisi
  ladder (the ParisiAverage node), the entropic term in Crisanti-Sommers form
  (spherical) or as a second ladder (binary);
- ``perceptron_jamming``: the q_M -> 1 limit of the spherical volume, whose
  stationary value crosses zero at the SAT/UNSAT (jamming) line;
- ``perceptron_frozen_1rsb``: the frozen (q1 = 1) 1RSB of binary weights.

Every ansatz declares its Parisi function (``ParisiLadder``): how q(x) and
P(q) are read off its order parameters, and, where the ladder can collapse
onto RS, the RS ansatz and how a ladder is opened around it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import sympy as sp

from ..symbolic import (
    OPEN_AT,
    OPEN_WIDTH,
    OPEN_X,
    BoundLimit,
    ControlParameter,
    FreeEnergy,
    GaussAvg,
    H,
    LogAvgExp,
    Mills,
    OrderParameter,
    ParisiBottom,
    ParisiLadder,
    gaussian_density,
    ladder_average,
    log2cosh,
    logaddexp,
    logH,
)
from .perceptron_rs import LABELS, controls, perceptron_rs

# the smallest step of a ladder's x(q) (or y(q)): (1/x) ln E e^(x f) and its derivatives lose
# every digit to cancellation as x -> 0, and a Parisi function with x below this is a volume
# regime so close to jamming that the jamming regime (x = eps y) is the one to use
STEP_FLOOR = 1e-4
# where the top rung of a jamming ladder starts from the one-step solution q0: 1 - q_top = ONE_STEP_TOP (1 - q0)
ONE_STEP_TOP = sp.Rational(1, 20)


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
    ladder = ParisiLadder((q0, q1), (m,))
    if weights == "spherical":
        ladder = _collapsible(ladder, {"q0": 0, "q1": 1}, 1, ["m"] if m_choice == "auto" else [])
    return FreeEnergy(
        name="perceptron",
        phi=phi,
        order_parameters=ops,
        controls=ctrls,
        observables=observables,
        replicon=replicon,
        labels=LABELS,
        description=f"{weights} perceptron, one step of replica symmetry breaking (m {m_choice})",
        ladder=ladder,
        extremum="min" if weights == "spherical" else None,
    )


def _collapsible(ladder: ParisiLadder, positions: dict[str, int], steps: int, xs: list[str]) -> ParisiLadder:
    """``ladder`` with the spherical RS ansatz it collapses onto and the uniform opening around it.

    ``positions``: the order parameters that are ladder overlaps, with their rung
    (0..steps); ``xs``: the order parameters that are steps of x(q). Collapsed, every
    overlap is the RS q; opened, rung i is at q + OPEN_WIDTH (i/steps - OPEN_AT) and
    every x is OPEN_X.
    """
    q = sp.Symbol("q", real=True)
    embedding = {name: q for name in positions}
    opening = {name: q + OPEN_WIDTH * (sp.Rational(i, steps) - OPEN_AT) for name, i in positions.items()}
    opening.update({name: OPEN_X for name in xs})
    return ParisiLadder(ladder.qs, ladder.xs, ladder.x_name, perceptron_rs("spherical"), embedding, opening)


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
                OrderParameter(m.name, i / (steps + 1), STEP_FLOOR, 1.0, True, True, description=f"Parisi m_{i}")
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
                    m.name, 0.1 + 0.3 * i / steps, STEP_FLOOR, 1.0, True, True, description=f"x(q) on step {i}"
                )
            )
    energetic = ladder_average(_energetic_boundary(h, qs[-1]), h, qs, ms)
    # the replicon of the innermost block: (1 - q_k)^2 <g''^2> in the Parisi measure at the bottom
    x_bottom = (sp.Symbol("kappa", real=True) - sp.sqrt(qs[-1]) * energetic.variable) / sp.sqrt(1 - qs[-1])
    gpp2 = ParisiBottom(energetic.ladder, (Mills(x_bottom) * (Mills(x_bottom) - x_bottom)) ** 2)
    ladder = ParisiLadder(tuple(qs), tuple(ms))
    if weights == "spherical":
        entropic = spherical_ladder_entropy(qs, ms, 1 - qs[-1]) + sp.log(1 - qs[-1]) / 2
        replicon = 1 - alpha * gpp2
        if ansatz == "krsb":
            ladder = _collapsible(ladder, {q.name: i for i, q in enumerate(qs)}, steps, [m.name for m in ms])
        else:
            ladder = _collapsible(ladder, {"q_min": 0, "q_max": steps}, steps, [m.name for m in ms])
        if steps > 1:  # the one-step ladder (q_min, q_max, x1), and this ladder equal to it
            lo, hi, x = sp.symbols("q_min q_max x1", real=True)
            same = {q.name: lo + (hi - lo) * sp.Rational(i, steps) for i, q in enumerate(qs) if q.is_Symbol}
            same.update({"q_min": lo, "q_max": hi} if ansatz == "frsb" else {})
            same.update({m.name: x for m in ms})
            one_step = perceptron_ladder(weights, 1, "frsb")
            ladder = dataclasses.replace(ladder, one_step=one_step, from_one_step=same)
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
        spins = ladder_average(log2cosh(h), h, q_hats, ms)
        entropic = -q_hats[-1] / 2 + spins
        entropic += sum((mm[i + 1] - mm[i]) * q_hats[i] * qs[i] for i in range(steps + 1)) / 2
        tanh2 = ParisiBottom(spins.ladder, (1 - sp.tanh(sp.sqrt(q_hats[-1]) * spins.variable) ** 2) ** 2)
        replicon = 1 - alpha * tanh2 * gpp2 / (1 - qs[-1]) ** 2
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
        replicon=replicon,
        labels=LABELS,
        description=f"{weights} perceptron, {what}",
        ladder=ladder,
        extremum="min" if weights == "spherical" else None,
    )


def jammed_step(gap: sp.Expr, mu: sp.Expr, width: sp.Expr) -> sp.Expr:
    """ln int Dz exp(-(mu/2) max(0, gap - width z)^2): the innermost step at jamming, in closed form.

    With g = 1 + mu width^2 (spec section 6),

        ln[ exp(-mu gap^2 / (2 g)) g^(-1/2) H(-gap / (width sqrt g)) + H(gap / width) ],

    written as a logaddexp of logs, so that neither term underflows. Taking this
    step exactly keeps the kink of max(0, .)^2 off the ladder's field grid.
    """
    g = 1 + mu * width**2
    left = -mu * gap**2 / (2 * g) - sp.log(g) / 2 + logH(-gap / (width * sp.sqrt(g)))
    return logaddexp(left, logH(gap / width))


def perceptron_jamming(steps: int, ansatz: str) -> FreeEnergy:
    """The jamming limit of the spherical Gardner volume (SAT/UNSAT line, kappa < 0).

    As alpha -> alpha_J the largest overlap q_M = 1 - eps -> 1 and the Parisi
    function scales as x(q) = eps y(q); then s = Phi[y]/eps + O(ln eps) with

        Phi = (1/2)[q_m/lam(q_m) + int_{q_m}^1 dq/lam(q)] + alpha int Dz F(q_m, sqrt(q_m) z),
        lam(q) = 1 + int_q^1 y(p) dp,   F(1, h) = -max(0, kappa - h)^2 / 2,

    a zero-temperature Parisi functional of the quadratic hinge (spec section 6; Franz,
    Parisi, Sevelev, Urbani, Zamponi 2017). On a ladder q_0 < ... < q_k = 1 with steps
    y_1 <= ... <= y_k the innermost step is taken in closed form (``jammed_step``), the
    others on the Parisi ladder:

    - ``1rsb``: order parameters q0 and mu = y_1; Phi(q0, mu) of the spec, with no ladder;
    - ``krsb``: q_0 .. q_{k-1} and y_1 .. y_k free (the best k-step ansatz: an upper bound
      on alpha_J that decreases with k);
    - ``frsb``: y_1 .. y_k on a ladder geometric in 1 - q between its free ends q_min
      and q_top (1 - q_i = (1 - q_min)^(1 - i/(k-1)) (1 - q_top)^(i/(k-1)), i < k),
      whose rungs crowd towards q = 1 where y(q) grows without bound (the critical
      jamming scaling): with two steps it is the 2-step ansatz.

    A ladder of several steps has the order parameters t = -ln(1 - q) (``t_top``; for ``krsb``
    ``t0`` and the increments ``dt1`` .. ``dt{k-1}`` >= 0), ``ln_y1`` and the increments
    ``dln_y2`` .. ``dln_yk`` >= 0 (so the ladder's order is a box the descent keeps, with
    merged steps at a closed end), and reports q (``q_top``, ``q0`` ..) and ``y1`` .. ``yk``
    as observables: near alpha_J the rungs approach 1 and
    y_k grows like a power of 1/(1 - q_top), a straight line in these variables, where in
    q and y descent crawls along a curved valley (measured at kappa = -1, 4 steps: 5
    iterations instead of 213). Its field grid is focused on h = kappa with the width
    sqrt(1 - q_{k-1}) of the boundary (``ladder_average``'s ``focus``).

    Phi is a minimum in the order parameters; jamming is where its minimum crosses zero
    (kind ``jamming``): Phi < 0 above alpha_J (UNSAT). Every ladder of several steps
    declares its one-step version (the 1RSB Phi, y equal on every step) as the way in:
    alpha_J decreases with the ansatz (the minimum over a larger set), so the ladder's
    jamming point lies below the 1RSB one and is reached from it (``jamming`` kind).
    """
    alpha, kappa = sp.symbols("alpha kappa", real=True)
    h = sp.Symbol("h", real=True)
    if ansatz == "1rsb":
        steps = 1
    # a ladder of several steps is iterated in logarithms: t = -ln(1 - q) for a rung that crowds
    # towards 1 and ln y for the steps of y(q), which grow without bound there (y ~ (1 - q)^-gamma
    # is a straight line in them); in q and y the minimum lies in a long curved valley that descent
    # creeps along. q and y are reported as observables.
    logs = steps > 1
    shown: dict[str, sp.Expr] = {}
    if ansatz == "frsb":
        q_min = sp.Symbol("q_min", real=True)
        ops = [OrderParameter("q_min", 0.6, 0.0, 1.0, lower_closed=True, description="smallest overlap q_m")]
        if steps == 1:
            qs = [q_min, sp.S.One]
        else:
            t_top = sp.Symbol("t_top", real=True)
            q_top = 1 - sp.exp(-t_top)
            qs = [
                1 - (1 - q_min) ** (1 - sp.Rational(i, steps - 1)) * sp.exp(-t_top * sp.Rational(i, steps - 1))
                for i in range(steps)
            ] + [sp.S.One]
            ops.append(
                OrderParameter("t_top", 4.6, 0.0, math.inf, lower_closed=True, description="-ln(1 - q_top), q_top < 1")
            )
            shown["q_top"] = q_top
    elif logs:  # t_0 = -ln(1 - q_0) and the increments dt_i = t_i - t_{i-1} >= 0 (the rungs in order)
        dts = [sp.Symbol("t0" if i == 0 else f"dt{i}", real=True) for i in range(steps)]
        ts = list(itertools.accumulate(dts))
        qs = [*(1 - sp.exp(-t) for t in ts), sp.S.One]
        ops = [
            OrderParameter(
                d.name,
                -math.log(0.4) if i == 0 else math.log(2.0),
                0.0,
                math.inf,
                lower_closed=True,
                description="-ln(1 - q_0)" if i == 0 else f"ln((1 - q_{i - 1})/(1 - q_{i}))",
            )
            for i, d in enumerate(dts)
        ]
        shown.update({f"q{i}": q for i, q in enumerate(qs[:-1])})
    else:
        q0 = sp.Symbol("q0", real=True)
        qs = [q0, sp.S.One]
        ops = [OrderParameter("q0", 0.6, 0.0, 1.0, lower_closed=True, description="overlap 0")]
    names = ["mu"] if ansatz == "1rsb" else [f"y{i}" for i in range(1, steps + 1)]
    if logs:  # ln y_1 and the increments ln(y_i / y_{i-1}) >= 0 (y(q) non-decreasing: a box, not a projection)
        logs_y = [sp.Symbol("ln_y1" if i == 0 else f"dln_y{i + 1}", real=True) for i in range(steps)]
        ys = [sp.exp(v) for v in itertools.accumulate(logs_y)]
        ops += [
            OrderParameter(
                v.name,
                math.log(5.0) if i == 0 else math.log(4.0),
                math.log(STEP_FLOOR) if i == 0 else 0.0,
                math.inf,
                lower_closed=True,
                description="ln y(q) on step 1" if i == 0 else f"ln(y_{i + 1} / y_{i})",
            )
            for i, v in enumerate(logs_y)
        ]
        shown.update(dict(zip(names, ys, strict=True)))
    else:
        ys = [sp.Symbol(n, real=True) for n in names]
        ops += [
            OrderParameter(
                y.name, 5.0 * 4.0**i, STEP_FLOOR, math.inf, lower_closed=True, description=f"y(q) on step {i + 1}"
            )
            for i, y in enumerate(ys)
        ]
    innermost = jammed_step(kappa - h, ys[-1], sp.sqrt(1 - qs[-2])) / ys[-1]
    if steps == 1:
        z = sp.Symbol("z", real=True)
        energetic = GaussAvg(innermost.subs(h, sp.sqrt(qs[0]) * z), z)
    else:
        # the boundary has structure of size sqrt(1 - q_{k-1}) at h = kappa: the grid is focused there
        energetic = ladder_average(innermost, h, qs[:-1], ys[:-1], focus=(kappa, sp.sqrt(1 - qs[-2])))
    phi = spherical_ladder_entropy(qs, ys, sp.S.One) + alpha * energetic
    observables = {"Phi": phi, **{p.name: p.symbol for p in ops}, **shown}
    what = {"1rsb": "1RSB", "krsb": f"{steps}-step RSB", "frsb": f"full RSB on {steps} steps"}[ansatz]
    ladder = ParisiLadder(tuple(qs), tuple(ys), x_name="y")
    if steps > 1:  # the way in: the 1RSB solution, y equal on every step (the rungs above q_0 then do not matter)
        q0, mu = sp.symbols("q0 mu", real=True)
        same = {v.name: sp.log(mu) if i == 0 else sp.S.Zero for i, v in enumerate(logs_y)}
        if ansatz == "frsb":
            same.update({"q_min": q0, "t_top": -sp.log((1 - q0) * ONE_STEP_TOP)})
        else:
            rise = -sp.log(ONE_STEP_TOP) / (steps - 1)
            same.update({d.name: -sp.log(1 - q0) if i == 0 else rise for i, d in enumerate(dts)})
        ladder = dataclasses.replace(ladder, one_step=perceptron_jamming(1, "1rsb"), from_one_step=same)
    bounds = {}
    if ansatz == "1rsb":
        # at q0 -> 1 the 1RSB state is a single configuration: Phi -> 1/2 - (alpha/2) E[max(0, kappa - z)^2],
        # which vanishes at the RS capacity; below it the minimum is interior (the UNSAT window above
        # alpha_J, narrow as kappa -> 0, lies just below it: the scans accumulate points there)
        hinge = (kappa**2 + 1) * H(-kappa) + kappa * gaussian_density(kappa)  # E[max(0, kappa - z)^2]
        bounds["capacity"] = BoundLimit(
            "q0",
            1.0,
            "q0 -> 1: the RS capacity, beyond which the minimum leaves the interior",
            sp.S.Half - alpha * hinge / 2,
        )
    return FreeEnergy(
        name="perceptron",
        phi=phi,
        order_parameters=ops,
        controls=controls(),
        observables=observables,
        labels=LABELS,
        description=f"spherical perceptron at jamming (q_M -> 1 limit), {what}",
        ladder=ladder,
        extremum="min",
        bound_limits=bounds,
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
