"""The ``replica`` command line (Click).

Exit status: 0 success; 1 the computation ran but a point did not converge
(``solve``), chains were lost with a worker (``sweep``: run again with
``--resume``) or points are missing (``merge``); 2 bad input (config, option, expression) with a one-line
``error: <field>: <reason>`` on stderr; 130 interrupted (finished points kept).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import signal
import sys
import time
from pathlib import Path

import click
import sympy as sp

from .errors import ReplicaError

SET_HELP = "Override a config value by its dotted path, e.g. params.alpha=0.7 (repeatable)."


def _fail(exc: ReplicaError):
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def handles_errors(fn):
    """Turn ReplicaError into a one-line message and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ReplicaError as exc:
            _fail(exc)

    return wrapper


def _load(config: str, overrides: tuple[str, ...]):
    from .config import load_config

    return load_config(config, list(overrides))


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Within the block, SIGTERM (a batch scheduler's stop) acts like Ctrl-C."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.10g}"
    return str(x)



def _echo_json(obj) -> None:
    """Print ``obj`` as strict JSON (an infinite control value as "inf")."""
    from .run.store import strict_json

    click.echo(strict_json(obj))

@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="replica")
def main():
    """Replica free energies compiled into saddle-point solvers and phase diagrams."""


# --- models ------------------------------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handles_errors
def models(as_json: bool):
    """List models, their options, parameters, observables and transitions."""
    import itertools

    from .models import MODELS
    from .solve import KINDS, kind_available

    out = []
    for info in MODELS.values():
        entry = {
            "model": info.name,
            "description": info.description,
            "options": {k: list(v) for k, v in info.options.items()},
        }
        for k, (lo, hi, doc) in info.integer_options.items():
            entry["options"][k] = [f"integer in [{lo}, {hi}]: {doc}"]
        for k, (lo, hi, most, doc) in info.list_options.items():
            entry["options"][k] = [f"list of at most {most} numbers in ({lo:g}, {hi:g}): {doc}"]
        variants = []
        if info.free_options:
            entry["definition_keys"] = list(info.free_options)
        else:
            seen = []
            for combo in itertools.product(*info.options.values()):
                options = dict(zip(info.options, combo, strict=False))
                for key in info.inapplicable(options):
                    options.pop(key, None)
                if options in seen:
                    continue
                seen.append(options)
                try:
                    fe = info.build(options, dict(info.example_params))
                except ReplicaError as exc:  # an option value the model does not implement (yet)
                    variants.append({"options": options, "not_implemented": exc.reason})
                    continue
                variants.append(
                    {
                        "options": options,
                        "params": {c.name: c.domain_text() for c in fe.controls},
                        "order_parameters": {p.name: p.domain_text() for p in fe.order_parameters},
                        "observables": list(fe.observables) + (["replicon"] if fe.replicon is not None else []),
                        "transitions": [k for k in KINDS if kind_available(fe, k) is None],
                    }
                )
        entry["variants"] = variants
        out.append(entry)
    if as_json:
        _echo_json({"models": out})
        return
    for entry in out:
        click.echo(f"{entry['model']}: {entry['description']}")
        for k, v in entry["options"].items():
            click.echo(f"  options.{k}: {' | '.join(v)}")
        if "definition_keys" in entry:
            click.echo(f"  options: {', '.join(entry['definition_keys'])}")
        for var in entry["variants"]:
            opts = ", ".join(f"{k}={v}" for k, v in var["options"].items())
            click.echo(f"  [{opts}]")
            if "not_implemented" in var:
                click.echo(f"    not implemented: {var['not_implemented']}")
                continue
            click.echo(f"    params: {', '.join(f'{k} in {v}' for k, v in var['params'].items())}")
            click.echo(f"    order parameters: {', '.join(f'{k} in {v}' for k, v in var['order_parameters'].items())}")
            click.echo(f"    observables: {', '.join(var['observables'])}")
            click.echo(f"    transitions: {', '.join(var['transitions']) or '-'}")


# --- show ----------------------------------------------------------------------------


