"""Chains, shards, resume state, and the journal (replica/run/grid.py, store.py, solve/continuation.py)."""

import json

import numpy as np
import pytest

import replica
from replica.compile import compile_free_energy
from replica.errors import ReplicaError
from replica.run.grid import (
    finished_prefix,
    grid_chains,
    group_rows,
    replay,
    shard_chains,
    shard_path,
)
from replica.run.store import Journal, finished_rows, journal_path, read_journal, write_results
from replica.run.work import chain_rows, error_rows
from replica.solve import solve_chain

GRID = {
    "model": "perceptron",
    "options": {"weights": "binary", "ansatz": "rs"},
    "params": {"alpha": 0.5, "kappa": 0.0},
    "sweep": {"kappa": {"values": [0.0, 0.2, 0.4]}, "alpha": {"values": [0.1, 0.2, 0.3]}},
}


def test_chains_in_grid_order_and_shards_partition_them():
    cfg = replica.load(GRID)
    chains = grid_chains(cfg.sweep, cfg.params)
    assert [c.index for c in chains] == [0, 1, 2]
    assert [c.fixed for c in chains] == [{"kappa": 0.0}, {"kappa": 0.2}, {"kappa": 0.4}]
    assert all(c.parameter == "alpha" and c.values == (0.1, 0.2, 0.3) for c in chains)
    assert chains[1].base == {"alpha": 0.5, "kappa": 0.2}
    backward = replica.load(GRID, set=["sweep.direction=backward"])
    assert grid_chains(backward.sweep, backward.params)[0].values == (0.3, 0.2, 0.1)
    for n in (1, 2, 3, 5):
        parts = [shard_chains(chains, i, n) for i in range(n)]
        indices = sorted(c.index for part in parts for c in part)
        assert indices == [0, 1, 2]  # disjoint and covering
    assert [c.index for c in shard_chains(chains, 0, 2)] == [0, 2]  # round robin


def test_shard_path_names():
    assert str(shard_path("results/x.csv", 0, 3)) == "results/x.shard-0-of-3.csv"
    assert str(shard_path("x.csv", 11, 12)) == "x.shard-11-of-12.csv"


def _rows(values, converged=True, status="converged (newton)"):
    return [{"alpha": a, "kappa": 0.0, "converged": converged, "status": status} for a in values]


def test_finished_prefix_stops_at_a_gap_an_error_or_another_point():
    cfg = replica.load(GRID)
    chain = grid_chains(cfg.sweep, cfg.params)[0]
    assert finished_prefix(chain, _rows([0.1, 0.2, 0.3])) == _rows([0.1, 0.2, 0.3])
    assert finished_prefix(chain, _rows([0.1, 0.3])) == _rows([0.1])
    assert finished_prefix(chain, _rows([0.2, 0.3])) == []
    lost = _rows([0.1]) + _rows([0.2, 0.3], converged=False, status="error: worker process killed by SIGKILL")
    assert finished_prefix(chain, lost) == _rows([0.1])
    failed = _rows([0.1]) + _rows([0.2], converged=False, status="anderson: no convergence")
    assert finished_prefix(chain, failed) == failed  # a point that did not converge is a finished result


def test_group_rows_by_chain():
    cfg = replica.load(GRID)
    chains = grid_chains(cfg.sweep, cfg.params)
    rows = [{"kappa": 0.2, "alpha": 0.1}, {"kappa": 0.0, "alpha": 0.1}, {"kappa": 0.7, "alpha": 0.1}]
    grouped = group_rows(rows, chains)
    assert grouped == {0: [rows[1]], 1: [rows[0]], 2: []}  # a row of no chain is dropped


def test_replay_gives_the_state_the_chain_had():
    """A chain rebuilt from its first k rows continues exactly (bitwise) as the uninterrupted chain."""
    cfg = replica.load(GRID, set=["sweep.alpha.values=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]"])
    problem = compile_free_energy(cfg.free_energy)
    chain = grid_chains(cfg.sweep, cfg.params)[1]
    full = list(chain_rows(cfg, problem, chain, []))
    for k in (1, 2, 4):
        rest = list(chain_rows(cfg, problem, chain, full[:k]))
        assert len(rest) == len(full) - k
        for a, b in zip(rest, full[k:], strict=True):
            assert {c: v for c, v in a.items() if c not in ("wall_time", "_worker")} == {
                c: v for c, v in b.items() if c not in ("wall_time", "_worker")
            }
    # and the replayed state is the one solve_chain carries
    state = replay(chain, full[:3], cfg.free_energy.order_parameter_names, cfg.theta0())
    assert [x for x, _ in state.history] == [0.2, 0.3]
    np.testing.assert_array_equal(state.last, [full[2]["q"], full[2]["q_hat"]])
    assert state.order == full[2]["quad_order"]
    direct = list(solve_chain(problem, chain.base, "alpha", chain.values[3:], cfg.solver, state=state))
    assert [s.order_parameters for _, s, _ in direct] == [{"q": r["q"], "q_hat": r["q_hat"]} for r in full[3:]]


