"""The ``replica`` command line: its contract, tested through click's CliRunner and the installed script.

Contract (replica/cli.py): ``solve --json`` prints one JSON object; ``transition --json`` prints
``{"transitions": [...]}``; ``sweep`` writes a CSV with a JSON sidecar; bad input exits 2 with one line
``error: <field>: <reason>`` on stderr and writes nothing; a point that does not converge is reported
(``solve`` exits 1); an interrupted sweep exits 130 and keeps its finished points, marked incomplete.

Reference values: binary perceptron RS (Gardner-Derrida, Krauth-Mezard alpha_KM = 0.83308), spherical
perceptron RS (Gardner capacity alpha_c(kappa) = 1 / int_{-kappa}^inf Dt (t + kappa)^2, 2 at kappa = 0).
"""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from replica.cli import main
from replica.run.store import read_journal

REPLICA = Path(sys.prefix) / "bin" / "replica"
if not REPLICA.exists():  # pragma: no cover - the venv of the Makefile
    REPLICA = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "replica"

BINARY = {
    "model": "perceptron",
    "options": {"weights": "binary", "ansatz": "rs"},
    "params": {"alpha": 0.5, "kappa": 0.0},
}
SPHERICAL = {
    "model": "perceptron",
    "options": {"weights": "spherical", "ansatz": "rs"},
    "params": {"alpha": 0.5, "kappa": 0.0},
}
# the binary perceptron written in the config (the schema of configs/custom_binary.yaml)
CUSTOM = {
    "model": "custom",
    "options": {
        "free_entropy": "-q_hat*(1 - q)/2 + E(z, log2cosh(sqrt(q_hat)*z))"
        " + alpha*E(z, logH((kappa - sqrt(q)*z)/sqrt(1 - q)))",
        "order_parameters": {"q": {"init": 0.1, "domain": "[0, 1)"}, "q_hat": {"init": 0.1, "domain": "[0, inf)"}},
        "observables": {"entropy": "phi"},
        "parameters": {"alpha": {"domain": "[0, inf)"}},
    },
    "params": {"alpha": 0.5, "kappa": 0.0},
}

# reference values
S_BINARY_05 = 0.3143900669  # entropy, binary, alpha = 0.5, kappa = 0
Q_BINARY_05 = 0.32238536
S_BINARY_08 = 0.0353057206
S_SPHERICAL_05 = -0.377670
Q_SPHERICAL_05 = 0.307393
ALPHA_KM = 0.83308  # entropy zero of the binary perceptron
ALPHA_C_KAPPA1 = 0.5195722296  # Gardner capacity at kappa = 1

SWEEP_COLUMNS = {"alpha", "kappa", "q", "entropy", "converged", "residual", "iterations"}
STATUS = {"converged", "residual", "iterations", "quad_order", "quad_error", "wall_time", "status"}


# --- helpers -------------------------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_config(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    """(columns, rows) with cells as the CSV has them (strings)."""
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames), list(reader)


def num(cell: str) -> float | None:
    return None if cell == "" else float(cell)