@main.command()
@click.argument("config")
@click.option("--set", "overrides", multiple=True, help=SET_HELP)
@click.option("--latex", is_flag=True, help="Print LaTeX instead of pretty text.")
@handles_errors
def show(config: str, overrides: tuple[str, ...], latex: bool):
    """Print the free entropy and its derived saddle-point equations."""
    cfg = _load(config, overrides)
    fe = cfg.free_energy

    def render(expr) -> str:
        return sp.latex(expr) if latex else sp.pretty(expr, use_unicode=True, wrap_line=False)

    opts = ", ".join(f"{k}={v}" for k, v in cfg.options.items() if isinstance(v, str) and k != "free_entropy")
    click.echo(f"model {cfg.model}" + (f" ({opts})" if opts else "") + f": {fe.description}")
    click.echo("order parameters: " + ", ".join(f"{p.name} in {p.domain_text()}" for p in fe.order_parameters))
    click.echo("control parameters: " + ", ".join(fe.control_names))
    click.echo("\nfree entropy phi =")
    click.echo(render(fe.phi))
    click.echo("\nsaddle-point equations (d phi / d theta = 0):")
    for p, g in zip(fe.order_parameters, fe.gradient, strict=False):
        click.echo(f"\n  d phi / d {p.name} =")
        click.echo(render(g))
    if fe.fixed_point is not None:
        click.echo("\nfixed-point form (theta = F(theta)):")
        for name, expr in fe.fixed_point.items():
            click.echo(f"\n  {name} =")
            click.echo(render(expr))
    else:
        click.echo("\n(no fixed-point form: the solvers use the gradient and the Hessian)")
    if fe.replicon is not None:
        click.echo("\nreplicon eigenvalue lambda_R =")
        click.echo(render(fe.replicon))
    for kind, limit in fe.bound_limits.items():
        click.echo(f"\n{kind}: {limit.order_parameter} -> {limit.bound:g}, phi ~ C/eps with C =")
        click.echo(render(fe.bound_coefficient(kind)))


# --- solve ------------------------------------------------------------------------------


