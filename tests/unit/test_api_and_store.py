"""The Python API and the result store (atomic writes, journal, round trip)."""

import json
import os

import pytest

import replica
from replica.run.store import Journal, atomic_write, read_table, sidecar_path, write_results

BINARY = {
    "model": "perceptron",
    "options": {"weights": "binary", "ansatz": "rs"},
    "params": {"alpha": 0.5, "kappa": 0.0},
}


def test_api_solve_and_overrides():
    sol = replica.solve_config(BINARY)
    assert sol.converged
    assert sol.observables["entropy"] == pytest.approx(0.3143900669, abs=1e-9)
    sol = replica.solve_config(BINARY, set=["params.alpha=0.8"])
    assert sol.observables["entropy"] == pytest.approx(0.0353057206, abs=1e-9)


def test_api_sweep_and_transitions(tmp_path):
    cfg = dict(
        BINARY,
        sweep={"alpha": {"start": 0.7, "stop": 0.9, "num": 5}},
        transitions=[{"kind": "entropy_zero", "parameter": "alpha"}],
    )
    out = tmp_path / "s.csv"
    table = replica.sweep_config(cfg, output=str(out))
    assert len(table.rows) == 5 and all(r["converged"] for r in table.rows)
    assert out.exists() and sidecar_path(out).exists()
    (t,) = table.sidecar["transitions"]
    assert t["value"] == pytest.approx(0.8330786, abs=1e-6)
    (t2,) = replica.locate_transitions(cfg)
    assert t2["value"] == pytest.approx(t["value"], abs=1e-9)


def test_atomic_write_replaces_whole_files(tmp_path):
    path = tmp_path / "a" / "x.csv"
    atomic_write(path, "one\n")
    atomic_write(path, "two\n")
    assert path.read_text() == "two\n"
    assert [p.name for p in path.parent.iterdir()] == ["x.csv"]  # no temporary left behind


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "x.csv"
    atomic_write(path, "old\n")

    def broken_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_table_round_trip(tmp_path):
    rows = [
        {"alpha": 0.5, "q": 0.25, "converged": True, "status": "converged (newton)"},
        {"alpha": 0.6, "q": None, "converged": False, "status": "fixed point: no convergence, 3 left"},
    ]
    write_results(tmp_path / "t.csv", ["alpha", "q", "converged", "status"], rows, {"kind": "sweep"})
    columns, back = read_table(tmp_path / "t.csv")
    assert columns == ["alpha", "q", "converged", "status"]
    assert back == rows
    assert json.loads((tmp_path / "t.json").read_text()) == {"kind": "sweep"}


def test_journal_appends_lines_and_is_removed_when_done(tmp_path):
    journal = Journal(tmp_path / "x.csv")
    journal.append({"alpha": 0.1})
    journal.append({"alpha": 0.2})
    lines = (tmp_path / "x.csv.journal").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"alpha": 0.1}, {"alpha": 0.2}]
    journal.close(remove=True)
    assert not (tmp_path / "x.csv.journal").exists()
