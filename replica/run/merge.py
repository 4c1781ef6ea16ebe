"""Joining the shards of a sweep (``replica merge SHARDS... -o OUT.csv``).

Each shard is a results CSV with its JSON sidecar. The merge refuses
(ReplicaError, exit status 2) a file without a readable sidecar, a table that
is not a sweep, files of different configs (config hash) or with different
columns, and the same shard given twice. It places every row on the grid of
the config the sidecars hold, chain by chain (a chain is held by one shard;
if several files hold the same chain, the one with the most finished points
of it is taken), and writes the table in the grid's order, so that the merge
of a complete set of shards is the table a single run writes. Points no file
holds are reported as missing; failed points (not converged, or ``error:``
points lost with their chain) as failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..config import sweep_from_resolved
from ..errors import ReplicaError
from .grid import Chain, finished_prefix, grid_chains, group_rows, is_error
from .parisi import parisi_path
from .store import now, provenance, read_table, sidecar_path
from .sweep import DIAGNOSTICS, Table


@dataclass
class Merge:
    """A merged table and what it lacks."""

    table: Table
    missing: list[dict] = field(default_factory=list)  # control values of the points no file holds
    failed: list[dict] = field(default_factory=list)  # rows not converged (their status says why)
    missing_shards: list[int] = field(default_factory=list)  # shards (of the count the files name) that hold them

    @property
    def complete(self) -> bool:
        return not self.missing and not any(is_error(r) for r in self.failed)


def _read_shard(path: str) -> tuple[dict, list[str], list[dict]]:
    if not Path(path).exists():
        raise ReplicaError(path, "no such results file")
    try:
        side = json.loads(sidecar_path(path).read_text())
    except (OSError, ValueError):
        raise ReplicaError(path, f"no readable sidecar {sidecar_path(path).name}: not a replica results file") from None
    if side.get("kind") != "sweep" or "config_hash" not in side or not (side.get("config") or {}).get("sweep"):
        raise ReplicaError(path, "not the table of a sweep (its sidecar has no sweep config)")
    try:
        columns, rows = read_table(path)
    except (OSError, StopIteration, ValueError) as exc:
        raise ReplicaError(path, f"cannot read the table: {exc}") from None
    diags = (side.get("point_diagnostics") or {}).get("rows") or []
    if len(diags) == len(rows):  # the sidecar's diagnostics go with the rows they describe
        for row, diag in zip(rows, diags, strict=True):
            row.update({d: v for d, v in zip(DIAGNOSTICS, diag[len(side.get("axes", [])) :], strict=False)})
    return side, columns, rows


def merge_shards(paths: list[str]) -> Merge:
    """Join shard tables into the table of the whole grid (see the module's doc)."""
    if not paths:
        raise ReplicaError("SHARDS", "no files to merge")
    shards = [(p, *_read_shard(p)) for p in paths]
    first_path, first, columns, _ = shards[0]
    seen: dict[tuple, str] = {}
    for path, side, cols, _ in shards:
        if side["config_hash"] != first["config_hash"]:
            raise ReplicaError(
                "merge",
                f"{path} comes from a different config than {first_path} "
                f"(config hash {side['config_hash'][:12]} vs {first['config_hash'][:12]}): not shards of one sweep",
            )
        if cols != columns:
            raise ReplicaError("merge", f"{path} has other columns than {first_path}")
        shard = side.get("shard")
        if shard:
            where = (shard["index"], shard["count"])
            if where in seen:
                raise ReplicaError("merge", f"{seen[where]} and {path} are both shard {where[0]} of {where[1]}")
            seen[where] = path

    config = first["config"]
    chains = grid_chains(sweep_from_resolved(config["sweep"]), config["params"])
    per_file = [group_rows(rows, chains) for *_, rows in shards]
    rows: list[dict] = []
    missing: list[dict] = []
    chosen: dict[int, int] = {}
    for chain in chains:
        best = max(
            range(len(shards)),
            key=lambda i: (len(finished_prefix(chain, per_file[i][chain.index])), len(per_file[i][chain.index]), -i),
        )
        chain_rows = per_file[best][chain.index]
        chosen[chain.index] = best
        rows += chain_rows
        missing += _missing(chain, chain_rows)
    counts = {side["shard"]["count"] for _, side, *_ in shards if side.get("shard")}
    count = counts.pop() if len(counts) == 1 else None
    missing_shards = sorted({_chain_of(chains, m) % count for m in missing}) if count else []

    transitions: dict[tuple, dict] = {}
    for i, (_, side, *_) in enumerate(shards):
        keys = side.get("transition_keys") or []
        for key, t in zip(keys, side.get("transitions") or [], strict=False):
            if chosen.get(key[1]) == i:
                transitions.setdefault(tuple(key), t)
    ordered = sorted(transitions)

    times = [r.get("wall_time") or 0.0 for r in rows]
    solved = [t for t in times if t > 0]
    axes = first.get("axes", [])
    errors = sum(1 for r in rows if is_error(r))
    sidecar = {k: first[k] for k in ("kind", "model", "config", "config_hash", "source", "labels") if k in first}
    sidecar.update(
        {
            **provenance(),
            "started": min((s.get("started") or "" for _, s, *_ in shards), default=None),
            "finished": max((s.get("finished") or "" for _, s, *_ in shards), default=None),
            "merged": now(),
            "merged_from": [_shard_summary(p, s) for p, s, *_ in shards],
            "columns": columns,
            "chain_axis": first.get("chain_axis"),
            "axes": axes,
            "points": len(rows),
            "grid_points": sum(len(c) for c in chains),
            "chains": [c.index for c in chains],
            "shard": None,
            "complete": not missing and errors == 0,
            "converged": sum(1 for r in rows if r.get("converged")),
            "failed": sum(1 for r in rows if not r.get("converged")),
            "errors": errors,
            "missing": missing,
            "transitions": [transitions[k] for k in ordered],
            "transition_keys": [list(k) for k in ordered],
            "timings": {
                "solve_s": sum((s.get("timings") or {}).get("solve_s") or 0.0 for _, s, *_ in shards),
                "per_point_mean_s": sum(solved) / len(solved) if solved else None,
                "per_point_max_s": max(solved) if solved else None,
                "point_wall_times_s": times,
            },
            "point_diagnostics": {
                "columns": list(axes) + [d.lstrip("_") for d in DIAGNOSTICS],
                "rows": [[r.get(a) for a in axes] + [r.get(d) for d in DIAGNOSTICS] for r in rows],
            },
        }
    )
    failed = [r for r in rows if not r.get("converged")]
    table = Table(columns, rows, sidecar)
    parisi = [read_table(parisi_path(p)) if parisi_path(p).exists() else None for p, *_ in shards]
    if any(parisi):  # the shards' Parisi functions, from the shard that holds each chain
        parisi_columns = next(t[0] for t in parisi if t)
        grouped = [group_rows(t[1], chains) if t else {} for t in parisi]
        parisi_rows = [r for c in chains for r in grouped[chosen[c.index]].get(c.index, [])]
        table.parisi = (parisi_columns, parisi_rows)
    return Merge(table, missing, failed, missing_shards)


def _missing(chain: Chain, rows: list[dict]) -> list[dict]:
    held = [float(r[chain.parameter]) for r in rows]
    out = []
    for x in chain.values:
        if x in held:
            held.remove(x)
        else:
            out.append({**chain.fixed, chain.parameter: x})
    return out


def _chain_of(chains: list[Chain], point: dict) -> int:
    return next(c.index for c in chains if all(point[k] == v for k, v in c.fixed.items()))


def _shard_summary(path: str, side: dict) -> dict:
    keys = ("shard", "host", "started", "finished", "complete", "points", "executor", "resumed", "replica_version")
    return {"file": str(path), **{k: side.get(k) for k in keys}, "git_commit": side.get("git_commit")}
