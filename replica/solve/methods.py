"""Iterations that drive the saddle-point system G(theta) = 0.

- ``fixed_point``: damped iteration theta <- (1 - d) theta + d F(theta) of the
  model's fixed-point forms; robust from cold starts, linear convergence.
- ``anderson``: Anderson mixing (type II, memory m) of the same map; faster
  than plain damping when the map is contracting slowly.
- ``newton``: Newton's method with the symbolic Jacobian and a backtracking
  line search that keeps every iterate inside the order parameters' domain
  (scipy's root finders know nothing of domains such as 0 <= q < 1). Where
  the Jacobian is a finite difference of an exact gradient (a Parisi ladder:
  n + 1 gradient evaluations each), it is computed once and then carried by
  Broyden's rank-one updates, refreshed only when a step fails.
- ``descend``: for models whose saddle point is a minimum (or maximum) of phi,
  quasi-Newton descent of phi (BFGS from the modified Hessian), which cannot
  stop at another stationary point.

Each returns an ``Iteration`` with the final theta, the undamped residual
max_i |G_i(theta)|, the number of iterations and a status message; none of
them decides whether the point is a result (see ``point.solve_point``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Vector = np.ndarray


@dataclass
class Iteration:
    theta: Vector
    residual: float
    iterations: int
    converged: bool
    status: str
    jacobian: np.ndarray | None = None  # the last Jacobian of a Newton iteration (for reuse)


class Domain:
    """The box of order-parameter domains, and runs of them that must not decrease.

    ``monotone``: groups of indices whose values must be non-decreasing (the
    rungs q_i and the steps x_i of a Parisi ladder). ``inside`` tests,
    ``clip`` projects: onto the box, a little inside any open end, after the
    isotonic regression of every group (the nearest non-decreasing sequence).
    """

    def __init__(self, parameters, monotone: list[list[int]] | None = None):
        self.parameters = list(parameters)
        self.monotone = [list(g) for g in (monotone or []) if len(g) > 1]

    def inside(self, theta: Vector) -> bool:
        if not all(p.contains(float(x)) for p, x in zip(self.parameters, theta, strict=False)):
            return False
        return all(np.all(np.diff(np.asarray(theta, dtype=float)[g]) >= 0) for g in self.monotone)

    def reach(self, theta: Vector, step: Vector, fraction: float = 0.9) -> float:
        """The largest t <= 1 keeping theta + t step in the box (``fraction`` of the way to an open end)."""
        t = 1.0
        for p, x, d in zip(self.parameters, theta, step, strict=False):
            if d > 0 and np.isfinite(p.upper):
                t = min(t, (p.upper - x) / d * (1.0 if p.upper_closed else fraction))
            elif d < 0 and np.isfinite(p.lower):
                t = min(t, (p.lower - x) / d * (1.0 if p.lower_closed else fraction))
        return max(t, 0.0)

    def held(self, theta: Vector, step: Vector) -> np.ndarray:
        """Order parameters at a closed end of the box (to 1e-12, relative) that ``step`` would push out of it
        (descent's active set: ``step`` = -grad)."""
        out = np.zeros(len(theta), dtype=bool)
        for i, (p, x, d) in enumerate(zip(self.parameters, theta, step, strict=False)):
            scale = 1e-12 * max(1.0, abs(x))
            out[i] = (p.lower_closed and x <= p.lower + scale and d < 0) or (
                p.upper_closed and x >= p.upper - scale and d > 0
            )
        return out

    def onto_closed_ends(self, theta: Vector) -> Vector:
        """``theta`` with every order parameter beyond a closed end of its domain put on that end."""
        out = np.array(theta, dtype=float)
        for i, p in enumerate(self.parameters):
            if p.lower_closed and out[i] < p.lower:
                out[i] = p.lower
            elif p.upper_closed and out[i] > p.upper:
                out[i] = p.upper
        return out

    def at_open_end(self, theta: Vector, closeness: float = 1e-10) -> list[str]:
        """Names of the order parameters within ``closeness`` (relative) of an open end of their domain.

        An open end is excluded by declaration (the free entropy is singular or
        degenerate there: q -> 1, x -> 0); an iteration that stops there has met
        the end of the domain, not an interior stationary point.
        """
        names = []
        for p, x in zip(self.parameters, theta, strict=False):
            near = closeness * max(1.0, abs(float(x)))
            low = not p.lower_closed and np.isfinite(p.lower) and x - p.lower <= near
            high = not p.upper_closed and np.isfinite(p.upper) and p.upper - x <= near
            if low or high:
                names.append(p.name)
        return names

    def clip(self, theta: Vector) -> Vector:
        """Project onto the domain: isotonic groups, then the box (a little inside any open end)."""
        out = np.array(theta, dtype=float)
        for g in self.monotone:
            out[g] = _isotonic(out[g])
        for i, p in enumerate(self.parameters):
            lo, hi = p.lower, p.upper
            span = 1e-12 * max(1.0, abs(lo) if np.isfinite(lo) else 1.0, abs(hi) if np.isfinite(hi) else 1.0)
            lo_eff = lo if p.lower_closed else lo + span
            hi_eff = hi if p.upper_closed else hi - span
            out[i] = min(max(out[i], lo_eff), hi_eff)
        return out


def _isotonic(values: Vector) -> Vector:
    """The non-decreasing sequence nearest to ``values`` (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, size]
    for v in values:
        blocks.append([float(v), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m1, n1), (m2, n2) = blocks[-2], blocks[-1]
            blocks[-2:] = [[(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2]]
    return np.concatenate([np.full(int(n), m) for m, n in blocks])


def domain_of(free_energy) -> Domain:
    """The Domain of a FreeEnergy's order parameters, with its ladder's monotone runs."""
    names = free_energy.order_parameter_names
    groups = []
    if free_energy.ladder is not None:
        for seq in (free_energy.ladder.qs, free_energy.ladder.xs):
            run = [names.index(str(e)) for e in seq if getattr(e, "is_Symbol", False) and str(e) in names]
            groups.append(run)
    return Domain(free_energy.order_parameters, groups)


def _max_abs(g: Vector) -> float:
    g = np.asarray(g, dtype=float)
    return float(np.max(np.abs(g))) if np.all(np.isfinite(g)) else float("inf")


def fixed_point(
    fmap: Callable[[Vector], Vector],
    theta0: Vector,
    domain: Domain,
    *,
    damping: float,
    tol: float,
    max_iter: int,
    stop_at: float | None = None,
) -> Iteration:
    """Damped iteration of theta = F(theta) until max|theta - F(theta)| <= tol.

    ``stop_at`` ends the iteration early once the residual is below it (used
    by the hybrid method to hand over to Newton).
    """
    theta = domain.clip(theta0)
    target = tol if stop_at is None else max(tol, stop_at)
    residual = float("inf")
    for it in range(max_iter + 1):
        f = fmap(theta)
        residual = _max_abs(theta - f)
        if not np.isfinite(residual):
            return Iteration(theta, residual, it, False, "fixed point: non-finite map")
        if residual <= target:
            return Iteration(theta, residual, it, residual <= tol, "fixed point: converged")
        if it == max_iter:
            break
        theta = domain.clip((1.0 - damping) * theta + damping * f)
    return Iteration(theta, residual, max_iter, False, f"fixed point: no convergence in {max_iter} iterations")


def anderson(
    fmap: Callable[[Vector], Vector],
    theta0: Vector,
    domain: Domain,
    *,
    damping: float,
    tol: float,
    max_iter: int,
    memory: int = 5,
) -> Iteration:
    """Anderson-accelerated fixed point (type II) with a domain safeguard.

    With residuals f_k = F(x_k) - x_k, the step minimises |f_k - dF gamma| over
    the last ``memory`` differences and sets
    x_{k+1} = x_k + d f_k - (dX + d dF) gamma. A step that leaves the domain is
    replaced by a damped step and the history is cleared.
    """
    x = domain.clip(theta0)
    dxs: list[Vector] = []
    dfs: list[Vector] = []
    x_prev = f_prev = None
    residual = float("inf")
    for it in range(max_iter + 1):
        fx = fmap(x) - x
        residual = _max_abs(fx)
        if not np.isfinite(residual):
            return Iteration(x, residual, it, False, "anderson: non-finite map")
        if residual <= tol:
            return Iteration(x, residual, it, True, "anderson: converged")
        if it == max_iter:
            break
        if x_prev is not None:
            dxs.append(x - x_prev)
            dfs.append(fx - f_prev)
            if len(dxs) > memory:
                dxs.pop(0)
                dfs.pop(0)
        x_prev, f_prev = x, fx
        step = damping * fx
        if dxs:
            dX = np.column_stack(dxs)
            dF = np.column_stack(dfs)
            gamma, *_ = np.linalg.lstsq(dF, fx, rcond=None)
            step = step - (dX + damping * dF) @ gamma
        candidate = x + step
        if not domain.inside(candidate) or not np.all(np.isfinite(candidate)):
            candidate = domain.clip(x + damping * fx)
            dxs.clear()
            dfs.clear()
        x = candidate
    return Iteration(x, residual, max_iter, False, f"anderson: no convergence in {max_iter} iterations")


def newton(
    system: Callable[[Vector], tuple[Vector, np.ndarray]],
    residual_fn: Callable[[Vector], Vector],
    theta0: Vector,
    domain: Domain,
    *,
    tol: float,
    max_iter: int,
    broyden: bool = False,
    jac0: np.ndarray | None = None,
) -> Iteration:
    """Newton's method on G(theta) = 0 with the analytic Jacobian.

    Backtracking halves the step until the iterate is inside the domain and
    |G|_2 decreases (Armijo, c = 1e-4). With ``broyden`` the Jacobian (from
    ``jac0`` if given, else ``system``) is updated by rank-one secant steps,
    J += (dG - J dtheta) dtheta^T / |dtheta|^2, and recomputed by ``system``
    only when a step along it fails or stalls.
    """
    if broyden:
        return _broyden(system, residual_fn, theta0, domain, tol=tol, max_iter=max_iter, jac0=jac0)
    theta = np.array(theta0, dtype=float)
    if not domain.inside(theta):
        theta = domain.clip(theta)
    g, jac = system(theta)
    residual = _max_abs(g)
    for it in range(max_iter + 1):
        if np.isfinite(residual) and residual <= tol:  # converged, whatever the Jacobian there
            return Iteration(theta, residual, it, True, "newton: converged")
        if not np.isfinite(residual) or not np.all(np.isfinite(jac)):
            return Iteration(theta, residual, it, False, "newton: non-finite system", jac)
        if residual <= tol:
            return Iteration(theta, residual, it, True, "newton: converged", jac)
        if it == max_iter:
            break
        try:
            step = np.linalg.solve(jac, -g)
        except np.linalg.LinAlgError:
            return Iteration(theta, residual, it, False, "newton: singular Jacobian", jac)
        crossing = _crosses_closed_end(theta, step, domain)
        trial, g_trial = _bounded_step(residual_fn, theta, step, g, jac, domain) if crossing else (None, None)
        if trial is None:
            trial, g_trial = _line_search(residual_fn, theta, step, g, domain, first=lambda t: system(t))
        if trial is None and not crossing:
            trial, g_trial = _bounded_step(residual_fn, theta, step, g, jac, domain)
        if trial is None:
            return Iteration(theta, residual, it, False, "newton: line search failed", jac)
        theta = trial
        if isinstance(g_trial, tuple):  # the full step: system() was called there
            g, jac = g_trial
        else:
            g, jac = system(theta)
        residual = _max_abs(g)
    return Iteration(theta, residual, max_iter, False, f"newton: no convergence in {max_iter} iterations", jac)


def _line_search(residual_fn, theta, step, g, domain, first=None, project=None):
    """Backtracking along ``step``: (theta + t step, G there) with sufficient decrease, or (None, None).

    ``first`` evaluates the full step (t = 1) instead of ``residual_fn`` (Newton
    wants the Jacobian there too); its result is returned as it is. ``project``
    maps each trial point before it is tested (e.g. onto the closed ends it crosses).
    """
    norm = float(np.linalg.norm(g))
    t = 1.0
    while t >= 1e-10:
        trial = theta + t * step
        if project is not None:
            trial = project(trial)
        if domain.inside(trial):
            out = first(trial) if (first is not None and t == 1.0) else residual_fn(trial)
            g_trial = out[0] if isinstance(out, tuple) else out
            if np.all(np.isfinite(g_trial)) and np.linalg.norm(g_trial) <= (1.0 - 1e-4 * t) * norm:
                return trial, out
        t *= 0.5
    return None, None


def _crosses_closed_end(theta, step, domain) -> bool:
    """Whether the full step leaves the domain only through closed ends of the box (a merging ladder's
    increment stepping below zero): put onto them it is inside. Newton takes the bounded step first
    there, as backtracking to stay inside would shrink the whole step to the size of that increment."""
    trial = theta + step
    return not domain.inside(trial) and domain.inside(domain.onto_closed_ends(trial))


def _bounded_step(residual_fn, theta, step, g, jac, domain):
    """A step that stops at the closed ends of the domain, where the plain Newton step fails.

    A root of G may lie on a closed end of the box while the linearised root lies just
    beyond it: two levels of a Parisi ladder that merge (an increment at zero) are a
    stationary point that every iterate approaches from inside. Order parameters already
    at a closed end that the Newton step pushes out are held there and the others take
    the least-squares step of all the equations (G must vanish at a root on the boundary
    too, the held equations included); the trial point is put onto the closed ends it
    crosses; then the usual backtracking. (None, None) if that fails too.
    """
    held = domain.held(theta, step)
    if held.any():
        free = ~held
        step = np.zeros_like(step)
        step[free] = np.linalg.lstsq(jac[:, free], -g, rcond=None)[0]
    return _line_search(residual_fn, theta, step, g, domain, project=domain.onto_closed_ends)


def _broyden(system, residual_fn, theta0, domain, *, tol, max_iter, jac0) -> Iteration:
    """Newton with a Broyden-updated Jacobian (see ``newton``)."""
    theta = np.array(theta0, dtype=float)
    if not domain.inside(theta):
        theta = domain.clip(theta)
    n = len(theta)
    g = np.asarray(residual_fn(theta), dtype=float)
    if _max_abs(g) <= tol:  # a converged start (a warm one): no Jacobian needed
        return Iteration(theta, _max_abs(g), 0, True, "newton: converged", jac0)
    if jac0 is not None and np.shape(jac0) == (n, n) and np.all(np.isfinite(jac0)):
        jac, fresh = np.array(jac0, dtype=float), False
    else:
        g, jac = system(theta)
        g, jac, fresh = np.asarray(g, dtype=float), np.array(jac, dtype=float), True
    residual = _max_abs(g)
    slow = 0
    for it in range(max_iter + 1):
        if not np.isfinite(residual) or not np.all(np.isfinite(jac)):
            return Iteration(theta, residual, it, False, "newton: non-finite system", jac)
        if residual <= tol:
            return Iteration(theta, residual, it, True, "newton: converged", jac)
        if it == max_iter:
            break
        try:
            step = np.linalg.solve(jac, -g)
        except np.linalg.LinAlgError:
            step = None
        crossing = step is not None and _crosses_closed_end(theta, step, domain)
        trial, g_new = _bounded_step(residual_fn, theta, step, g, jac, domain) if crossing else (None, None)
        if trial is None and step is not None:
            trial, g_new = _line_search(residual_fn, theta, step, g, domain)
        if trial is None and fresh and step is not None and not crossing:
            trial, g_new = _bounded_step(residual_fn, theta, step, g, jac, domain)
        if trial is None:
            if fresh:
                why = "singular Jacobian" if step is None else "line search failed"
                return Iteration(theta, residual, it, False, f"newton: {why}", jac)
            g, jac = system(theta)  # the secant Jacobian led nowhere: recompute it here
            g, jac, fresh = np.asarray(g, dtype=float), np.array(jac, dtype=float), True
            continue
        g_new = np.asarray(g_new, dtype=float)
        ds, dg = trial - theta, g_new - g
        jac = jac + np.outer(dg - jac @ ds, ds) / float(ds @ ds)
        fresh = False
        previous, theta, g = residual, trial, g_new
        residual = _max_abs(g)
        slow = slow + 1 if residual > 0.5 * previous else 0
        if slow >= 3:  # linear convergence: the secant model has drifted
            g, jac = system(theta)
            g, jac, fresh, slow = np.asarray(g, dtype=float), np.array(jac, dtype=float), True, 0
    return Iteration(theta, residual, max_iter, False, f"newton: no convergence in {max_iter} iterations", jac)


def _positive(hess: np.ndarray) -> np.ndarray:
    """The symmetric matrix with the eigenvectors of ``hess`` and eigenvalues |lambda| (at least 1e-8 max|lambda|)."""
    hess = np.asarray(hess, dtype=float)
    if not np.all(np.isfinite(hess)):
        return np.eye(len(hess))
    w, v = np.linalg.eigh(0.5 * (hess + hess.T))
    floor = 1e-8 * max(float(np.max(np.abs(w))), 1.0)
    return (v * np.maximum(np.abs(w), floor)) @ v.T


MAX_STEP = 0.1  # the largest step of descend, relative to max(1, |theta_i|)


def descend(
    objective: Callable[[Vector], tuple[float, Vector]],
    hessian: Callable[[Vector], np.ndarray],
    theta0: Vector,
    domain: Domain,
    *,
    tol: float,
    max_iter: int,
    sign: float = 1.0,
    hess0: np.ndarray | None = None,
) -> Iteration:
    """Quasi-Newton descent of sign * phi to a stationary point that is its minimum.

    For a model whose physical saddle point is a minimum (sign = 1) or maximum
    (sign = -1) of phi in its order parameters. The curvature model B starts
    from the Hessian (``hess0`` if given, else ``hessian``) with its
    eigenvalues replaced by their absolute values, so every step
    -B^-1 grad goes downhill (at most MAX_STEP in any order parameter,
    relative to max(1, |theta_i|)), and is then carried by BFGS updates.
    Order parameters at a closed end of their domain that descent (or the
    quasi-Newton step) would push out stay there for the step (an active set); a point where only they
    keep the gradient from zero is not a solution and is reported as such.
    Backtracking keeps iterates inside the domain (a step goes at most 90%
    of the way to an open end of the box, and is projected onto the monotone
    runs of a Parisi ladder, so x(q) stays a Parisi function) and where phi
    is finite,
    with Armijo's decrease of phi (c = 1e-4), or a halving of max |grad| at a
    level phi (within 1e-10: a gradient computed in closed form, e.g. the
    ladder's heat-equation form, and the discretised phi agree to about the
    discretisation error, so near the solution phi alone cannot steer). A failed search recomputes
    the Hessian once, and so do three steps in a row that do not halve
    max |grad|. Converged when max |grad phi| <= tol, the undamped
    residual of the stationarity equations. Unlike Newton on grad phi = 0, it
    cannot end at a saddle or a maximum of sign * phi: where the collapsed
    RS ladder is unstable it leaves it.
    """
    theta = np.array(theta0, dtype=float)
    if not domain.inside(theta):
        theta = domain.clip(theta)

    def f(t):
        value, grad = objective(t)
        return sign * value, sign * np.asarray(grad, dtype=float)

    phi, grad = f(theta)
    if not (np.isfinite(phi) and np.all(np.isfinite(grad))):
        return Iteration(theta, float("inf"), 0, False, "descent: phi not finite at the start")
    fresh = hess0 is None or np.shape(hess0) != (len(theta), len(theta))
    curvature = _positive(sign * np.asarray(hessian(theta) if fresh else hess0, dtype=float))
    residual = _max_abs(grad)
    slow = 0
    for it in range(max_iter + 1):
        if residual <= tol:
            return Iteration(theta, residual, it, True, "descent: converged", sign * curvature)
        if it == max_iter:
            break
        held = domain.held(theta, -grad)  # at a closed end and pushed outwards: keep them there this step
        free = ~held
        if held.any() and _max_abs(grad[free]) <= tol:
            names = ", ".join(p.name for p, h in zip(domain.parameters, held, strict=False) if h)
            why = f"descent: stopped at the end of the domain of {names} (phi still decreases outwards)"
            return Iteration(theta, residual, it, False, why, sign * curvature)
        for _ in range(len(theta)):  # order parameters at a closed end that the step would push out are held too
            step = np.zeros_like(theta)
            try:
                step[free] = -np.linalg.solve(curvature[np.ix_(free, free)], grad[free])
            except np.linalg.LinAlgError:  # a singular (e.g. all-zero) curvature block: steepest descent
                step[free] = -grad[free]
            out = domain.held(theta, step) & free
            if not out.any():
                break
            free &= ~out
        reach = float(np.max(np.abs(step) / (MAX_STEP * np.maximum(1.0, np.abs(theta)))))
        if reach > 1.0:  # a trust region: soft and flipped curvature would send the step far away
            step = step / reach
        slope = float(grad @ step)
        accepted = None
        t = domain.reach(theta, step)  # never onto an open end (phi is often singular there: x -> 0)
        for _ in range(25):
            trial = theta + t * step
            if not domain.inside(trial):  # projected search: onto the monotone runs (and closed ends)
                trial = domain.clip(trial)
            decrease = min(float(grad @ (trial - theta)), t * slope) if np.any(trial != theta) else 0.0
            if decrease < 0:
                phi_t, grad_t = f(trial)
                if np.isfinite(phi_t) and np.all(np.isfinite(grad_t)):
                    level = phi_t - phi <= 1e-10 * max(1.0, abs(phi))
                    if phi_t <= phi + 1e-4 * decrease or (level and _max_abs(grad_t) <= 0.5 * residual):
                        accepted = trial
                        break
            t *= 0.5
        if accepted is None:
            if fresh:
                return Iteration(theta, residual, it, False, "descent: line search failed", sign * curvature)
            curvature, fresh = _positive(sign * np.asarray(hessian(theta), dtype=float)), True
            continue
        s, y = accepted - theta, grad_t - grad
        sy = float(s @ y)
        if sy > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            bs = curvature @ s
            curvature = curvature - np.outer(bs, bs) / float(s @ bs) + np.outer(y, y) / sy
        fresh = False
        previous, theta, phi, grad = residual, accepted, phi_t, grad_t
        residual = _max_abs(grad)
        slow = slow + 1 if residual > 0.5 * previous else 0
        if slow >= 3:  # linear convergence: the BFGS model has drifted from the curvature
            curvature, fresh, slow = _positive(sign * np.asarray(hessian(theta), dtype=float)), True, 0
    return Iteration(theta, residual, max_iter, False, f"descent: no convergence in {max_iter} iterations")
