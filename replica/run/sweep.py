"""Many points: sweeps as continuation chains, and transition lines.

A sweep is the grid of its axes; the ``chain`` axis (by default the last one
listed) is walked as a continuation chain for every combination of the other
axes (run/grid.py). A chain is the unit of work: it runs whole, in one
process, serially (``jobs=1``), in a local process pool (``jobs=N``) or on a
Dask cluster (run/executors.py), so every executor gives the same table.
``shard=(i, n)`` runs only the i-th of n disjoint sets of chains (a job
array's task). Rows are tidy: controls, order parameters, observables,
status; the table lists chains in the grid's order, each in its walking order.

Nothing finished is lost: each row is journalled (``<output>.journal``) the
moment it reaches this process; an interrupt (KeyboardInterrupt, which the
CLI also raises on SIGTERM) writes the finished rows as a table marked
incomplete. ``resume=True`` keeps the finished rows an earlier run of the same
config left (journal or table) and runs the rest of each chain from where it
stopped, with the state the chain had there.

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
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..compile import CompiledProblem, compile_free_energy
from ..config import RunConfig
from ..files import atomic_write
from ..solve import Transition, TransitionRequest, locate, result_observable_names
from ..solve.transitions import request_kind
from .executors import Task, run_dask, run_processes, run_serial
from .grid import Chain, finished_prefix, grid_chains, group_rows, is_error, shard_chains
from .parisi import layer_table, parisi_path, parisi_table
from .store import STATUS_COLUMNS, Journal, finished_rows, now, provenance, table_text, write_results
from .work import solution_row

__all__ = ["Table", "run_sweep", "solution_row", "sweep_columns", "transition_lines"]

# called with every finished row; if it has ``start(total, resumed)``, that is called first
ProgressFn = Callable[[dict], None]
DIAGNOSTICS = ("wall_time", "iterations", "residual", "quad_order", "quad_error", "_hessian_eigenvalues", "_worker")


@dataclass
class Table:
    """A results table and its sidecar."""

    columns: list[str]
    rows: list[dict]
    sidecar: dict = field(default_factory=dict)
    parisi: tuple[list[str], list[dict]] | None = None  # the long table of Parisi functions (run/parisi.py)

    def write(self, path) -> None:
        write_results(path, self.columns, self.rows, self.sidecar)
        if self.parisi is not None:
            atomic_write(parisi_path(path), table_text(*self.parisi))


def sweep_columns(cfg: RunConfig, problem: CompiledProblem) -> list[str]:
    fe = cfg.free_energy
    cols = list(fe.control_names) + (["branch"] if cfg.sweep.direction == "both" else [])
    cols += list(fe.order_parameter_names)
    cols += [n for n in result_observable_names(problem) if n not in cols]
    return cols + list(STATUS_COLUMNS)


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


class _Rows:
    """The rows of a run by chain, kept in step with the journal (a row is in both or in neither)."""

    def __init__(self, chains: list[Chain], done: dict[int, list[dict]], journal: Journal | None, progress):
        self.by_chain = {c.index: list(done[c.index]) for c in chains}
        self.journal = journal
        self.progress = progress
        self.pending: tuple[int, dict] | None = None

    def add(self, index: int, row: dict) -> None:
        self.pending = (index, row)
        if self.journal:
            self.journal.append(row)
        self.by_chain[index].append(row)
        self.pending = None
        if self.progress:
            self.progress(row)

    def settle(self) -> None:
        """After an interrupt: keep a row the journal holds but the table did not get."""
        if self.pending and self.journal and self.journal.last is self.pending[1]:
            self.by_chain[self.pending[0]].append(self.pending[1])
        self.pending = None

    def table(self) -> list[dict]:
        return [row for index in sorted(self.by_chain) for row in self.by_chain[index]]


def run_sweep(
    cfg: RunConfig,
    output: str | None = None,
    progress: ProgressFn | None = None,
    *,
    jobs: int = 1,
    shard: tuple[int, int] | None = None,
    dask: str | None = None,
    resume: bool = False,
) -> Table:
    """Solve every point of the sweep grid (or of one shard of it); write ``output`` (+ sidecar) if given.

    ``jobs``: local worker processes (1: in this process); ``dask``: the
    address of a Dask scheduler; ``shard=(i, n)``: only the chains of shard i
    of n; ``resume``: keep the finished rows already at ``output`` (same
    config) and run only the rest.
    """
    if cfg.sweep is None:
        raise ValueError("the config has no sweep")
    if resume and not output:
        raise ValueError("resume needs an output file")
    t0 = time.perf_counter()
    problem = compile_free_energy(cfg.free_energy).warm_up()
    t_compile = time.perf_counter() - t0
    columns = sweep_columns(cfg, problem)
    chains = grid_chains(cfg.sweep, cfg.params)
    if shard is not None:
        chains = shard_chains(chains, *shard)
    previous, source = finished_rows(output, cfg.hash()) if resume else ([], None)
    grouped = group_rows(previous, chains)
    done = {c.index: finished_prefix(c, grouped[c.index]) for c in chains}
    tasks = [Task(c, done[c.index]) for c in chains if len(done[c.index]) < len(c)]
    resumed = sum(len(d) for d in done.values())
    total = sum(len(c) for c in chains)

    sidecar = base_sidecar(cfg, "sweep")
    sidecar.update(
        columns=columns,
        chain_axis=cfg.sweep.chain,
        axes=cfg.sweep.names,
        points=total,
        grid_points=cfg.sweep.size,
        chains=[c.index for c in chains],
        shard={"index": shard[0], "count": shard[1]} if shard else None,
        resumed={"points": resumed, "from": source} if resume else None,
        compile=dict(getattr(problem, "cache_info", {}), seconds=t_compile),
    )
    journal = None
    if output:
        header = {"config_hash": cfg.hash(), "started": sidecar["started"], "shard": sidecar["shard"]}
        journal = Journal(output, header, rows=[row for c in chains for row in done[c.index]])
    if progress is not None and hasattr(progress, "start"):
        progress.start(total, resumed)
    collected = _Rows(chains, done, journal, progress)
    interrupted = False
    executor: dict = {"kind": "dask" if dask else ("processes" if jobs > 1 else "serial")}
    t_solve = time.perf_counter()
    try:
        if dask:
            executor = run_dask(cfg, tasks, collected.add, dask)
        elif jobs > 1 and len(tasks) > 1:
            executor = run_processes(cfg, problem, tasks, collected.add, jobs)
        else:
            executor = run_serial(cfg, problem, tasks, collected.add)
            if jobs > 1:
                executor["note"] = f"jobs={jobs}, but one chain to run: run in this process"
    except KeyboardInterrupt:
        interrupted = True
        collected.settle()
    solve_time = time.perf_counter() - t_solve
    rows = collected.table()
    errors = sum(1 for r in rows if is_error(r))
    transitions: list[tuple[tuple[int, int], Transition]] = []
    if not interrupted:
        transitions = transitions_along_chains(cfg, problem, chains, collected.by_chain)
    times = [r.get("wall_time") or 0.0 for r in rows]
    solved = [t for t in times if t > 0]
    sidecar.update(
        executor=executor,
        finished=now(),
        complete=not interrupted and errors == 0 and len(rows) == total,
        converged=sum(1 for r in rows if r["converged"]),
        failed=sum(1 for r in rows if not r["converged"]),
        errors=errors,
        transitions=[t.to_dict() for _, t in transitions],
        transition_keys=[list(k) for k, _ in transitions],
        timings={
            "compile_s": t_compile,
            "solve_s": solve_time,
            "per_point_mean_s": float(np.mean(solved)) if solved else None,
            "per_point_max_s": float(np.max(solved)) if solved else None,
            "point_wall_times_s": times,
        },
        point_diagnostics=diagnostics(cfg.sweep.names, rows),
    )
    table = Table(columns, rows, sidecar)
    if problem.ladder is not None:
        table.parisi = parisi_table(problem, cfg.sweep.names, rows)
    elif problem.free_energy.layer_ladders is not None:
        table.parisi = layer_table(problem, cfg.sweep.names, rows)
    if output:
        table.write(output)
        journal.close(remove=not interrupted)
    if interrupted:
        raise KeyboardInterrupt
    return table


def diagnostics(axes: list[str], rows: list[dict]) -> dict:
    """Per-point solver diagnostics for the sidecar, one list per row (None where unknown)."""
    names = list(axes) + [d.lstrip("_") for d in DIAGNOSTICS]
    return {"columns": names, "rows": [[r.get(a) for a in axes] + [r.get(d) for d in DIAGNOSTICS] for r in rows]}


def transitions_along_chains(
    cfg: RunConfig, problem: CompiledProblem, chains: list[Chain], rows_by_chain: dict[int, list[dict]]
) -> list[tuple[tuple[int, int], Transition]]:
    """Locate the config's transitions in the chain parameter, along every chain.

    Each comes with its key (transition request index, chain index): sorted by
    it, the transitions of shards merge into those of the whole grid.
    """
    out = []
    chain_axis = cfg.sweep.chain
    for r, request in enumerate(cfg.transitions):
        if request.parameter != chain_axis:
            continue
        kind = request_kind(request)
        own = request.free_energy is not None  # another ansatz than the sweep's: the rows do not bracket it
        for chain in chains:
            if chain.direction == "backward" and cfg.sweep.direction == "both":
                continue  # sign changes along the forward branch (first_order scans both itself)
            group = sorted(rows_by_chain[chain.index], key=lambda row: row[chain_axis])
            params = dict(chain.base)
            bracketed = kind.observable and not own and request.over is None  # over: a minimum, not a crossing
            found = _sign_change(group, chain_axis, kind.observable) if bracketed else None
            if found is None:  # not bracketed by the sweep: scan the requested bracket
                out.append(((r, chain.index), locate(transition_problem(cfg, request), request, params, cfg.solver)))
                continue
            # bracketed by the sweep itself: refine between the two rows, from their solutions
            left, right = found
            bracket = (left[chain_axis], right[chain_axis])
            theta0 = np.array([left[n] for n in cfg.free_energy.order_parameter_names], dtype=float)
            order = max(left["quad_order"], right["quad_order"])
            request_here = TransitionRequest(request.kind, chain_axis, bracket, request.tol, 2, layer=request.layer)
            t = locate(problem, request_here, params, cfg.solver, theta0=theta0, quad_order=order)
            out.append(((r, chain.index), t))
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


TRANSITION_COLUMNS = ("kind", "parameter", "value", "tolerance", "found", "message", "options")


def transition_problem(cfg: RunConfig, request: TransitionRequest) -> CompiledProblem:
    """The compiled model a transition is located in: its own options' model, or the config's."""
    return compile_free_energy(request.free_energy or cfg.free_energy).warm_up()


def transition_lines(cfg: RunConfig, progress: ProgressFn | None = None) -> Table:
    """Locate every transition of the config, over the grid of the other swept axes."""
    t0 = time.perf_counter()
    problems = [transition_problem(cfg, request) for request in cfg.transitions]
    t_compile = time.perf_counter() - t0
    axes = cfg.sweep.axes if cfg.sweep else []
    rows: list[dict] = []
    results: list[Transition] = []
    for request, problem in zip(cfg.transitions, problems, strict=True):
        # the control a transition is minimised over (``over``) is its own search, not a grid axis
        excluded = {request.parameter} | ({request.over[0]} if request.over else set())
        grid_axes = [a for a in axes if a.name not in excluded]
        for combo in itertools.product(*(a.values for a in grid_axes)):
            params = dict(cfg.params)
            params.update({a.name: float(v) for a, v in zip(grid_axes, combo, strict=False)})
            t = locate(problem, request, params, cfg.solver)
            results.append(t)
            row = {a.name: params[a.name] for a in grid_axes}
            if request.over and request.over[0] in {a.name for a in axes}:  # where the minimum over it is
                row[request.over[0]] = t.params.get(request.over[0])
            row.update({k: v for k, v in t.to_dict().items() if k in TRANSITION_COLUMNS or k == "layer"})
            rows.append(row)
            if progress:
                progress(row)
    grid_names = [a.name for a in axes]
    columns = grid_names + list(TRANSITION_COLUMNS)
    if any(request.layer is not None for request in cfg.transitions):
        columns.append("layer")  # glass transitions: the layer that turns glassy
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
