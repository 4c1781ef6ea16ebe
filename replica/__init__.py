"""replica: replica free energies compiled into saddle-point solvers and phase diagrams.

The library behind the ``replica`` command::

    import replica
    sol = replica.solve_config("configs/binary_rs.yaml", set=["params.alpha=0.8"])
    sol.converged, sol.order_parameters["q"], sol.observables["entropy"]
    table = replica.sweep_config("configs/binary_rs.yaml", output="results/binary_rs.csv", jobs=2)
    found = replica.locate_transitions("configs/spherical_capacity.yaml")

Each takes a config path (or a config mapping) and optional ``set`` overrides
with the same dotted paths as the command line's ``--set``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("replica")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def load(config, set: list[str] | None = None):  # noqa: A002 - mirrors --set
    """A validated RunConfig from a YAML path or a mapping."""
    from .config import apply_overrides, load_config, validate

    if isinstance(config, dict):
        return validate(apply_overrides(config, list(set or [])))
    return load_config(config, list(set or []))


def solve_config(config, set: list[str] | None = None):  # noqa: A002
    """Solve the saddle point at the config's params; returns a Solution."""
    from .compile import compile_free_energy
    from .solve import solve_point

    cfg = load(config, set)
    return solve_point(compile_free_energy(cfg.free_energy), cfg.params, cfg.solver, theta0=cfg.theta0())


def sweep_config(config, output: str | None = None, set: list[str] | None = None, **executor):  # noqa: A002
    """Run the config's sweep; returns a Table (columns, rows, sidecar); writes ``output`` if given.

    ``executor``: ``jobs=N`` (local processes), ``shard=(i, n)``, ``dask="tcp://host:port"``,
    ``resume=True``, as the command line's ``--jobs``, ``--shard``, ``--dask``, ``--resume``.
    """
    from .run import run_sweep

    return run_sweep(load(config, set), output, **executor)


def locate_transitions(config, set: list[str] | None = None) -> list[dict]:  # noqa: A002
    """Locate the config's transitions (over the grid of its other swept axes)."""
    from .run import transition_lines

    return transition_lines(load(config, set)).sidecar["transitions"]


__all__ = ["__version__", "load", "locate_transitions", "solve_config", "sweep_config"]
