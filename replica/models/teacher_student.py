"""Teacher-student learning: a perceptron student learns a perceptron teacher.

P = alpha N examples x ~ N(0, I_N), labels y = channel(w*.x/sqrt N) of a teacher
w* (spherical, |w*|^2 = N, or binary +-1). Order parameters: R = w.w*/N (student
with teacher) and q = w.w'/N (two students); binary students also have their
conjugates R_hat, q_hat. Replica symmetric, n -> 0 students, quenched teacher:

    phi(R, q) = G_S(R, q) + alpha G_E(R, q)

Entropic term (log-volume relative to the student's prior):

    spherical student: G_S = (1/2) ln(1 - q) + (q - R^2) / (2 (1 - q))
    binary student:    G_S = -R_hat R - q_hat (1 - q)/2 + E_{w*} E_z ln 2cosh(sqrt(q_hat) z + R_hat w*) - ln 2
                       (binary teacher: w* = 1 by symmetry; spherical teacher: w* ~ N(0, 1), so the
                        field is sqrt(q_hat + R_hat^2) z)

Energetic term: the teacher field u* = (R/sqrt q) z + sqrt(1 - R^2/q) t and the student
field sqrt(q) z + sqrt(1 - q) xi share z; with Z_s(y, omega, V) = int Dxi P_s(y | omega + sqrt V xi)
the student's likelihood smeared over its thermal field,

    G_E = E_{z, t} sum_y P_out(y | u*) ln Z_s(y, sqrt(q) z, 1 - q).

For the sign channels (label flipped with probability eta for ``noisy_sign``) the two
labels are mirror images (z -> -z) and, with a = R / sqrt(q - R^2),

    G_E = 2 E_z[((1 - eta) H(-a z) + eta H(a z)) ln Z_s(z)],
    gibbs (the version space at margin kappa): Z_s = H((kappa - sqrt(q) z) / sqrt(1 - q)),
    bayes (the posterior with the true channel): Z_s = eta + (1 - 2 eta) H(-sqrt(q) z / sqrt(1 - q)).

For the Gaussian channel y = u* + sqrt(Delta) xi, Z_s = N(y; sqrt(q) z, 1 - q + Delta), with
y = (R/sqrt q) z + sqrt(1 - R^2/q + Delta) s averaged over z and s.

``learning``: ``gibbs`` samples the student's posterior at zero training error (the version
space, margin kappa) — or, for the Gaussian channel, with the Gaussian likelihood — under
the student's own prior; ``bayes`` is the Bayes-optimal posterior (the teacher's prior and
channel), on the Nishimori line: its saddle point has q = R (and q_hat = R_hat), which
the tests check rather than impose. Then phi is the free entropy f_RS of Barbier et al.
(PNAS 116, 5451 (2019)) and

    mutual_information = -phi - alpha H(Y | u*) per weight
        (H = 0 (sign), h2(eta) (noisy sign), (1/2) ln(2 pi e Delta) (Gaussian)),
    mmse = 1 - q.

Generalization error: sign channels: a Gibbs student disagrees with the teacher's
(noiseless) output with probability arccos(R)/pi; the Bayes-optimal classifier with
arccos(sqrt q)/pi. Gaussian channel: mean squared error in predicting the teacher's
noiseless output, 2(1 - R) (a Gibbs sample) and 1 - q (the posterior mean).

Perfect generalization (binary teacher and student, sign channel, Bayes) is the state
q = R = 1, a single configuration: phi = -ln 2 exactly. It is not an interior solution of
phi (R_hat, q_hat -> inf), so it is declared as its own analytic branch (``branch:
perfect``, no order parameters) and is what a continuation from large alpha follows
(``backward_branch``). The first-order (information-theoretic) transition is where the
two branches' phi cross; the algorithmic spinodal is where the interior branch folds.

Near q -> 1 the energetic integrands are steps of width sqrt(1 - q) in z (at
kappa/sqrt(q) for a margin): the variable z carries that resolution scale, so its
averages are evaluated on a sinh-mapped rule (``FreeEnergy.scales``; likewise the kink of
ln 2cosh in z_s for binary students); and the
spherical stationarity equations, whose terms grow as 1/(1 - q) and 1/(1 - q)^2 and
cancel, are solved multiplied by those powers (``equation_scales``: same roots,
a residual that can reach the tolerance).
"""

