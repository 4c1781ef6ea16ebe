"""The sweep grid as units of work: continuation chains, shards, and finished prefixes.

A :class:`Chain` is one continuation chain: the fixed values of the other
axes, the chain parameter and its values in the order walked (``direction``).
It is the unit of work of every executor: a chain runs whole, in order, in
one process, so its points are the same whichever executor ran it. Chains
are numbered in the grid's canonical order (the product of the other axes,
in the order the config lists them); tables list chains in that order.

With ``sweep.direction: both`` each combination has two chains over the same
points, forward then backward, each with its own index; their rows name
their direction (column ``branch``), which :func:`row_chain_key` reads.

Shards split the chains of a grid: shard ``i`` of ``n`` holds the chains
whose index is ``i`` modulo ``n`` (round robin, so that cheap and expensive
regions of the grid spread over the shards).

Resuming: the rows already finished for a chain are matched against the
chain's values from its start; the longest matching prefix of finished rows
(an ``error:`` row, a point lost with its worker, is not finished) is kept,
and the chain restarts after it from the state it had there
(:func:`replay`), so that the resumed chain computes what the uninterrupted
one would have.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import SweepSpec
from ..solve import ChainState

ERROR_PREFIX = "error: "  # status of a point lost with its chain (a worker that raised or died)


@dataclass
class Chain:
    """A continuation chain: ``parameter`` walks ``values`` (in order) at the ``fixed`` other controls."""

    index: int
    fixed: dict[str, float]
    parameter: str
    values: tuple[float, ...]
    direction: str = "forward"
    base: dict[str, float] = field(default_factory=dict)  # every control's value (the chain's own is overwritten)
    branch: bool = False  # its rows name the direction in a column ``branch`` (sweep.direction: both)

    def key(self) -> tuple:
        """What tells this chain's rows from other chains' rows: the fixed values (and the direction)."""
        return (self.direction, *(self.fixed[name] for name in sorted(self.fixed)))

    def __len__(self) -> int:
        return len(self.values)


def row_chain_key(row: dict, fixed_names: Iterable[str], direction: str) -> tuple:
    """:meth:`Chain.key` of the chain a row belongs to.

    Rows of a ``both`` sweep name their chain's direction (column ``branch``);
    other tables have no such column: the sweep's direction.
    """
    return (row.get("branch") or direction, *(float(row[name]) for name in sorted(fixed_names)))


def grid_chains(sweep: SweepSpec, params: dict[str, float]) -> list[Chain]:
    """Every chain of the sweep grid, in canonical order (``both``: forward, then backward, per combination)."""
    others = [a for a in sweep.axes if a.name != sweep.chain]
    values = tuple(float(v) for v in sweep.axis(sweep.chain).values)
    directions = ("forward", "backward") if sweep.direction == "both" else (sweep.direction,)
    out = []
    for combo in itertools.product(*(a.values for a in others)):
        fixed = {a.name: float(v) for a, v in zip(others, combo, strict=False)}
        base = dict(params)
        base.update(fixed)
        for direction in directions:
            walked = values[::-1] if direction == "backward" else values
            out.append(Chain(len(out), fixed, sweep.chain, walked, direction, base, len(directions) > 1))
    return out


def shard_chains(chains: list[Chain], index: int, count: int) -> list[Chain]:
    """The chains of shard ``index`` of ``count`` (round robin over the canonical order)."""
    return [c for c in chains if c.index % count == index]


def shard_path(output: str | Path, index: int, count: int) -> Path:
    """``results/x.csv`` -> ``results/x.shard-<index>-of-<count>.csv``: each shard its own files."""
    output = Path(output)
    return output.with_name(f"{output.stem}.shard-{index}-of-{count}{output.suffix}")


SHARD_NAME = re.compile(r"\.shard-(\d+)-of-(\d+)$")


def is_error(row: dict) -> bool:
    return str(row.get("status") or "").startswith(ERROR_PREFIX)


def finished_prefix(chain: Chain, rows: list[dict]) -> list[dict]:
    """The rows (in chain order) of the longest run of finished points from the chain's start.

    ``rows`` are this chain's rows in the order they were written (a chain is
    written in order).
    """
    out: list[dict] = []
    for row in rows:
        if len(out) == len(chain.values) or float(row[chain.parameter]) != chain.values[len(out)] or is_error(row):
            break
        out.append(row)
    return out


def replay(chain: Chain, done: list[dict], order_parameters: list[str], theta0: np.ndarray | None) -> ChainState:
    """The state of ``chain`` after its finished rows ``done``: where the uninterrupted chain was."""
    state = ChainState(last=None if theta0 is None else np.asarray(theta0, dtype=float))
    for row in done:
        if row.get("converged"):
            theta = np.array([row[n] for n in order_parameters], dtype=float)
            state.record(row[chain.parameter], theta, row.get("quad_order"))
        else:
            state.record(row[chain.parameter], None)
    return state


def group_rows(rows: Iterable[dict], chains: list[Chain]) -> dict[int, list[dict]]:
    """Rows by chain index (rows of no chain of ``chains`` are dropped), each chain's rows in their order."""
    if not chains:
        return {}
    fixed = list(chains[0].fixed)
    direction = chains[0].direction
    by_key = {c.key(): c.index for c in chains}
    out: dict[int, list[dict]] = {c.index: [] for c in chains}
    for row in rows:
        try:
            index = by_key.get(row_chain_key(row, fixed, direction))
        except (KeyError, TypeError, ValueError):
            continue
        if index is not None:
            out[index].append(row)
    return out