def test_a_failed_point_breaks_the_predictor_history_in_the_replay():
    cfg = replica.load(GRID)
    chain = grid_chains(cfg.sweep, cfg.params)[0]
    done = [
        {"alpha": 0.1, "converged": True, "q": 0.1, "q_hat": 0.2, "quad_order": 64},
        {"alpha": 0.2, "converged": False, "q": None, "q_hat": None, "quad_order": 128},
    ]
    state = replay(chain, done, ["q", "q_hat"], cfg.theta0())
    assert state.history == []
    np.testing.assert_array_equal(state.last, [0.1, 0.2])
    assert state.order == 64


def test_error_rows_name_the_reason_on_one_line():
    cfg = replica.load(GRID)
    chain = grid_chains(cfg.sweep, cfg.params)[2]
    rows = error_rows(chain, 1, "ValueError: bad\nsecond line")
    assert [r["alpha"] for r in rows] == [0.2, 0.3]
    assert all(r["kappa"] == 0.4 and r["converged"] is False for r in rows)
    assert rows[0]["status"] == "error: ValueError: bad / second line"


def test_journal_header_rows_and_a_cut_last_line(tmp_path):
    out = tmp_path / "x.csv"
    journal = Journal(out, {"config_hash": "abc"}, rows=[{"alpha": 0.1}])
    journal.append({"alpha": 0.2})
    journal.close(remove=False)
    with open(journal_path(out), "a") as fh:
        fh.write('{"alpha": 0.3, "q": 0.12')  # a process killed in the middle of a line
    header, rows = read_journal(journal_path(out))
    assert header["config_hash"] == "abc" and header["replica_journal"] == 1
    assert rows == [{"alpha": 0.1}, {"alpha": 0.2}]
    # a fresh journal replaces an old one
    Journal(out, {"config_hash": "def"}).close(remove=False)
    assert read_journal(journal_path(out)) == ({"config_hash": "def", "replica_journal": 1}, [])


def test_finished_rows_prefers_the_journal_and_refuses_another_config(tmp_path):
    out = tmp_path / "x.csv"
    assert finished_rows(out, "h1") == ([], None)
    write_results(out, ["alpha"], [{"alpha": 0.1}], {"config_hash": "h1"})
    assert finished_rows(out, "h1") == ([{"alpha": 0.1}], str(out))
    with pytest.raises(ReplicaError, match="another config"):
        finished_rows(out, "h2")
    Journal(out, {"config_hash": "h1"}, rows=[{"alpha": 0.1}, {"alpha": 0.2}]).close(remove=False)
    rows, source = finished_rows(out, "h1")
    assert rows == [{"alpha": 0.1}, {"alpha": 0.2}] and source.endswith(".journal")
    (tmp_path / "x.csv.journal").write_text(json.dumps({"alpha": 0.1}) + "\n")  # no header: not ours to trust
    with pytest.raises(ReplicaError, match="no config hash"):
        finished_rows(out, "h1")


def test_sidecar_text_is_json_with_one_line_per_point(tmp_path):
    from replica.run.store import sidecar_text

    side = {
        "config": {"sweep": {"alpha": {"values": [0.1, 0.2]}}},
        "transitions": [{"kind": "capacity", "params": {"kappa": 0.0}}],
        "point_diagnostics": {"columns": ["alpha", "h"], "rows": [[0.1, [1.0, -2.0]], [0.2, None]]},
        "empty": {},
        "none": None,
    }
    text = sidecar_text(side)
    assert json.loads(text) == side
    assert '      [0.1, [1.0, -2.0]],\n      [0.2, null]\n' in text
    assert '"values": [0.1, 0.2]' in text