@main.command()
@click.argument("config")
@click.option("--set", "overrides", multiple=True, help=SET_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def solve(config: str, overrides: tuple[str, ...], as_json: bool):
    """Solve the saddle point at the config's params."""
    from .compile import compile_free_energy
    from .solve import solve_point

    cfg = _load(config, overrides)
    problem = compile_free_energy(cfg.free_energy)
    sol = solve_point(problem, cfg.params, cfg.solver, theta0=cfg.theta0())
    result = {
        "model": cfg.model,
        "options": cfg.options,
        "params": cfg.params,
        **sol.to_dict(),
        "config_hash": cfg.hash(),
    }
    rungs = None
    if problem.ladder is not None and sol.converged:
        from .run.parisi import parisi_rungs

        rungs = parisi_rungs(problem, cfg.params, sol.order_parameters)
        result["parisi"] = {key: [r[key] for r in rungs] for key in rungs[0]} if rungs else None
    if as_json:
        _echo_json(result)
    else:
        click.echo(f"{cfg.model}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in cfg.params.items()))
        state = "converged" if sol.converged else "NOT CONVERGED"
        click.echo(
            f"  {state}: residual {sol.residual:.3g}, {sol.iterations} iterations, method {sol.method}, "
            f"{sol.quad_order} quadrature nodes (error {sol.quad_error:.2g})"
        )
        if not sol.converged:
            click.echo(f"  status: {sol.status}")
        for k, v in sol.order_parameters.items():
            click.echo(f"  {k:>12} = {_fmt(v)}")
        for k, v in sol.observables.items():
            if k not in sol.order_parameters:
                click.echo(f"  {k:>12} = {_fmt(v)}")
        if rungs and len(rungs) > 1:
            x = problem.ladder.x_name
            click.echo(f"  Parisi function ({len(rungs) - 1} steps): q_i, {x} on the step above, weight of P(q)")
            for r in rungs:
                click.echo(f"    {r['rung']:>3}  q = {r['q']:.8f}  {x} = {_fmt(r[x]):>12}  P = {_fmt(r['weight'])}")
    sys.exit(0 if sol.converged else 1)


# --- sweep / run ----------------------------------------------------------------------------


class _Progress:
    """Click's progress bar on a terminal (points done, failed, rate, time left); else a log line every few seconds.

    ``start(total, resumed)`` sets the number of points of the run and those
    already finished by an earlier run (``--resume``); rates and time left
    count only the points solved by this run.
    """

    LOG_EVERY_S = 2.0

    def __init__(self, total: int, label: str, failed_word: str = "failed"):
        self.label = label
        self.failed_word = failed_word
        self.bar = None
        self.start(total, 0)

    def start(self, total: int, resumed: int):
        self.total = total
        self.resumed = resumed
        self.done = resumed
        self.failed = 0
        self.t0 = self.last = time.perf_counter()
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
        if sys.stderr.isatty():  # the bar counts this run's points, so that its time left is right
            self.bar = click.progressbar(
                length=total - resumed,
                label=self.label + (f" ({resumed} of {total} points resumed)" if resumed else ""),
                file=sys.stderr,
                show_pos=True,
                show_eta=True,
                item_show_func=self._status,
            )
            self.bar.__enter__()

    def rate(self, now: float) -> float:
        return (self.done - self.resumed) / max(now - self.t0, 1e-9)

    def _status(self, _row) -> str:
        return f"{self.failed} {self.failed_word}, {self.rate(time.perf_counter()):.1f} points/s"

    def __call__(self, row: dict):
        self.done += 1
        self.failed += 0 if row.get("converged", row.get("found", True)) else 1
        if self.bar is not None:
            self.bar.update(1, row)
            return
        now = time.perf_counter()
        if now - self.last >= self.LOG_EVERY_S:
            self.last = now
            self._log(now)

    def _log(self, now: float):
        rate = self.rate(now)
        left = (self.total - self.done) / rate if rate > 0 else math.inf
        resumed = f" ({self.resumed} resumed)" if self.resumed else ""
        click.echo(
            f"[replica] {self.label}: {self.done}/{self.total} points{resumed}, {self.failed} {self.failed_word}, "
            f"{rate:.1f} points/s, about {left:.0f} s left",
            err=True,
        )

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        elif self.last > self.t0:  # there were log lines: end with the final count
            self._log(time.perf_counter())


def _output(cfg, output: str | None) -> str:
    path = output or cfg.output
    if not path:
        raise ReplicaError("output", "no output file: give -o FILE.csv or 'output:' in the config")
    if not path.endswith(".csv"):
        raise ReplicaError("--output", f"expected a path ending in .csv, got {path}")
    return path


def _do_sweep(cfg, path: str, **executor) -> int:
    """Run the sweep (``executor``: jobs, shard, dask, resume); return the exit status (0, or 1 if chains were lost)."""
    from .run import run_sweep

    if cfg.sweep is None:
        raise ReplicaError("sweep", "the config has no sweep section")
    progress = _Progress(cfg.sweep.size, "sweep")
    t0 = time.perf_counter()
    try:
        table = run_sweep(cfg, path, progress=progress, **executor)
    except KeyboardInterrupt:
        progress.close()
        if Path(path).exists():
            click.echo(
                f"interrupted: {progress.done} finished points kept in {path} (marked incomplete; "
                "continue with --resume)",
                err=True,
            )
        else:
            click.echo("interrupted before the sweep started: nothing written", err=True)
        sys.exit(130)
    progress.close()
    side = table.sidecar
    where = f"shard {side['shard']['index']} of {side['shard']['count']}: " if side.get("shard") else ""
    resumed = (side.get("resumed") or {}).get("points")
    click.echo(
        f"wrote {path} ({where}{len(table.rows)} points: {_counts(table.rows)}"
        + (f"; {resumed} from the earlier run" if resumed else "")
        + f") in {time.perf_counter() - t0:.2f} s"
    )
    for t in side["transitions"]:
        click.echo("  " + _transition_line(t))
    errors = side["errors"]
    if errors:
        reasons = sorted({r["status"] for r in table.rows if _status(r).startswith("error: ")})
        click.echo(f"{errors} points lost with their chain ({'; '.join(reasons)}): run again with --resume", err=True)
        return 1
    return 0


def _status(row: dict) -> str:
    return str(row.get("status") or "")


def _counts(rows: list[dict]) -> str:
    """'N converged, M failed[, K beyond capacity (no solution)][, E lost with their chain]'."""
    ok = sum(1 for r in rows if r.get("converged"))
    beyond = sum(1 for r in rows if _status(r).startswith("beyond"))
    errors = sum(1 for r in rows if _status(r).startswith("error: "))
    failed = len(rows) - ok - beyond - errors
    return (
        f"{ok} converged, {failed} failed"
        + (f", {beyond} beyond capacity (no solution)" if beyond else "")
        + (f", {errors} lost with their chain" if errors else "")
    )


def _shard(text: str | None) -> tuple[int, int] | None:
    """``i/n`` (i from 0) or ``auto/n`` (i from SLURM_ARRAY_TASK_ID)."""
    if text is None:
        return None
    index, sep, count = text.partition("/")
    if not sep or not count.strip().isdigit() or int(count) < 1:
        raise ReplicaError("--shard", f"expected i/n (i = 0 .. n-1) or auto/n, got '{text}'")
    n = int(count)
    if index.strip() == "auto":
        env = os.environ.get("SLURM_ARRAY_TASK_ID")
        if env is None:
            raise ReplicaError("--shard", "auto/n reads SLURM_ARRAY_TASK_ID, which is not set (not in a job array?)")
        index, field = env, f"--shard auto/{n}: SLURM_ARRAY_TASK_ID"
    else:
        field = "--shard"
    if not index.strip().isdigit() or not 0 <= int(index) < n:
        raise ReplicaError(field, f"shard index '{index}' is not one of 0 .. {n - 1}")
    return int(index), n


def _jobs(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise ReplicaError("--jobs", f"expected a number of processes (1 or more), got '{text}'")
    return int(text)


def _transition_line(t: dict) -> str:
    where = ", ".join(f"{k}={_fmt(v)}" for k, v in t["params"].items())
    kind = t["kind"] + (f" (layer {t['layer']})" if t.get("layer") is not None else "")
    if t["found"]:
        return f"{kind}: {t['parameter']} = {t['value']:.10g} (tol {t['tolerance']:g}; {where})"
    return f"{kind}: not found ({where}): {t['message']}"


def _do_transitions(cfg, path: str | None):
    from .run import transition_lines

    if not cfg.transitions:
        raise ReplicaError("transitions", "the config names no transitions")
    total = 0
    for req in cfg.transitions:
        n = 1
        for a in cfg.sweep.axes if cfg.sweep else []:
            if a.name != req.parameter:
                n *= len(a.values)
        total += n
    progress = _Progress(total, "transitions", failed_word="not found")
    table = transition_lines(cfg, progress=progress)
    progress.close()
    if path:
        table.write(path)
    return table


@main.command()
@click.argument("config")
@click.option("--set", "overrides", multiple=True, help=SET_HELP)
@click.option("-o", "--output", help="Results CSV (a JSON sidecar is written beside it).")
@click.option("--jobs", "jobs", default="1", metavar="N", help="Run the chains in N local processes (default 1).")
@click.option(
    "--shard",
    metavar="I/N",
    help="Run only shard I of N (I = 0 .. N-1; auto/N reads SLURM_ARRAY_TASK_ID); writes OUT.shard-I-of-N.csv.",
)
@click.option("--dask", metavar="ADDRESS", help="Run the chains on the Dask scheduler at ADDRESS (replica[dask]).")
@click.option("--resume", is_flag=True, help="Keep the finished points in the output (same config); run the rest.")
@handles_errors
def sweep(
    config: str,
    overrides: tuple[str, ...],
    output: str | None,
    jobs: str,
    shard: str | None,
    dask: str | None,
    resume: bool,
):
    """Solve every point of the config's sweep grid, as continuation chains."""
    cfg = _load(config, overrides)
    path = _output(cfg, output)
    n_jobs = _jobs(jobs)
    where = _shard(shard)
    if dask is not None and n_jobs > 1:
        raise ReplicaError("--jobs", "not with --dask: the Dask cluster's workers run the chains")
    if cfg.sweep is None:
        raise ReplicaError("sweep", "the config has no sweep section")
    if where is not None:
        from .run.grid import shard_path

        path = str(shard_path(path, *where))
    with _sigterm_as_interrupt():
        status = _do_sweep(cfg, path, jobs=n_jobs, shard=where, dask=dask, resume=resume)
    sys.exit(status)


@main.command()
@click.argument("shards", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="The merged results CSV (a JSON sidecar is written beside it).")
@handles_errors
def merge(shards: tuple[str, ...], output: str):
    """Join the shard files of one sweep into one table.

    Exit status 0 when the shards cover the grid, 1 when points are missing
    (the table is written, marked incomplete), 2 when the files are not
    shards of one sweep (nothing written).
    """
    from .run.merge import merge_shards

    if not output.endswith(".csv"):
        raise ReplicaError("--output", f"expected a path ending in .csv, got {output}")
    result = merge_shards(list(shards))
    result.table.write(output)
    side = result.table.sidecar
    click.echo(
        f"wrote {output} ({len(shards)} files, {side['points']} of {side['grid_points']} grid points: "
        f"{_counts(result.table.rows)})"
    )
    for t in side["transitions"]:
        click.echo("  " + _transition_line(t))
    axes = side["axes"]
    failed = [r for r in result.failed if not _status(r).startswith("beyond")]
    if failed:
        click.echo(f"failed: {len(failed)} points", err=True)
        for row in failed[:10]:
            click.echo(f"  {_point(row, axes)}: {_status(row)}", err=True)
        if len(failed) > 10:
            click.echo(f"  ... and {len(failed) - 10} more (see the table's status column)", err=True)
    if result.missing:
        shards_text = ", ".join(str(i) for i in result.missing_shards)
        click.echo(
            f"missing: {len(result.missing)} points"
            + (f" (of shard {shards_text}: run it, or continue it with --resume)" if shards_text else ""),
            err=True,
        )
        for point in result.missing[:10]:
            click.echo(f"  {_point(point, axes)}", err=True)
        if len(result.missing) > 10:
            click.echo(f"  ... and {len(result.missing) - 10} more (listed in the sidecar)", err=True)
    sys.exit(0 if result.complete else 1)


def _point(row: dict, axes: list[str]) -> str:
    return ", ".join(f"{a}={_fmt(row.get(a))}" for a in axes)


@main.command()
@click.argument("config")
@click.option("--set", "overrides", multiple=True, help=SET_HELP)
@click.option("--json", "as_json", is_flag=True, help='Print {"transitions": [...]}.')
@click.option("-o", "--output", help="Also write the transitions as a CSV table (+ JSON sidecar).")
@handles_errors
def transition(config: str, overrides: tuple[str, ...], as_json: bool, output: str | None):
    """Locate the transitions the config names, to tolerance."""
    cfg = _load(config, overrides)
    if output is not None:
        _output(cfg, output)
    table = _do_transitions(cfg, output)
    transitions = table.sidecar["transitions"]
    if as_json:
        _echo_json({"transitions": transitions})
    else:
        for t in transitions:
            click.echo(_transition_line(t))


@main.command()
@click.argument("results")
@click.option("-o", "--output", help="PDF path (default: beside the CSV).")
@handles_errors
def plot(results: str, output: str | None):
    """Draw the figure of a results table."""
    from .run.plot import plot_file

    path = plot_file(results, output)
    click.echo(f"wrote {path}")


@main.command()
@click.argument("config")
@click.option("--set", "overrides", multiple=True, help=SET_HELP)
@click.option("-o", "--output", help="Results CSV (default: the config's output).")
@handles_errors
def run(config: str, overrides: tuple[str, ...], output: str | None):
    """Do what the config asks (a sweep, or transition lines over it) and draw it.

    If every transition is in a swept parameter (or there are none) this is
    ``sweep`` then ``plot``; if a transition is in a parameter that is not
    swept, its line is located over the sweep grid (a phase diagram).
    """
    from .run.plot import plot_file

    cfg = _load(config, overrides)
    path = _output(cfg, output)
    swept = set(cfg.sweep.names) if cfg.sweep else set()
    status = 0
    with _sigterm_as_interrupt():
        if cfg.transitions and any(t.parameter not in swept for t in cfg.transitions):
            table = _do_transitions(cfg, path)
            click.echo(f"wrote {path} ({len(table.rows)} transition points)")
        else:
            status = _do_sweep(cfg, path)
    click.echo(f"wrote {plot_file(path)}")
    if status:
        sys.exit(status)


@main.command()
@click.argument("config")
@click.option("--set", "overrides", multiple=True, help=SET_HELP)
@handles_errors
def validate(config: str, overrides: tuple[str, ...]):
    """Check a config without running it."""
    cfg = _load(config, overrides)
    parts = [f"model {cfg.model}"]
    opts = ", ".join(f"{k}={v}" for k, v in cfg.options.items() if isinstance(v, str) and k != "free_entropy")
    if opts:
        parts[0] += f" ({opts})"
    parts.append("params " + ", ".join(f"{k}={v:g}" for k, v in cfg.params.items()))
    if cfg.sweep:
        parts.append(f"sweep of {cfg.sweep.size} points along {cfg.sweep.chain}")
    if cfg.transitions:
        parts.append(f"{len(cfg.transitions)} transition(s): " + ", ".join(t.kind for t in cfg.transitions))
    click.echo(f"ok: {config}: " + "; ".join(parts))


if __name__ == "__main__":  # pragma: no cover
    main()
