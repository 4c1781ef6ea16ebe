"""Many points: sweeps as continuation chains, and transition lines.

A sweep is the grid of its axes; the ``chain`` axis (by default the last one
listed) is walked as a continuation chain for every combination of the other
axes. Each chain starts cold from the model's (or the config's) initial
guess. Rows are tidy: controls, order parameters, observables, status.

``sweep.direction: both`` walks every chain forwards, then backwards (the
backward chain follows the model's ``backward_branch`` where it declares
one); the rows carry a ``branch`` column, ``forward`` or ``backward``, so
that both branches of a first-order transition are in the table.

Transitions whose parameter is the chain axis are located along every chain
after the sweep: the sign change seen in the table gives the bracket, which
brentq refines. ``transition_lines`` locates each transition of a config
over the grid of the *other* swept axes (e.g. alpha_c(kappa)).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..compile import CompiledProblem, compile_free_energy
from ..config import RunConfig
from ..solve import Solution, Transition, TransitionRequest, locate, result_observable_names, solve_chain
from ..solve.transitions import KINDS, backward_problem, capacity_skip
from .store import STATUS_COLUMNS, Journal, now, provenance, write_results

ProgressFn = Callable[[dict], None]


@dataclass
class Table:
    """A results table and its sidecar."""

    columns: list[str]
    rows: list[dict]
    sidecar: dict = field(default_factory=dict)

    def write(self, path) -> None:
        write_results(path, self.columns, self.rows, self.sidecar)


def sweep_columns(cfg: RunConfig, problem: CompiledProblem) -> list[str]:
    fe = cfg.free_energy
    cols = list(fe.control_names) + (["branch"] if cfg.sweep.direction == "both" else [])
    cols += list(fe.order_parameter_names)
    cols += [n for n in result_observable_names(problem) if n not in cols]
    return cols + list(STATUS_COLUMNS)


def solution_row(params: dict, sol: Solution | None, skipped: str | None) -> dict:
    row = dict(params)
    if sol is None:
        row.update(
            converged=False,
            residual=None,
            iterations=0,
            quad_order=None,
            quad_error=None,
            wall_time=0.0,
            status=skipped,
        )
        return row
    row.update(sol.values)
    row.update(
        converged=sol.converged,
        residual=sol.residual if math.isfinite(sol.residual) else None,
        iterations=sol.iterations,
        quad_order=sol.quad_order,
        quad_error=sol.quad_error if math.isfinite(sol.quad_error) else None,
        wall_time=sol.wall_time,
        status=sol.status,
    )
    return row


def chains(cfg: RunConfig) -> Iterator[tuple[dict, np.ndarray, str]]:
    """(fixed params, chain values, direction) for every chain of the sweep grid (two each if ``both``)."""
    sweep = cfg.sweep
    others = [a for a in sweep.axes if a.name != sweep.chain]
    values = sweep.axis(sweep.chain).values
    directions = ("forward", "backward") if sweep.direction == "both" else (sweep.direction,)
    for combo in itertools.product(*(a.values for a in others)):
        base = dict(cfg.params)
        base.update({a.name: float(v) for a, v in zip(others, combo, strict=False)})
        for direction in directions:
            yield base, (values if direction == "forward" else values[::-1]), direction


def base_sidecar(cfg: RunConfig, kind: str) -> dict:
    return {
        "kind": kind,
        "model": cfg.model,
        "config": cfg.resolved,
        "config_hash": cfg.hash(),
        "source": cfg.source,
        "labels": dict(cfg.free_energy.labels),
        **provenance(),
        "started": now(),
    }


def run_sweep(cfg: RunConfig, output: str | None = None, progress: ProgressFn | None = None) -> Table:
    """Solve every point of the sweep grid; write ``output`` (+ sidecar) if given.

    Finished points go to a journal as they come; if the sweep is interrupted
    (KeyboardInterrupt, which the CLI also raises on SIGTERM) the table of
    finished points is written, marked incomplete, and the interrupt re-raised.
    """
    if cfg.sweep is None:
        raise ValueError("the config has no sweep")
    t0 = time.perf_counter()
    problem = compile_free_energy(cfg.free_energy).warm_up()
    t_compile = time.perf_counter() - t0
    columns = sweep_columns(cfg, problem)
    sidecar = base_sidecar(cfg, "sweep")
    sidecar.update(columns=columns, chain_axis=cfg.sweep.chain, axes=cfg.sweep.names, points=cfg.sweep.size)
    rows: list[dict] = []
    journal = Journal(output) if output else None
    skip = capacity_skip(problem)
    interrupted = False
    pending: dict | None = None
    t_solve = time.perf_counter()
    backward = backward_problem(problem)
    try:
        for base, values, direction in chains(cfg):
            chain_problem = backward if direction == "backward" else problem
            theta0 = cfg.theta0() if chain_problem is problem else None
            for params, sol, why in solve_chain(
                chain_problem, base, cfg.sweep.chain, values, cfg.solver, theta0=theta0, skip=skip
            ):
                row = solution_row(params, sol, why)
                if cfg.sweep.direction == "both":
                    row["branch"] = direction
                pending = row
                if journal:
                    journal.append(row)
                rows.append(row)
                pending = None
                if progress:
                    progress(row)
    except KeyboardInterrupt:
        interrupted = True
        if journal and pending is not None and journal.count > len(rows):
            rows.append(pending)  # journaled just before the interrupt: keep table and journal in step
    solve_time = time.perf_counter() - t_solve
    transitions: list[dict] = []
    if not interrupted:
        transitions = [t.to_dict() for t in transitions_along_chains(cfg, problem, rows)]
    times = [r["wall_time"] for r in rows if r.get("wall_time")]
    sidecar.update(
        finished=now(),
        complete=not interrupted,
        converged=sum(1 for r in rows if r["converged"]),
        failed=sum(1 for r in rows if not r["converged"]),
        transitions=transitions,
        timings={
            "compile_s": t_compile,
            "solve_s": solve_time,
            "per_point_mean_s": float(np.mean(times)) if times else None,
            "per_point_max_s": float(np.max(times)) if times else None,
            "point_wall_times_s": times,
        },
    )
    table = Table(columns, rows, sidecar)
    if output:
        table.write(output)
        journal.close(remove=not interrupted)
    if interrupted:
        raise KeyboardInterrupt
    return table


def transitions_along_chains(cfg: RunConfig, problem: CompiledProblem, rows: list[dict]) -> list[Transition]:
    """Locate the config's transitions in the chain parameter, along every chain."""
    out = []
    chain = cfg.sweep.chain
    fixed = [a.name for a in cfg.sweep.axes if a.name != chain]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if row.get("branch", "forward") == "forward":  # sign changes along one branch
            groups.setdefault(tuple(row[n] for n in fixed), []).append(row)
    for request in cfg.transitions:
        if request.parameter != chain:
            continue
        kind = KINDS[request.kind]
        for key, group in groups.items():
            group = sorted(group, key=lambda r: r[chain])
            params = dict(cfg.params)
            params.update(dict(zip(fixed, key, strict=False)))
            found = _sign_change(group, chain, kind.observable) if kind.observable else None
            if found is None:  # not bracketed by the sweep: scan the requested bracket
                out.append(locate(problem, request, params, cfg.solver))
                continue
            # bracketed by the sweep itself: refine between the two rows, from their solutions
            left, right = found
            bracket = (left[chain], right[chain])
            theta0 = np.array([left[n] for n in cfg.free_energy.order_parameter_names], dtype=float)
            order = max(left["quad_order"], right["quad_order"])
            request_here = TransitionRequest(request.kind, chain, bracket, request.tol, 2)
            out.append(locate(problem, request_here, params, cfg.solver, theta0=theta0, quad_order=order))
    return out


