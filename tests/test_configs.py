"""Every shipped config (configs/*.yaml) validates, names its figure's CSV, and runs at low resolution.

The Makefile builds ``results/%.pdf`` from ``configs/%.yaml`` with ``replica run``, which writes to the
config's ``output``: so ``output`` must be ``results/<stem>.csv``. The runs here shrink every
``start/stop/num`` sweep axis to a few points (``values:`` axes are kept) and redirect the output into
tmp_path; the shipped results/ are never touched.
"""

import csv
import json
import math
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from replica.cli import main
from replica.config import apply_overrides

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
LOW = 5  # points per start/stop/num axis


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def gardner_capacity(kappa: float) -> float:
    """Spherical perceptron: alpha_c(kappa) = 1 / int_{-kappa}^inf Dt (t + kappa)^2 (Gardner 1988)."""
    from scipy.integrate import quad

    integral, _ = quad(lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi) * (t + kappa) ** 2, -kappa, math.inf)
    return 1.0 / integral


# configs whose figure is expensive (Franz-Parisi: nested averages over three variables) run on fewer values here
FEWER = {
    "franz_parisi_binary": ["sweep.alpha.values=[0.5]"],
    "franz_parisi_dmin": ["sweep.alpha.values=[0.6]", "transitions.0.scan=6", "transitions.0.tol=1e-4"],
    # walked downwards only: five points from d = 0.004 upwards start cold where the quadrature fails
    "franz_parisi_teacher": ["sweep.alpha.values=[1.0]", "sweep.direction=forward"],
    "spherical_parisi": ["sweep.alpha.values=[9.5]", "options.steps=4"],
    # local entropy: one load; finite y: the first steps of the continuation in y (ratios <= 1.4)
    "local_entropy_binary": ["sweep.alpha.values=[0.5]", "sweep.d.stop=0.1"],
    "local_entropy_dense_loss": ["sweep.alpha.values=[0.75]", "sweep.d.stop=0.05"],
    "local_entropy_alpha_u": ["transitions.0.scan=3", "transitions.1.over_tol=1e-3"],
    "local_entropy_finite_y": ["sweep.d.values=[0.05]", "sweep.y.stop=4.0"],
    "spherical_phase_diagram": ["sweep.kappa={values: [-1.0, -0.5]}"],
    "deep_network_teacher": ["sweep.alpha.values=[3.0, 30.0]"],
    # RSB per layer: two layers deep instead of eight (one glassy layer, seconds instead of minutes)
    "deep_network_rsb_profile": ["params.L=2", "sweep.alpha.values=[3.0]"],
}


def low_resolution(data: dict, stem: str = "") -> tuple[list[str], dict[str, int]]:
    """--set arguments that shrink the sweep, and the number of points per axis after it."""
    sets = [arg for item in FEWER.get(stem, []) for arg in ("--set", item)]
    data = apply_overrides(data, FEWER.get(stem, []))
    sizes = {}
    for axis, spec in (data.get("sweep") or {}).items():
        if axis in ("chain", "direction"):
            continue
        if isinstance(spec, list):
            sizes[axis] = len(spec)
        elif "values" in spec:
            sizes[axis] = len(spec["values"])
        else:
            sets += ["--set", f"sweep.{axis}.num={LOW}"]
            sizes[axis] = LOW
    return sets, sizes


def test_there_are_configs():
    assert len(CONFIGS) >= 4
    assert {p.stem for p in CONFIGS} >= {"binary_rs", "spherical_rs", "spherical_capacity", "custom_binary"}
    assert {p.stem for p in CONFIGS} >= {"teacher_student_binary", "franz_parisi_binary", "franz_parisi_dmin"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_validates_and_names_its_output(path):
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: {path}: model ")
    data = yaml.safe_load(path.read_text())
    assert data.get("output") == f"results/{path.stem}.csv"


@pytest.fixture(autouse=True)
def _restore_sigterm():
    import signal

    handler = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, handler)