from __future__ import annotations

import math

import sympy as sp

from ..symbolic import ControlParameter, FreeEnergy, GaussAvg, H, OrderParameter, log2cosh, logH

OPTIONS = {
    "teacher": ("spherical", "binary"),
    "student": ("spherical", "binary"),
    "learning": ("gibbs", "bayes"),
    "channel": ("sign", "noisy_sign", "gaussian"),
    "branch": ("interior", "perfect"),
}
APPLIES_WHEN = {
    # Bayes-optimal learning uses the teacher's prior: the student is the teacher
    "student": (("learning", ("gibbs",)),),
    "branch": (("learning", ("bayes",)), ("teacher", ("binary",)), ("channel", ("sign",))),
}

LABELS = {
    "alpha": r"$\alpha$ (examples per weight)",
    "kappa": r"$\kappa$ (margin)",
    "noise": r"noise ($\eta$ or $\Delta$)",
    "R": r"teacher overlap $R$",
    "q": r"student overlap $q$",
    "R_hat": r"conjugate $\hat R$",
    "q_hat": r"conjugate $\hat q$",
    "generalization_error": r"generalization error $\varepsilon_g$",
    "free_entropy": r"free entropy $\phi$",
    "mutual_information": r"mutual information $I/N$",
    "mmse": "MMSE",
}

ALPHA, KAPPA, NOISE = sp.symbols("alpha kappa noise", real=True)
R, Q, R_HAT, Q_HAT = sp.symbols("R q R_hat q_hat", real=True)


def entropy_kink(teacher: str, r_hat=R_HAT, q_hat=Q_HAT) -> tuple[sp.Expr, sp.Expr]:
    """(center, width) of the smoothed kink of ln 2cosh(field) in z_s (binary students): where the field
    vanishes, width 1/sqrt(variance) of the field; the center kept within the Gaussian bulk."""
    if teacher == "binary":
        center, width = -r_hat / sp.sqrt(q_hat), 1 / sp.sqrt(q_hat)
    else:
        center, width = sp.S.Zero, 1 / sp.sqrt(q_hat + r_hat**2)
    return sp.Max(-8, sp.Min(8, center)), sp.Min(1, width)


def student_entropy(student: str, teacher: str, r=R, q=Q, r_hat=R_HAT, q_hat=Q_HAT, z=None) -> sp.Expr:
    """G_S: the log-volume (relative to the prior) of students at overlaps R (teacher) and q."""
    if student == "spherical":
        return sp.log(1 - q) / 2 + (q - r**2) / (2 * (1 - q))
    z = z if z is not None else sp.Symbol("z_s", real=True)
    if teacher == "binary":
        field = sp.sqrt(q_hat) * z + r_hat
    else:
        field = sp.sqrt(q_hat + r_hat**2) * z
    return -r_hat * r - q_hat * (1 - q) / 2 + GaussAvg(log2cosh(field), z) - sp.log(2)


def energetic(channel: str, learning: str, z: sp.Symbol, r=R, q=Q) -> sp.Expr:
    """G_E: the teacher's label distribution times the log of the student's smeared likelihood."""
    if channel == "gaussian":
        s = sp.Symbol("s", real=True)
        var = 1 - q + NOISE
        y_minus_omega = (r / sp.sqrt(q) - sp.sqrt(q)) * z + sp.sqrt(1 - r**2 / q + NOISE) * s
        log_z = -(y_minus_omega**2) / (2 * var) - sp.log(2 * sp.pi * var) / 2
        return GaussAvg(GaussAvg(log_z, s), z)
    eta = NOISE if channel == "noisy_sign" else sp.S.Zero
    a = r / sp.sqrt(q - r**2)
    weight = (1 - eta) * H(-a * z) + eta * H(a * z) if eta != 0 else H(-a * z)
    if learning == "gibbs":
        log_z = logH((KAPPA - sp.sqrt(q) * z) / sp.sqrt(1 - q))
    elif eta != 0:
        log_z = sp.log(eta + (1 - 2 * eta) * H(-sp.sqrt(q) * z / sp.sqrt(1 - q)))
    else:
        log_z = logH(-sp.sqrt(q) * z / sp.sqrt(1 - q))
    return 2 * GaussAvg(weight * log_z, z)


