"""A hand-written replica-symmetric solver for the binary perceptron: the baseline of the benchmark.

Written the way a physicist usually writes one (no ``replica`` involved): every Gaussian
average is a ``scipy.integrate.quad`` over the real line of the integrand times the normal
density, the two saddle-point equations in (q, q_hat) are handed to ``scipy.optimize.fsolve``,
and a sweep in the load alpha starts each point from the previous solution (warm start).

    s(q, qh) = -qh (1 - q)/2 + int Dz ln 2cosh(sqrt(qh) z) + alpha int Dz ln H(u(z)),
    u(z) = (kappa - sqrt(q) z) / sqrt(1 - q),
    q  = int Dz tanh^2(sqrt(qh) z),
    qh = alpha / (1 - q) int Dz R(u(z))^2,      R = G / H.

Usage: ``python handwritten_binary_rs.py OUT.csv [N]`` sweeps N (default 1000) values of
alpha in linspace(0.05, 0.8, N) at kappa = 0 and writes OUT.csv. Importable as well.
"""

from __future__ import annotations

import csv
import math
import sys
import time

import numpy as np
from scipy.integrate import quad
from scipy.optimize import fsolve
from scipy.special import erfcx, log_ndtr

SQRT2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
EPSABS = 1e-10  # quad's absolute tolerance (relative: quad's default)
ALPHA_START, ALPHA_STOP = 0.05, 0.8
INITIAL_GUESS = (0.1, 0.1)  # (q, q_hat) for the first point of a sweep
COLUMNS = ("alpha", "kappa", "q", "q_hat", "entropy", "converged", "residual", "nfev", "wall_time")


def gauss(z: float) -> float:
    return INV_SQRT_2PI * math.exp(-0.5 * z * z)


def gaussian_average(f) -> float:
    """int Dz f(z), by adaptive quadrature over the real line."""
    value, _ = quad(lambda z: f(z) * gauss(z), -np.inf, np.inf, epsabs=EPSABS)
    return value


def mills(x: float) -> float:
    """R(x) = G(x) / H(x), stable in both tails."""
    return SQRT_2_OVER_PI / erfcx(x / SQRT2)


def log_h(x: float) -> float:
    """ln H(x), H(x) = erfc(x / sqrt 2) / 2."""
    return log_ndtr(-x)


def log_2cosh(x: float) -> float:
    x = abs(x)
    return x + math.log1p(math.exp(-2.0 * x))


def equations(theta, alpha: float, kappa: float = 0.0) -> list[float]:
    """The saddle-point equations, F(q, q_hat) = 0."""
    q, qh = theta
    if not (0.0 <= q < 1.0 and qh >= 0.0):  # outside the domain: push fsolve back
        return [1e3, 1e3]
    sq, sqh, s1q = math.sqrt(q), math.sqrt(qh), math.sqrt(1.0 - q)
    q_new = gaussian_average(lambda z: math.tanh(sqh * z) ** 2)
    qh_new = alpha / (1.0 - q) * gaussian_average(lambda z: mills((kappa - sq * z) / s1q) ** 2)
    return [q - q_new, qh - qh_new]


def entropy(q: float, qh: float, alpha: float, kappa: float = 0.0) -> float:
    """The RS entropy s(q, q_hat) at the given order parameters."""
    sq, sqh, s1q = math.sqrt(q), math.sqrt(qh), math.sqrt(1.0 - q)
    weights = gaussian_average(lambda z: log_2cosh(sqh * z))
    patterns = gaussian_average(lambda z: log_h((kappa - sq * z) / s1q))
    return -qh * (1.0 - q) / 2.0 + weights + alpha * patterns


def solve_point(alpha: float, guess=INITIAL_GUESS, kappa: float = 0.0) -> dict:
    """Solve the saddle point at (alpha, kappa) from ``guess``; return one row of the table."""
    t0 = time.perf_counter()
    theta, info, ier, _msg = fsolve(equations, guess, args=(alpha, kappa), full_output=True)
    q, qh = (float(x) for x in theta)
    residual = float(np.max(np.abs(info["fvec"])))
    converged = ier == 1 and 0.0 <= q < 1.0 and qh >= 0.0 and math.isfinite(residual)
    s = entropy(q, qh, alpha, kappa) if converged else math.nan
    return {
        "alpha": alpha,
        "kappa": kappa,
        "q": q,
        "q_hat": qh,
        "entropy": s,
        "converged": converged,
        "residual": residual,
        "nfev": int(info["nfev"]),
        "wall_time": time.perf_counter() - t0,
    }


def sweep(alphas, kappa: float = 0.0, guess=INITIAL_GUESS) -> list[dict]:
    """Solve along ``alphas``, each point warm-started from the last converged one."""
    rows = []
    for alpha in alphas:
        row = solve_point(float(alpha), guess, kappa)
        rows.append(row)
        if row["converged"]:
            guess = (row["q"], row["q_hat"])
    return rows


def write_csv(path: str, rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not 1 <= len(argv) <= 2:
        print("usage: python handwritten_binary_rs.py OUT.csv [N]", file=sys.stderr)
        return 2
    out = argv[0]
    n = int(argv[1]) if len(argv) == 2 else 1000
    t0 = time.perf_counter()
    rows = sweep(np.linspace(ALPHA_START, ALPHA_STOP, n))
    write_csv(out, rows)
    failed = sum(1 for r in rows if not r["converged"])
    print(
        f"wrote {out} ({len(rows)} points: {len(rows) - failed} converged, {failed} failed) "
        f"in {time.perf_counter() - t0:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