def compared_tables(data: dict, where: Path) -> list[str]:
    """--set arguments pointing plot.compare at low-resolution runs of the configs that write those tables."""
    sets = []
    for i, item in enumerate((data.get("plot") or {}).get("compare") or []):
        source = next(p for p in CONFIGS if yaml.safe_load(p.read_text()).get("output") == item["results"])
        other_sets, _ = low_resolution(yaml.safe_load(source.read_text()), source.stem)
        other_sets += ["--set", "transitions=[]"]  # only its curves are drawn
        table = where / f"{source.stem}.csv"
        result = invoke("sweep", source, *other_sets, "-o", table)
        assert result.exit_code == 0, result.output
        sets += ["--set", f"plot.compare.{i}.results={table}"]
    return sets


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_runs_at_low_resolution(path, tmp_path, tmp_path_factory):
    data = yaml.safe_load(path.read_text())
    sets, sizes = low_resolution(data, path.stem)
    sets += compared_tables(data, tmp_path_factory.mktemp("compared"))
    data = apply_overrides(data, FEWER.get(path.stem, []))  # what runs (the checks below read it)
    results_dir = ROOT / "results"
    before = {p.name: p.stat().st_mtime_ns for p in results_dir.iterdir()} if results_dir.exists() else {}

    out = tmp_path / "x.csv"
    result = invoke("run", path, *sets, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output

    # CSV, JSON sidecar and PDF, all in tmp_path; nothing left behind, nothing written to results/
    assert out.exists()
    assert out.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    side = json.loads(out.with_suffix(".json").read_text())
    options = data["options"]
    ladder = options.get("ansatz") in ("krsb", "frsb") or (
        options.get("ansatz") == "1rsb" and not options.get("frozen")
    )
    parisi = ["x.parisi.csv"] if ladder and data.get("sweep") else []  # the Parisi function's table
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["x.csv", "x.json", "x.pdf", *parisi])
    after = {p.name: p.stat().st_mtime_ns for p in results_dir.iterdir()} if results_dir.exists() else {}
    assert after == before

    assert side["complete"] is True
    assert side["model"] == data["model"]
    assert len(side["config_hash"]) == 64
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))

    swept = set(sizes)
    if any(t["parameter"] not in swept for t in data.get("transitions") or []):
        check_transition_table(data, sizes, side, rows)
    else:
        check_sweep_table(data, sizes, side, rows)


def check_sweep_table(data, sizes, side, rows):
    assert side["kind"] == "sweep"
    both = (data.get("sweep") or {}).get("direction") == "both"
    assert len(rows) == math.prod(sizes.values()) * (2 if both else 1)
    grid = {tuple(float(r[a]) for a in sizes) + ((r["branch"],) if both else ()) for r in rows}
    assert len(grid) == len(rows)  # every grid point once (per branch)
    spherical = data["model"] == "perceptron" and data["options"].get("weights") == "spherical"
    # a branch that ends (a spinodal, located) has no solution beyond: those points fail, honestly
    ends = [t["value"] for t in side["transitions"] if t["kind"] == "spinodal" and t["found"]]
    for r in rows:
        beyond = r["status"].startswith("beyond capacity")
        past_end = bool(ends) and r.get("branch", "forward") == "forward" and float(r["alpha"]) > ends[0]
        # at low resolution every point either converges or is (correctly) beyond the capacity or the spinodal
        assert r["converged"] == "true" or beyond or past_end, r
        if r["converged"] == "true":
            assert float(r["residual"]) < 1e-8
            if data["model"] == "perceptron":
                overlaps = [float(r[c]) for c in ("q", "q0", "q1", "q_min", "q_max") if r.get(c)]
                assert math.isfinite(float(r["entropy"])) and overlaps and all(0 <= q < 1 for q in overlaps)
        else:
            assert all(r[c] == "" for c in side["columns"] if c in ("q", "entropy", "S_FP", "free_entropy"))
        if spherical:
            alpha, kappa = float(r["alpha"]), float(r.get("kappa") or data["params"].get("kappa", 0.0))
            assert beyond == (alpha >= gardner_capacity(kappa)), r
    if both:  # the backward branch of a model with an analytic branch is that branch: all converged
        assert all(r["converged"] == "true" for r in rows if r["branch"] == "backward")
    # every transition the config asks for is attempted once per chain
    chains = math.prod(n for a, n in sizes.items() if a != side["chain_axis"])
    assert len(side["transitions"]) == len(data.get("transitions") or []) * chains


def check_transition_table(data, sizes, side, rows):
    assert side["kind"] == "transitions"
    requests = data["transitions"]
    others = {a: n for a, n in sizes.items() if a not in {t["parameter"] for t in requests}}
    # a transition minimised over a swept control (over) is one row per value of the remaining axes
    expected = [math.prod(n for a, n in others.items() if a not in t.get("over", {})) for t in requests]
    assert len(rows) == sum(expected)
    assert {r["kind"] for r in rows} == {t["kind"] for t in requests}
    for r in rows:
        if r["kind"] == "capacity":  # derived symbolically: found everywhere, equal to Gardner's formula
            assert r["found"] == "true", r
            kappa = float(r.get("kappa") or data["params"].get("kappa", 0.0))
            assert float(r["value"]) == pytest.approx(gardner_capacity(kappa), abs=1e-6)
        elif r["found"] == "true":
            assert float(r["tolerance"]) > 0 and math.isfinite(float(r["value"]))
        else:
            assert r["value"] == "" and r["message"]