def solve_json(*args) -> dict:
    result = invoke("solve", *args, "--json")
    assert result.exit_code in (0, 1), result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def assert_one_line_error(result, *needles: str):
    """Exit 2, nothing on stdout, exactly one line 'error: ...' on stderr that contains every needle."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash caught by the runner
    assert result.stdout == ""
    lines = result.stderr.strip("\n").split("\n")
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def gardner_capacity(kappa: float) -> float:
    from scipy.integrate import quad

    integral, _ = quad(lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi) * (t + kappa) ** 2, -kappa, math.inf)
    return 1.0 / integral


@pytest.fixture(autouse=True)
def _restore_sigterm():
    """`sweep` and `run` install a SIGTERM handler in the process; do not let it leak out of a test."""
    handler = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, handler)


@pytest.fixture(scope="module")
def configs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("configs")
    return {
        "binary": write_config(d / "binary.yaml", BINARY),
        "spherical": write_config(d / "spherical.yaml", SPHERICAL),
        "custom": write_config(d / "custom.yaml", CUSTOM),
        "binary_sweep": write_config(
            d / "binary_sweep.yaml",
            dict(
                BINARY,
                sweep={"alpha": {"start": 0.3, "stop": 0.7, "num": 5}},
                transitions=[{"kind": "entropy_zero", "parameter": "alpha", "bracket": [0.5, 1.0]}],
            ),
        ),
        "binary_transition": write_config(
            d / "binary_transition.yaml",
            dict(BINARY, transitions=[{"kind": "entropy_zero", "parameter": "alpha", "bracket": [0.5, 1.0]}]),
        ),
        "spherical_transition": write_config(
            d / "spherical_transition.yaml",
            dict(SPHERICAL, transitions=[{"kind": "capacity", "parameter": "alpha", "bracket": [0.05, 20]}]),
        ),
        "grid": write_config(
            d / "grid.yaml",
            dict(BINARY, sweep={"kappa": {"values": [0.0, 0.5]}, "alpha": {"values": [0.3, 0.4, 0.5]}}),
        ),
    }


@pytest.fixture(scope="module")
def binary_sweep(configs, tmp_path_factory) -> tuple[Path, object]:
    """A 5-point binary sweep (alpha 0.3 .. 0.7) run once for the module: (csv path, CliRunner result)."""
    out = tmp_path_factory.mktemp("sweep") / "binary.csv"
    result = invoke("sweep", configs["binary_sweep"], "-o", out)
    return out, result


# --- solve ---------------------------------------------------------------------------------


def test_solve_json_binary(configs):
    result = invoke("solve", configs["binary"], "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # exactly one JSON object, nothing else on stdout
    assert isinstance(out, dict)
    for key in (
        "model",
        "options",
        "params",
        "order_parameters",
        "observables",
        "converged",
        "residual",
        "iterations",
        "method",
    ):
        assert key in out, key
    assert out["model"] == "perceptron"
    assert out["options"] == {"weights": "binary", "ansatz": "rs"}
    assert out["params"] == {"alpha": 0.5, "kappa": 0.0}
    assert out["converged"] is True
    assert 0 <= out["residual"] < 1e-8
    assert isinstance(out["iterations"], int) and out["iterations"] > 0
    assert out["method"] == "hybrid"
    assert set(out["order_parameters"]) == {"q", "q_hat"}
    assert out["order_parameters"]["q"] == pytest.approx(Q_BINARY_05, abs=1e-6)
    assert out["observables"]["entropy"] == pytest.approx(S_BINARY_05, abs=1e-6)


def test_solve_set_overrides_a_parameter(configs):
    out = solve_json(configs["binary"], "--set", "params.alpha=0.8")
    assert out["params"]["alpha"] == 0.8
    assert out["converged"] is True
    assert out["observables"]["entropy"] == pytest.approx(S_BINARY_08, abs=1e-6)


def test_solve_set_overrides_an_option(configs):
    out = solve_json(configs["binary"], "--set", "options.weights=spherical")
    assert out["options"]["weights"] == "spherical"
    assert out["converged"] is True
    assert out["observables"]["entropy"] == pytest.approx(S_SPHERICAL_05, abs=1e-6)
    assert out["order_parameters"]["q"] == pytest.approx(Q_SPHERICAL_05, abs=1e-6)
    assert set(out["order_parameters"]) == {"q"}  # the spherical model has no q_hat


def test_solve_set_repeats(configs):
    out = solve_json(
        configs["binary"], "--set", "options.weights=spherical", "--set", "params.alpha=0.5", "--set", "params.kappa=0"
    )
    assert out["options"]["weights"] == "spherical"
    assert out["observables"]["entropy"] == pytest.approx(S_SPHERICAL_05, abs=1e-6)
    # later --set wins
    out = solve_json(configs["binary"], "--set", "params.alpha=0.3", "--set", "params.alpha=0.8")
    assert out["params"]["alpha"] == 0.8
    assert out["observables"]["entropy"] == pytest.approx(S_BINARY_08, abs=1e-6)


def test_solve_text_output(configs):
    result = invoke("solve", configs["binary"])
    assert result.exit_code == 0, result.output
    assert "converged" in result.stdout
    assert "entropy = 0.31439006" in " ".join(result.stdout.split())


def test_solve_not_converged_is_reported_with_exit_1(configs):
    result = invoke(
        "solve", configs["binary"], "--set", "solver.max_iter=1", "--set", "solver.method=fixed_point", "--json"
    )
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    out = json.loads(result.stdout)
    assert out["converged"] is False
    assert out["method"] == "fixed_point"
    assert out["iterations"] == 1
    assert isinstance(out["residual"], float) and out["residual"] > 0
    assert out["order_parameters"] == {"q": None, "q_hat": None}
    assert out["observables"]["entropy"] is None
    # and in text form
    result = invoke("solve", configs["binary"], "--set", "solver.max_iter=1", "--set", "solver.method=fixed_point")
    assert result.exit_code == 1
    assert "NOT CONVERGED" in result.stdout


@pytest.mark.parametrize(
    "alpha",
    [0.5, 0.8],
)
def test_custom_model_matches_builtin_binary(configs, alpha):
    builtin = solve_json(configs["binary"], "--set", f"params.alpha={alpha}")
    custom = solve_json(configs["custom"], "--set", f"params.alpha={alpha}")
    assert builtin["converged"] is True and custom["converged"] is True
    assert custom["model"] == "custom"
    for name in ("q", "q_hat"):
        assert custom["order_parameters"][name] == pytest.approx(builtin["order_parameters"][name], abs=1e-9)
    assert custom["observables"]["entropy"] == pytest.approx(builtin["observables"]["entropy"], abs=1e-9)
    if alpha == 0.5:
        assert custom["observables"]["entropy"] == pytest.approx(S_BINARY_05, abs=1e-6)


# --- transition ----------------------------------------------------------------------------


def test_transition_json_entropy_zero(configs):
    result = invoke("transition", configs["binary_transition"], "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert list(out) == ["transitions"]
    (t,) = out["transitions"]
    for key in ("kind", "parameter", "value", "tolerance"):
        assert key in t
    assert t["kind"] == "entropy_zero"
    assert t["parameter"] == "alpha"
    assert t["found"] is True
    assert t["value"] == pytest.approx(ALPHA_KM, abs=1e-5)
    assert 0 < t["tolerance"] <= 1e-5


@pytest.mark.parametrize("kappa, expected, tol", [(0.0, 2.0, 1e-6), (1.0, ALPHA_C_KAPPA1, 1e-5)])
def test_transition_json_capacity(configs, kappa, expected, tol):
    result = invoke("transition", configs["spherical_transition"], "--set", f"params.kappa={kappa}", "--json")
    assert result.exit_code == 0, result.output
    (t,) = json.loads(result.stdout)["transitions"]
    assert (t["kind"], t["parameter"], t["found"]) == ("capacity", "alpha", True)
    assert t["value"] == pytest.approx(expected, abs=tol)
    assert t["value"] == pytest.approx(gardner_capacity(kappa), abs=tol)  # independent quadrature


def test_transition_text(configs):
    result = invoke("transition", configs["binary_transition"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("entropy_zero: alpha = 0.83307")


# --- sweep ---------------------------------------------------------------------------------


def test_sweep_writes_csv_sidecar_and_no_journal(configs, binary_sweep):
    out, result = binary_sweep
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert not Path(str(out) + ".journal").exists()
    columns, rows = read_csv(out)
    assert SWEEP_COLUMNS <= set(columns)
    assert len(rows) == 5
    assert [num(r["alpha"]) for r in rows] == pytest.approx([0.3, 0.4, 0.5, 0.6, 0.7])
    assert all(r["converged"] == "true" for r in rows)
    assert all(num(r["kappa"]) == 0.0 for r in rows)
    assert all(num(r["residual"]) < 1e-8 and int(r["iterations"]) > 0 for r in rows)
    mid = rows[2]
    assert num(mid["entropy"]) == pytest.approx(S_BINARY_05, abs=1e-6)
    assert num(mid["q"]) == pytest.approx(Q_BINARY_05, abs=1e-6)
    # entropy decreases with the load, q increases
    entropies = [num(r["entropy"]) for r in rows]
    assert entropies == sorted(entropies, reverse=True)
    assert [num(r["q"]) for r in rows] == sorted(num(r["q"]) for r in rows)


def test_sweep_sidecar_contents(configs, binary_sweep):
    out, _ = binary_sweep
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["complete"] is True
    assert side["config"]["model"] == "perceptron"
    assert side["config"]["params"]["kappa"] == 0.0
    assert side["config"]["sweep"]["alpha"]["values"] == pytest.approx([0.3, 0.4, 0.5, 0.6, 0.7])
    assert len(side["config_hash"]) == 64 and int(side["config_hash"], 16) >= 0
    # the same config gives the same hash through solve
    assert solve_json(configs["binary_sweep"])["config_hash"] == side["config_hash"]
    assert side["versions"]["python"]
    assert side["versions"]["numpy"] and side["versions"]["sympy"]
    assert "replica_version" in side
    timings = side["timings"]
    assert timings["compile_s"] >= 0 and timings["solve_s"] >= 0
    assert len(timings["point_wall_times_s"]) == 5
    assert side["converged"] == 5 and side["failed"] == 0
    # the sweep locates the transition it was asked for
    (t,) = side["transitions"]
    assert t["kind"] == "entropy_zero" and t["found"] is True
    assert t["value"] == pytest.approx(ALPHA_KM, abs=1e-5)


def test_sweep_values_axis_and_grid(configs, tmp_path):
    out = tmp_path / "grid.csv"
    result = invoke("sweep", configs["grid"], "-o", out)
    assert result.exit_code == 0, result.output
    columns, rows = read_csv(out)
    assert SWEEP_COLUMNS <= set(columns)
    assert len(rows) == 6  # 2 x 3
    points = {(num(r["kappa"]), num(r["alpha"])) for r in rows}
    assert points == {(k, a) for k in (0.0, 0.5) for a in (0.3, 0.4, 0.5)}
    assert all(r["converged"] == "true" for r in rows)
    row = next(r for r in rows if (num(r["kappa"]), num(r["alpha"])) == (0.0, 0.5))
    assert num(row["entropy"]) == pytest.approx(S_BINARY_05, abs=1e-6)
    # a margin costs entropy
    by = {(num(r["kappa"]), num(r["alpha"])): num(r["entropy"]) for r in rows}
    assert all(by[(0.5, a)] < by[(0.0, a)] for a in (0.3, 0.4, 0.5))
    assert not Path(str(out) + ".journal").exists()


def test_sweep_not_converged_rows_and_sweep_goes_on(configs, tmp_path):
    out = tmp_path / "fail.csv"
    result = invoke(
        "sweep", configs["binary_sweep"], "--set", "solver.max_iter=1", "--set", "solver.method=fixed_point", "-o", out
    )
    assert result.exit_code == 0, result.output  # a sweep reports failures as rows
    columns, rows = read_csv(out)
    assert len(rows) == 5
    for r in rows:
        assert r["converged"] == "false"
        assert r["q"] == "" and r["q_hat"] == "" and r["entropy"] == ""
        assert num(r["residual"]) > 0
        assert int(r["iterations"]) == 1
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["converged"] == 0 and side["failed"] == 5
    assert side["complete"] is True


def test_sweep_recovers_after_a_failed_point(configs, tmp_path):
    """A failed point in the middle of a chain is a row; the chain goes on and later points converge."""
    out = tmp_path / "mixed.csv"
    result = invoke(
        "sweep",
        configs["binary"],
        "--set",
        "sweep.alpha.values=[0.02, 0.6, 0.03]",
        "--set",
        "solver.method=fixed_point",
        "--set",
        "solver.max_iter=40",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    _, rows = read_csv(out)
    assert [num(r["alpha"]) for r in rows] == [0.02, 0.6, 0.03]
    assert [r["converged"] for r in rows] == ["true", "false", "true"]
    assert rows[1]["q"] == "" and rows[1]["entropy"] == "" and num(rows[1]["residual"]) > 0
    assert num(rows[2]["q"]) == pytest.approx(0.0190698, abs=1e-6)


def test_sweep_transition_refined_between_converged_sweep_points(configs, tmp_path):
    out = tmp_path / "km.csv"
    result = invoke("sweep", configs["binary_transition"], "--set", "sweep.alpha.values=[0.7925, 1.05]", "-o", out)
    assert result.exit_code == 0, result.output
    _, rows = read_csv(out)
    assert [r["converged"] for r in rows] == ["true", "true"]  # passes: the sweep itself converged
    (t,) = json.loads(out.with_suffix(".json").read_text())["transitions"]
    assert t["found"] is True, t["message"]
    assert t["value"] == pytest.approx(ALPHA_KM, abs=1e-5)


def test_sweep_interrupted_before_any_point_does_not_claim_a_file(configs, tmp_path, monkeypatch):
    """An interrupt during compilation: exit 130; the message must not name a results file that is not there."""
    import replica.run.sweep as sweep_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_module, "compile_free_energy", interrupted)
    out = tmp_path / "early.csv"
    result = invoke("sweep", configs["binary_sweep"], "-o", out)
    assert result.exit_code == 130  # passes
    assert out.exists() or str(out) not in result.stderr, result.stderr
    if out.exists():
        assert json.loads(out.with_suffix(".json").read_text())["complete"] is False


def test_interrupt_during_journal_write_keeps_csv_and_journal_in_step(configs, tmp_path, monkeypatch):
    from replica.run.store import Journal

    original = Journal.append
    calls = {"n": 0}

    def append(self, row):
        calls["n"] += 1
        if calls["n"] == 3:  # the SIGTERM arrives while the third point is being journaled
            raise KeyboardInterrupt
        original(self, row)

    monkeypatch.setattr(Journal, "append", append)
    out = tmp_path / "race.csv"
    result = invoke("sweep", configs["binary_sweep"], "-o", out)
    assert result.exit_code == 130  # passes
    _, rows = read_csv(out)
    header, journal_rows = read_journal(Path(str(out) + ".journal"))  # a header line naming the config, then rows
    assert header["config_hash"] == json.loads(out.with_suffix(".json").read_text())["config_hash"]
    assert json.loads(out.with_suffix(".json").read_text())["complete"] is False  # passes
    assert len(rows) == len(journal_rows), (len(rows), len(journal_rows))


# --- validate / show / models / plot / run -------------------------------------------------


def test_validate(configs):
    result = invoke("validate", configs["binary_sweep"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")
    assert "sweep of 5 points along alpha" in result.stdout
    assert "entropy_zero" in result.stdout


def test_show_text_has_the_saddle_point_equations(configs):
    result = invoke("show", configs["binary"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "saddle-point equations" in text
    assert "d phi / d q =" in text and "d phi / d q_hat =" in text
    assert "free entropy phi" in text
    assert "replicon" in text


def test_show_latex(configs):
    result = invoke("show", configs["binary"], "--latex")
    assert result.exit_code == 0, result.output
    assert r"\int" in result.stdout
    assert r"\mathcal{D}z" in result.stdout
    assert "d phi / d q =" in result.stdout
    # the custom model shows the same equations
    custom = invoke("show", configs["custom"], "--latex")
    assert custom.exit_code == 0 and r"\int" in custom.stdout


def test_models_lists_perceptron_and_custom():
    result = invoke("models")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("perceptron:")
    assert "\ncustom:" in result.stdout
    assert "options.weights: spherical | binary" in result.stdout
    out = json.loads(invoke("models", "--json").stdout)
    assert [m["model"] for m in out["models"]] == [
        "perceptron",
        "teacher_student",
        "franz_parisi",
        "deep_network",
        "local_entropy",
        "custom",
    ]


def test_plot_writes_a_pdf(binary_sweep, tmp_path):
    csv_path, sweep_result = binary_sweep
    assert sweep_result.exit_code == 0, sweep_result.output
    pdf = tmp_path / "figure.pdf"
    result = invoke("plot", csv_path, "-o", pdf)
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 1000


def test_run_writes_csv_sidecar_and_pdf(configs, tmp_path):
    out = tmp_path / "run" / "binary.csv"
    result = invoke("run", configs["binary_sweep"], "-o", out)
    assert result.exit_code == 0, result.output
    assert out.exists() and out.with_suffix(".json").exists()
    assert out.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    _, rows = read_csv(out)
    assert len(rows) == 5
    assert num(rows[2]["entropy"]) == pytest.approx(S_BINARY_05, abs=1e-6)


# --- bad input -----------------------------------------------------------------------------

SWEEPABLE = dict(BINARY, sweep={"alpha": {"values": [0.3, 0.5]}})


def _with(base: dict, **changes) -> dict:
    data = json.loads(json.dumps(base))
    for dotted, value in changes.items():
        node = data
        *keys, last = dotted.split("__")
        for key in keys:
            node = node.setdefault(key, {})
        node[last] = value
    return data


def _custom(expression: str, where: str = "free_entropy") -> dict:
    data = dict(json.loads(json.dumps(CUSTOM)), sweep={"alpha": {"values": [0.3, 0.5]}})
    if where == "free_entropy":
        data["options"]["free_entropy"] = expression
    else:
        data["options"]["observables"] = {"entropy": expression}
    return data


def _drop_option(data: dict, key: str, replacement: str) -> dict:
    data = json.loads(json.dumps(data))
    data["options"][replacement] = data["options"].pop(key)
    return data


BAD_CONFIGS = {
    "unknown model": (_with(SWEEPABLE, model="perceptorn"), ["model", "perceptorn"]),
    "unknown option": (_drop_option(SWEEPABLE, "weights", "weight"), ["options.weight", "weights"]),
    "bad option value": (_with(SWEEPABLE, options__weights="ternary"), ["options.weights", "ternary"]),
    "misspelt parameter": (_with(SWEEPABLE, params__alpah=0.5), ["params.alpah", "alpha"]),
    "negative alpha": (_with(SWEEPABLE, params__alpha=-0.5), ["params.alpha", "-0.5"]),
    "negative alpha in the sweep": (_with(SWEEPABLE, sweep__alpha__values=[0.3, -0.1]), ["sweep.alpha.values[1]"]),
    "init outside domain": (_with(SWEEPABLE, solver__init__q=1.5), ["solver.init.q", "1.5", "[0, 1)"]),
    "init not an order parameter": (_with(SWEEPABLE, solver__init__qq=0.5), ["solver.init.qq"]),
    "unknown solver method": (_with(SWEEPABLE, solver__method="newtn"), ["solver.method", "newtn"]),
    "alpha not a number": (_with(SWEEPABLE, params__alpha="abc"), ["params.alpha", "abc"]),
    "unknown top-level key": (_with(SWEEPABLE, solvr={"tol": 1e-9}), ["solvr", "solver"]),
    "malformed expression": (_custom("q +* 2"), ["options.free_entropy", "malformed"]),
    "attribute access": (_custom("q.real"), ["options.free_entropy", "Attribute"]),
    "lambda": (_custom("lambda: q"), ["options.free_entropy", "Lambda"]),
    "subscript": (_custom("q[0]"), ["options.free_entropy", "Subscript"]),
    "string constant": (_custom("'q'"), ["options.free_entropy"]),
    "unknown name": (_custom("q*q_hat + beta"), ["options.free_entropy", "beta"]),
    "caret power": (_custom("q^2 + q_hat"), ["options.free_entropy", "**"]),
    "forbidden observable": (_custom("phi.real", where="observables"), ["options.observables.entropy"]),
    "multi-line value": pytest.param(
        _with(SWEEPABLE, params__alpha="0.5\njunk\n"),
        ["params.alpha"],
    ),
    "non-string model": pytest.param(
        _with(SWEEPABLE, model=["perceptron"]),
        ["model"],
    ),
}


def _params(table: dict):
    for name, case in table.items():
        if hasattr(case, "marks"):  # already a pytest.param
            yield pytest.param(*case.values, marks=case.marks, id=name)
        else:
            yield pytest.param(*case, id=name)


def _assert_nothing_written(outdir: Path):
    assert list(outdir.iterdir()) == [], list(outdir.iterdir())


@pytest.mark.parametrize("data, needles", list(_params(BAD_CONFIGS)))
def test_bad_config_is_one_line_error_and_writes_nothing(tmp_path, data, needles):
    cfg = write_config(tmp_path / "bad.yaml", data)
    outdir = tmp_path / "out"
    outdir.mkdir()
    result = invoke("sweep", cfg, "-o", outdir / "x.csv")
    assert_one_line_error(result, *needles)
    _assert_nothing_written(outdir)
    # the same message from validate and solve
    for command in ("validate", "solve"):
        assert assert_one_line_error(invoke(command, cfg), *needles) == assert_one_line_error(result)


BAD_SETS = {
    "misspelt parameter": (["params.alpah=0.5"], ["params.alpah"]),
    "unknown option": (["options.weight=binary"], ["options.weight"]),
    "bad option value": (["options.weights=ternary"], ["options.weights", "ternary"]),
    "negative alpha": (["params.alpha=-1"], ["params.alpha"]),
    "init outside domain": (["solver.init.q=1.5"], ["solver.init.q"]),
    "unknown top-level key": (["foo.bar=1"], ["foo"]),
    "no equals sign": (["params.alpha"], ["--set params.alpha", "PATH=VALUE"]),
    "later set is bad": (["params.alpha=0.6", "params.kappa=abc"], ["params.kappa", "abc"]),
}


@pytest.mark.parametrize("sets, needles", list(_params(BAD_SETS)))
def test_bad_set_is_one_line_error_and_writes_nothing(tmp_path, configs, sets, needles):
    cfg = write_config(tmp_path / "ok.yaml", SWEEPABLE)
    args = [a for s in sets for a in ("--set", s)]
    outdir = tmp_path / "out"
    outdir.mkdir()
    assert_one_line_error(invoke("sweep", cfg, *args, "-o", outdir / "x.csv"), *needles)
    assert_one_line_error(invoke("run", cfg, *args, "-o", outdir / "x.csv"), *needles)
    _assert_nothing_written(outdir)


def test_yaml_syntax_error(tmp_path):
    cfg = tmp_path / "broken.yaml"
    cfg.write_text("model: perceptron\noptions: {weights: binary\nparams: {alpha: 0.5}\n")
    outdir = tmp_path / "out"
    outdir.mkdir()
    line = assert_one_line_error(invoke("sweep", cfg, "-o", outdir / "x.csv"), str(cfg), "YAML syntax error")
    assert "line 3" in line
    assert_one_line_error(invoke("solve", cfg, "--json"), str(cfg), "YAML syntax error")
    _assert_nothing_written(outdir)


def test_missing_config_file(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    outdir = tmp_path / "out"
    outdir.mkdir()
    for args in (
        ("sweep", missing, "-o", outdir / "x.csv"),
        ("run", missing, "-o", outdir / "x.csv"),
        ("solve", missing, "--json"),
        ("validate", missing),
        ("show", missing),
    ):
        assert_one_line_error(invoke(*args), str(missing), "no such file")
    _assert_nothing_written(outdir)


def test_missing_results_file_for_plot(tmp_path):
    assert_one_line_error(invoke("plot", tmp_path / "none.csv"), "none.csv", "no such results file")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "template",
    [
        "__import__('os').system('touch {marker}')",
        "open('{marker}', 'w')",
        "(lambda: open('{marker}', 'w'))()",
        "q*q_hat + [open('{marker}', 'w') for _ in (1,)][0]",
        "q*q_hat + E(z, __import__('pathlib').Path('{marker}').touch())",
    ],
    ids=["__import__", "open", "lambda call", "comprehension", "inside E"],
)
@pytest.mark.parametrize("command", ["sweep", "solve", "validate", "show"])
def test_forbidden_code_is_refused_and_never_runs(tmp_path, template, command):
    marker = tmp_path / "hacked"
    cfg = write_config(tmp_path / "evil.yaml", _custom(template.format(marker=marker)))
    outdir = tmp_path / "out"
    outdir.mkdir()
    args = [command, cfg] + (["-o", outdir / "x.csv"] if command == "sweep" else [])
    assert_one_line_error(invoke(*args), "options.free_entropy")
    assert not marker.exists(), "the expression was executed"
    _assert_nothing_written(outdir)


def test_whitelisted_abs_does_not_crash(tmp_path):
    cfg = write_config(tmp_path / "abs.yaml", _custom("abs(q)*q_hat - q_hat**2"))
    assert invoke("validate", cfg).exit_code == 0  # passes
    result = invoke("solve", cfg, "--json")
    assert "Traceback" not in result.output
    # exit 0 (a solution, q = q_hat = 0) leaves no exception; 1 or 2 a SystemExit; never a crash
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2)


# --- the installed console script, as real subprocesses ------------------------------------


def test_installed_script_solve_json(configs):
    proc = subprocess.run(
        [str(REPLICA), "solve", str(configs["binary"]), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["converged"] is True
    assert out["observables"]["entropy"] == pytest.approx(S_BINARY_05, abs=1e-6)
    assert out["order_parameters"]["q"] == pytest.approx(Q_BINARY_05, abs=1e-6)


def test_installed_script_bad_input_exit_2(tmp_path):
    cfg = write_config(tmp_path / "bad.yaml", _with(BINARY, params__alpah=0.5))
    proc = subprocess.run([str(REPLICA), "solve", str(cfg)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: params.alpah:")


BIG_SWEEP = dict(
    SPHERICAL,
    params={"alpha": 1.0, "kappa": 0.0},
    sweep={"kappa": {"start": -1, "stop": 0, "num": 40}, "alpha": {"start": 0.05, "stop": 4, "num": 200}},
)
BIG_SIZE = 40 * 200  # about 4 s uninterrupted


def _journal_lines(path: Path) -> int:
    try:
        return path.read_text().count("\n") - 1  # the first line is the header
    except FileNotFoundError:
        return 0


def test_sigterm_keeps_finished_points(tmp_path):
    cfg = write_config(tmp_path / "big.yaml", BIG_SWEEP)
    out = tmp_path / "big.csv"
    journal = Path(str(out) + ".journal")
    with open(tmp_path / "stdout", "w") as so, open(tmp_path / "stderr", "w") as se:
        proc = subprocess.Popen([str(REPLICA), "sweep", str(cfg), "-o", str(out)], stdout=so, stderr=se, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 120
            while _journal_lines(journal) < 20:
                assert proc.poll() is None, "the sweep ended before it could be interrupted: make it larger"
                assert time.monotonic() < deadline, "no journal lines appeared"
                time.sleep(0.02)
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stderr = (tmp_path / "stderr").read_text()
    assert rc == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr

    columns, rows = read_csv(out)
    _, journal_rows = read_journal(journal)
    assert 20 <= len(rows) < BIG_SIZE
    assert len(rows) == len(journal_rows)  # the CSV holds exactly the journal's points
    for row, jrow in zip(rows, journal_rows):
        assert (num(row["kappa"]), num(row["alpha"])) == (jrow["kappa"], jrow["alpha"])
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["complete"] is False
    assert side["points"] == BIG_SIZE
    assert side["converged"] + side["failed"] == len(rows)
    assert side["transitions"] == []

    # the finished points are exactly those of an uninterrupted run
    full = tmp_path / "full.csv"
    result = invoke("sweep", cfg, "-o", full)
    assert result.exit_code == 0, result.output
    full_columns, full_rows = read_csv(full)
    assert full_columns == columns
    assert len(full_rows) == BIG_SIZE
    assert json.loads(full.with_suffix(".json").read_text())["complete"] is True
    for row, ref in zip(rows, full_rows):
        for col in columns:
            if col == "wall_time":
                continue
            if col in ("converged", "status"):
                assert row[col] == ref[col], (col, row, ref)
            else:
                a, b = num(row[col]), num(ref[col])
                assert (a is None) == (b is None), (col, row, ref)
                if a is not None:
                    assert a == pytest.approx(b, rel=1e-12, abs=1e-15), (col, row, ref)
    assert os.path.exists(journal)  # an interrupted sweep keeps its journal; the full one leaves none
    assert not Path(str(full) + ".journal").exists()


# --- two branches: sweep.direction both, first_order and spinodal ------------------------------------------------

TWO_BRANCHES = {
    "model": "teacher_student",
    "options": {"teacher": "binary", "learning": "bayes", "channel": "sign"},
    "params": {"alpha": 1.0},
    "solver": {"max_iter": 200},
    "sweep": {"alpha": {"values": [1.0, 1.3, 1.7]}, "direction": "both"},
    "transitions": [
        {"kind": "first_order", "parameter": "alpha", "bracket": [1.0, 1.7], "scan": 8, "tol": 1e-9},
        {"kind": "spinodal", "parameter": "alpha", "bracket": [1.0, 1.7], "scan": 8, "tol": 1e-9},
    ],
}


def test_sweep_both_directions_returns_both_branches_with_honest_status(tmp_path):
    cfg = write_config(tmp_path / "two.yaml", TWO_BRANCHES)
    out = tmp_path / "two.csv"
    result = invoke("sweep", cfg, "-o", out)
    assert result.exit_code == 0, result.output
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["branch"], float(r["alpha"])) for r in rows] == [
        ("forward", 1.0),
        ("forward", 1.3),
        ("forward", 1.7),
        ("backward", 1.7),
        ("backward", 1.3),
        ("backward", 1.0),
    ]
    forward = {float(r["alpha"]): r for r in rows if r["branch"] == "forward"}
    backward = {float(r["alpha"]): r for r in rows if r["branch"] == "backward"}
    # the poor branch exists below the spinodal only: beyond it the point fails, without values
    assert forward[1.0]["converged"] == forward[1.3]["converged"] == "true"
    assert forward[1.7]["converged"] == "false" and forward[1.7]["q"] == "" and forward[1.7]["status"]
    # backwards, perfect generalization at every alpha: q = 1, phi = -ln 2
    assert all(r["converged"] == "true" and float(r["q"]) == 1.0 for r in backward.values())
    assert float(backward[1.0]["free_entropy"]) == pytest.approx(-math.log(2), abs=1e-15)
    assert float(forward[1.0]["free_entropy"]) > -math.log(2) > float(forward[1.3]["free_entropy"])
    side = json.loads(out.with_suffix(".json").read_text())
    found = {t["kind"]: t for t in side["transitions"]}
    assert found["first_order"]["value"] == pytest.approx(1.2446839899, abs=1e-8)
    assert found["spinodal"]["value"] == pytest.approx(1.4926318182, abs=1e-8)
    assert found["spinodal"]["branch"] == "forward"
    pdf = tmp_path / "two.pdf"
    assert invoke("plot", out, "-o", pdf).exit_code == 0 and pdf.read_bytes()[:5] == b"%PDF-"


def test_transition_command_locates_the_crossing_and_the_spinodal(tmp_path):
    cfg = write_config(tmp_path / "two.yaml", TWO_BRANCHES)
    result = invoke("transition", cfg, "--json")
    assert result.exit_code == 0, result.output
    got = {t["kind"]: t for t in json.loads(result.stdout)["transitions"]}
    assert got["first_order"]["found"] and got["spinodal"]["found"]
    assert got["first_order"]["value"] == pytest.approx(1.244684, abs=1e-6)
    assert got["spinodal"]["value"] == pytest.approx(1.492632, abs=1e-6)


def test_branch_key_only_for_a_spinodal(tmp_path):
    bad = dict(TWO_BRANCHES, transitions=[{"kind": "first_order", "parameter": "alpha", "branch": "backward"}])
    assert_one_line_error(invoke("validate", write_config(tmp_path / "b.yaml", bad)), "transitions[0].branch")
    bad = dict(TWO_BRANCHES, sweep={"alpha": {"values": [1.0]}, "direction": "sideways"})
    assert_one_line_error(invoke("validate", write_config(tmp_path / "c.yaml", bad)), "sweep.direction")