def _sign_change(rows: list[dict], x: str, y: str) -> tuple[dict, dict] | None:
    """The first two consecutive converged rows (sorted in ``x``) where ``y`` changes sign."""
    prev = None
    for row in rows:
        value = row.get(y)
        if not row["converged"] or value is None:
            prev = None
            continue
        if prev is not None and np.sign(value) != np.sign(prev.get(y)):
            return prev, row
        prev = row
    return None


TRANSITION_COLUMNS = ("kind", "parameter", "value", "tolerance", "found", "message")


def transition_lines(cfg: RunConfig, progress: ProgressFn | None = None) -> Table:
    """Locate every transition of the config, over the grid of the other swept axes."""
    t0 = time.perf_counter()
    problem = compile_free_energy(cfg.free_energy).warm_up()
    t_compile = time.perf_counter() - t0
    axes = cfg.sweep.axes if cfg.sweep else []
    rows: list[dict] = []
    results: list[Transition] = []
    for request in cfg.transitions:
        grid_axes = [a for a in axes if a.name != request.parameter]
        for combo in itertools.product(*(a.values for a in grid_axes)):
            params = dict(cfg.params)
            params.update({a.name: float(v) for a, v in zip(grid_axes, combo, strict=False)})
            t = locate(problem, request, params, cfg.solver)
            results.append(t)
            row = {a.name: params[a.name] for a in grid_axes}
            row.update({k: v for k, v in t.to_dict().items() if k in TRANSITION_COLUMNS})
            rows.append(row)
            if progress:
                progress(row)
    grid_names = [a.name for a in axes]
    columns = grid_names + list(TRANSITION_COLUMNS)
    sidecar = base_sidecar(cfg, "transitions")
    sidecar.update(
        columns=columns,
        axes=grid_names,
        transitions=[t.to_dict() for t in results],
        finished=now(),
        complete=True,
        timings={"compile_s": t_compile, "total_s": time.perf_counter() - t0},
    )
    return Table(columns, rows, sidecar)
