"""Executors: where the chains of a sweep run.

Each takes tasks (a chain and its finished prefix) and calls
``emit(chain_index, row)`` in the calling process for every finished row;
the caller journals and collects them. A chain runs whole, in order, in one
process (:func:`~replica.run.work.chain_rows`), so every executor gives the
same rows.

- ``run_serial``: in this process, chain after chain.
- ``run_processes``: a pool of ``jobs`` worker processes on this machine.
  Each worker holds one chain at a time, sent to it over its own pipe, and
  sends back its rows as they are solved (batched, at most 50 ms late). Workers are forked where the
  platform allows (they inherit the compiled model), else spawned (they load
  it from the compile cache). A worker that dies (a segfault, the OOM
  killer) loses only its chain: its remaining points become ``error:`` rows
  and a new worker takes the next chain. Workers ignore SIGINT and SIGTERM
  (the parent stops them) and die with the parent (Linux: PR_SET_PDEATHSIG;
  elsewhere at their next row).
- ``run_dask``: one task per chain on a running Dask cluster
  (``dask.distributed``, the optional extra ``replica[dask]``). A chain's
  rows come back when the chain is done; a task whose worker died (Dask
  retries it elsewhere first) or that failed is reported as ``error:`` rows.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..compile import CompiledProblem
from ..config import RunConfig
from ..errors import ReplicaError
from .grid import Chain
from .work import chain_rows, context, dask_chain, error_rows, seed_context

Emit = Callable[[int, dict], None]
DASK_CONNECT_TIMEOUT = "10s"  # to reach the scheduler
SEND_EVERY_S = 0.05  # a pool worker sends its finished rows at least this often


@dataclass
class Task:
    """A chain to run, after its finished prefix ``done`` (rows already in the table)."""

    chain: Chain
    done: list[dict] = field(default_factory=list)


def run_serial(cfg: RunConfig, problem: CompiledProblem, tasks: list[Task], emit: Emit) -> dict:
    for task in tasks:
        for row in chain_rows(cfg, problem, task.chain, task.done):
            emit(task.chain.index, row)
    return {"kind": "serial"}


# --- a pool of local processes -------------------------------------------------------------


def _exit_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(1)


def _worker_main(conn, resolved: dict, parent_pid: int) -> None:
    """A pool worker: receive (chain, done) or None; send ("rows", [row, ...])... then ("done", None).

    Rows go out in batches, at most ``SEND_EVERY_S`` after they are solved (one
    message per point would cost the parent a wake-up per millisecond point).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _exit_with_parent(parent_pid)
    try:
        cfg, problem = context(resolved)
        failure = None
    except Exception as exc:  # pragma: no cover - the parent built the same config
        cfg = problem = None
        failure = f"{type(exc).__name__}: {exc}"
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        chain, done = task
        if failure is not None:
            conn.send(("failed", failure))
            continue
        batch, sent = [], time.monotonic()
        for row in chain_rows(cfg, problem, chain, done):
            batch.append(row)
            if time.monotonic() - sent >= SEND_EVERY_S:
                if os.getppid() != parent_pid:
                    os._exit(1)
                conn.send(("rows", batch))
                batch, sent = [], time.monotonic()
        if batch:
            conn.send(("rows", batch))
        conn.send(("done", None))


@dataclass
class _Worker:
    process: object
    conn: object
    task: Task | None = None
    position: int = 0  # points of the task's chain finished (prefix + rows received)


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"worker process killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    return f"worker process died (exit code {exitcode})"


def start_method() -> str:
    import multiprocessing as mp

    return "fork" if "fork" in mp.get_all_start_methods() else "spawn"


def run_processes(cfg: RunConfig, problem: CompiledProblem, tasks: list[Task], emit: Emit, jobs: int) -> dict:
    import multiprocessing as mp
    from multiprocessing.connection import wait

    method = start_method()
    ctx = mp.get_context(method)
    seed_context(cfg, problem)  # a forked worker finds the compiled problem in place
    queue = deque(tasks)
    workers: list[_Worker] = []
    info = {"kind": "processes", "jobs": jobs, "start_method": method, "workers_started": 0, "workers_lost": 0}

    def start() -> _Worker:
        parent_conn, child_conn = ctx.Pipe()
        process = ctx.Process(target=_worker_main, args=(child_conn, cfg.resolved, os.getpid()), daemon=True)
        process.start()
        child_conn.close()
        info["workers_started"] += 1
        worker = _Worker(process, parent_conn)
        workers.append(worker)
        return worker

    def assign(worker: _Worker) -> None:
        worker.task = queue.popleft() if queue else None
        if worker.task is None:
            try:
                worker.conn.send(None)
            except OSError:
                pass
            return
        worker.position = len(worker.task.done)
        worker.conn.send((worker.task.chain, worker.task.done))

    def lose(worker: _Worker, reason: str) -> None:
        chain = worker.task.chain
        for row in error_rows(chain, worker.position, reason):
            emit(chain.index, row)
        worker.task = None

    def receive(worker: _Worker) -> None:
        """Handle what the worker sent; notice its end (EOF) and report its chain if it died with it."""
        try:
            while worker.task is not None and worker.conn.poll():
                kind, payload = worker.conn.recv()
                if kind == "rows":
                    for row in payload:
                        worker.position += 1
                        emit(worker.task.chain.index, row)
                elif kind == "done":
                    assign(worker)
                else:  # "failed": the worker could not build the problem
                    lose(worker, payload)
                    assign(worker)
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            info["workers_lost"] += 1
            lose(worker, _death(worker.process.exitcode))
            if queue:
                assign(start())

    try:
        for _ in range(min(jobs, len(tasks))):
            assign(start())
        while True:
            busy = [w for w in workers if w.task is not None]
            if not busy:
                break
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0)
            for worker in busy:
                if worker.conn in ready or worker.process.sentinel in ready:
                    receive(worker)
                    if worker.task is not None and not worker.process.is_alive() and not worker.conn.poll():
                        info["workers_lost"] += 1  # ended without closing its pipe
                        lose(worker, _death(worker.process.exitcode))
                        if queue:
                            assign(start())
    finally:
        for worker in workers:
            if worker.process.is_alive() and worker.task is not None:
                worker.process.kill()  # interrupted: its chain is not finished, it runs again on --resume
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
            worker.conn.close()
    return info


# --- a Dask cluster ----------------------------------------------------------------------------


def run_dask(cfg: RunConfig, tasks: list[Task], emit: Emit, address: str) -> dict:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ReplicaError("--dask", "needs dask.distributed: pip install 'replica[dask]'") from None
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ReplicaError("--dask", f"cannot connect to the scheduler at {address}: {exc}") from None
    futures = {}
    try:
        workers = len(client.scheduler_info().get("workers", {}))
        for task in tasks:
            future = client.submit(dask_chain, cfg.resolved, task.chain, task.done, pure=False)
            futures[future] = task
        for future in as_completed(list(futures), loop=client.loop):
            task = futures[future]
            try:
                rows = future.result()
            except Exception as exc:  # KilledWorker after Dask's retries, a lost connection, ...
                rows = error_rows(task.chain, len(task.done), f"dask: {type(exc).__name__}: {exc}")
            for row in rows:
                emit(task.chain.index, row)
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        client.close()
    return {"kind": "dask", "scheduler": address, "workers": workers}
