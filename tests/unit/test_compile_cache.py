"""The on-disk cache of compiled models (replica/compile/cache.py).

A hit must compute exactly (bitwise) what a fresh compilation computes, without
deriving anything in sympy; entries are keyed by the symbolic form; a damaged
entry is recompiled; many processes starting at once on a cold cache compile once.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

import replica
from replica.compile import cache, lower

BINARY = {
    "model": "perceptron",
    "options": {"weights": "binary", "ansatz": "rs"},
    "params": {"alpha": 0.5, "kappa": 0.0},
}
SPHERICAL = dict(BINARY, options={"weights": "spherical", "ansatz": "rs"}, params={"alpha": 1.0, "kappa": 0.0})
DERIVED = ("gradient", "hessian", "fixed_point", "equations", "jacobian", "control_partials")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty cache directory, and no model compiled in this process yet."""
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(lower, "_CACHE", {})
    return tmp_path / "cache"


def _compile(config):
    cfg = replica.load(config)
    lower._CACHE.clear()  # a new process, as far as the in-process cache goes
    return cfg, lower.compile_free_energy(cfg.free_energy)


def _outputs(problem, params):
    theta = [0.3, 0.6][: problem.n]
    quad = problem.quadrature(64)
    out = [problem.residual(theta, params, quad), *problem.system(theta, params, quad)]
    out.append(problem.hessian(theta, params, quad))
    out += list(problem.values(theta, params, quad).values())
    if problem.has_fixed_point:
        out.append(problem.fixed_map(theta, params, quad))
    for kind in problem.free_energy.bound_limits:
        out.append(problem.bound_coefficient(kind, params))
    return [np.asarray(x, dtype=float) for x in out]


@pytest.mark.parametrize("config", [BINARY, SPHERICAL], ids=["binary", "spherical"])
def test_a_hit_computes_bitwise_what_a_fresh_compile_does(cache_dir, config):
    cfg, fresh = _compile(config)
    assert fresh.cache_info["status"] == "miss"
    entries = list((cache_dir / "compiled").glob("*.json"))
    assert len(entries) == 1
    cfg2, cached = _compile(config)
    assert cached is not fresh
    assert cached.cache_info["status"] == "hit"
    assert not any(name in cfg2.free_energy.__dict__ for name in DERIVED), "a hit must not derive in sympy"
    for a, b in zip(_outputs(fresh, cfg.params), _outputs(cached, cfg.params), strict=True):
        np.testing.assert_array_equal(a, b)
    sol = replica.solve_config(config)  # and the cached problem solves
    assert sol.converged


def test_entries_are_keyed_by_the_symbolic_form(cache_dir):
    _compile(BINARY)
    _compile(SPHERICAL)
    assert len(list((cache_dir / "compiled").glob("*.json"))) == 2
    assert cache.entry_key("a") != cache.entry_key("b")


def test_a_damaged_entry_is_recompiled(cache_dir):
    _compile(BINARY)
    (entry,) = (cache_dir / "compiled").glob("*.json")
    entry.write_text('{"format": 1, "functions": {"_residual": {"source": "def f(:')
    _, problem = _compile(BINARY)
    assert problem.cache_info["status"] == "miss"
    assert json.loads(entry.read_text())["format"] == cache.FORMAT
    assert _compile(BINARY)[1].cache_info["status"] == "hit"


def test_cache_off(monkeypatch):
    monkeypatch.setenv("REPLICA_CACHE_DIR", "off")
    monkeypatch.setattr(lower, "_CACHE", {})
    assert _compile(BINARY)[1].cache_info["status"] == "off"


def test_default_location_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("REPLICA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "replica"


SCRIPT = """
import replica
from replica.compile import compile_free_energy
cfg = replica.load({"model": "perceptron", "options": {"weights": "binary", "ansatz": "rs"},
                    "params": {"alpha": 0.5, "kappa": 0.0}})
print(compile_free_energy(cfg.free_energy).cache_info["status"])
"""


def test_many_processes_starting_at_once_compile_once(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(tmp_path / "cache"))
    procs = [
        subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    statuses = sorted(out.strip() for out, _ in results)
    assert statuses == ["hit", "hit", "miss"], statuses  # one compiled, the others waited and loaded
    assert len(list((tmp_path / "cache" / "compiled").glob("*.json"))) == 1
    assert not list((tmp_path / "cache" / "compiled").glob(".*.tmp"))  # no temporary left behind
