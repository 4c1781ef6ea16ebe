"""One chain's work, the same in every executor: solve its remaining points, one table row each.

``chain_rows`` is what a worker runs, in this process, in a pool process or
on a Dask worker: it rebuilds the chain's state from its finished prefix
(:func:`~replica.run.grid.replay`), walks the rest of the chain and yields a
row per point. If solving raises, the rest of the chain becomes ``error:``
rows naming the exception (a failed chain is reported, never a crash of the
sweep) and ``--resume`` runs them again.

``context`` gives a worker process the config and the compiled problem from
the resolved config (a plain mapping, which is what travels to a worker);
it is built once per process, and the compile cache on disk makes that cheap.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import threading
from collections.abc import Iterator

from ..compile import CompiledProblem, compile_free_energy
from ..config import RunConfig
from ..solve import Solution, solve_chain
from ..solve.transitions import backward_problem, capacity_skip
from .grid import ERROR_PREFIX, Chain, replay


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def solution_row(params: dict, sol: Solution | None, skipped: str | None) -> dict:
    """A table row: the point's controls, values and status (and, beyond the table's columns, diagnostics).

    Keys starting with ``_`` are not table columns: the Hessian eigenvalues
    and the process that solved the point, for the sidecar.
    """
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
        _hessian_eigenvalues=sol.stability.get("hessian_eigenvalues"),
        _worker=_worker_name(),
    )
    return row


def error_rows(chain: Chain, start: int, reason: str) -> list[dict]:
    """Rows for the points of ``chain`` from ``start`` on, lost with their chain for ``reason``."""
    reason = " / ".join(str(reason).strip().splitlines()) or "unknown error"
    rows = []
    for x in chain.values[start:]:
        row = dict(chain.base)
        row[chain.parameter] = float(x)
        row.update(
            converged=False,
            residual=None,
            iterations=0,
            quad_order=None,
            quad_error=None,
            wall_time=0.0,
            status=ERROR_PREFIX + reason,
        )
        if chain.branch:
            row["branch"] = chain.direction
        rows.append(row)
    return rows


def chain_rows(cfg: RunConfig, problem: CompiledProblem, chain: Chain, done: list[dict]) -> Iterator[dict]:
    """Rows of ``chain`` after its finished prefix ``done``, in chain order; never raises an Exception."""
    position = len(done)
    try:
        theta0 = cfg.theta0()
        if chain.branch and chain.direction == "backward":  # the model's backward branch, if it declares one
            problem, theta0 = _backward(problem), None
        state = replay(chain, done, problem.free_energy.order_parameter_names, theta0)
        skip = capacity_skip(problem)
        remaining = chain.values[position:]
        for params, sol, why in solve_chain(
            problem, chain.base, chain.parameter, remaining, cfg.solver, skip=skip, state=state
        ):
            position += 1
            row = solution_row(params, sol, why)
            if chain.branch:
                row["branch"] = chain.direction
            yield row
    except Exception as exc:  # the chain is lost, not the sweep: report it on its points
        yield from error_rows(chain, position, f"{type(exc).__name__}: {exc}")


_BACKWARD: dict[int, CompiledProblem] = {}


def _backward(problem: CompiledProblem) -> CompiledProblem:
    """:func:`backward_problem` of ``problem``, compiled once per process."""
    if id(problem) not in _BACKWARD:
        _BACKWARD[id(problem)] = backward_problem(problem)
    return _BACKWARD[id(problem)]


# --- a worker's config and compiled problem ----------------------------------------------

_CONTEXTS: dict[str, tuple[RunConfig, CompiledProblem]] = {}
_LOCK = threading.Lock()


def _resolved_key(resolved: dict) -> str:
    return hashlib.sha256(json.dumps(resolved, sort_keys=True, default=str).encode()).hexdigest()


def seed_context(cfg: RunConfig, problem: CompiledProblem) -> None:
    """Make this process's (cfg, problem) the context of its resolved config (forked workers inherit it)."""
    with _LOCK:
        _CONTEXTS[_resolved_key(cfg.resolved)] = (cfg, problem)


def context(resolved: dict) -> tuple[RunConfig, CompiledProblem]:
    """The (config, compiled problem) of a resolved config, built once per process."""
    key = _resolved_key(resolved)
    with _LOCK:
        if key not in _CONTEXTS:
            from ..config import validate

            cfg = validate(resolved)
            _CONTEXTS[key] = (cfg, compile_free_energy(cfg.free_energy).warm_up())
        return _CONTEXTS[key]


def dask_chain(resolved: dict, chain: Chain, done: list[dict]) -> list[dict]:
    """A Dask task: the rows of one chain (after its finished prefix)."""
    cfg, problem = context(resolved)
    return list(chain_rows(cfg, problem, chain, done))