def channel_entropy(channel: str) -> sp.Expr:
    """H(Y | u*) per example: the part of the label entropy that carries no information."""
    if channel == "noisy_sign":
        return -NOISE * sp.log(NOISE) - (1 - NOISE) * sp.log(1 - NOISE)
    if channel == "gaussian":
        return sp.log(2 * sp.pi * sp.E * NOISE) / 2
    return sp.S.Zero


def controls(channel: str, learning: str) -> list[ControlParameter]:
    out = [ControlParameter("alpha", None, 0.0, math.inf, "number of examples per weight, P/N")]
    if learning == "gibbs" and channel != "gaussian":
        out.append(ControlParameter("kappa", 0.0, -math.inf, math.inf, "margin of the version space"))
    if channel == "noisy_sign":
        out.append(ControlParameter("noise", None, 0.0, 0.5, "probability eta that a label is flipped", True))
    if channel == "gaussian":
        out.append(ControlParameter("noise", None, 0.0, math.inf, "variance Delta of the label noise", True))
    return out


def order_parameters(student: str) -> list[OrderParameter]:
    ops = [
        OrderParameter("R", 0.1, -1.0, 1.0, description="overlap of a student with the teacher"),
        OrderParameter("q", 0.2, 0.0, 1.0, lower_closed=True, description="overlap between two students"),
    ]
    if student == "binary":
        ops += [
            OrderParameter("R_hat", 0.1, description="conjugate of R"),
            OrderParameter("q_hat", 0.1, 0.0, math.inf, lower_closed=True, description="conjugate of q"),
        ]
    return ops


def generalization_error(channel: str, learning: str) -> sp.Expr:
    if channel == "gaussian":
        return 1 - Q if learning == "bayes" else 2 * (1 - R)
    return sp.acos(sp.sqrt(Q)) / sp.pi if learning == "bayes" else sp.acos(R) / sp.pi


def teacher_student(options: dict) -> FreeEnergy:
    """The teacher-student free entropy; options teacher, student, learning, channel, branch."""
    teacher, learning, channel = options["teacher"], options["learning"], options["channel"]
    student = teacher if learning == "bayes" else options["student"]
    what = f"{student} student, {teacher} teacher, {learning} learning, {channel} channel"
    ctrls = controls(channel, learning)
    if options.get("branch", "interior") == "perfect":
        return perfect_branch(what)
    z = sp.Symbol("z", real=True)
    phi = student_entropy(student, teacher) + ALPHA * energetic(channel, learning, z)
    observables = {"generalization_error": generalization_error(channel, learning), "free_entropy": phi}
    if learning == "bayes":
        observables["mutual_information"] = -phi - ALPHA * channel_entropy(channel)
        observables["mmse"] = 1 - Q
    center = KAPPA / sp.sqrt(Q) if any(c.name == "kappa" for c in ctrls) else sp.S.Zero
    scales = {"z": (center, sp.sqrt(1 - Q))} if channel != "gaussian" else {}
    if student == "binary":
        scales["z_s"] = entropy_kink(teacher)
    backward = None
    if learning == "bayes" and teacher == "binary" and channel == "sign":
        backward = perfect_branch(what)
    return FreeEnergy(
        name="teacher_student",
        phi=phi,
        order_parameters=order_parameters(student),
        controls=ctrls,
        observables=observables,
        labels=LABELS,
        description=what + ", replica symmetric",
        scales=scales,
        # the spherical equations hold terms of order 1/(1 - q) (R) and 1/(1 - q)^2 (q) that cancel
        equation_scales={"R": 1 - Q, "q": (1 - Q) ** 2} if student == "spherical" else {},
        backward_branch=backward,
    )


def perfect_branch(what: str) -> FreeEnergy:
    """q = R = 1: the student is the binary teacher; phi = -ln 2 (one configuration of 2^N)."""
    phi = -sp.log(2)
    return FreeEnergy(
        name="teacher_student",
        phi=phi,
        order_parameters=[],
        controls=controls("sign", "bayes"),
        observables={
            "generalization_error": sp.S.Zero,
            "free_entropy": phi,
            "mutual_information": -phi,
            "mmse": sp.S.Zero,
            "R": sp.S.One,
            "q": sp.S.One,
        },
        labels=LABELS,
        description=what + ", perfect generalization (q = R = 1, analytic branch)",
    )
