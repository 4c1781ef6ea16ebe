"""The command line with one step of replica symmetry breaking (ansatz: 1rsb)."""

import csv
import json

import pytest
import yaml
from click.testing import CliRunner

from replica.cli import main
from replica.run.plot import _transition_figure
from replica.run.store import read_table

AUTO = {
    "model": "perceptron",
    "options": {"weights": "spherical", "ansatz": "1rsb", "m": "auto"},
    "params": {"alpha": 10.0, "kappa": -1.0},
    "solver": {"init": {"q0": 0.6, "q1": 0.9, "m": 0.2}, "max_quad_order": 256},
}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def auto_config(tmp_path):
    path = tmp_path / "auto.yaml"
    path.write_text(yaml.safe_dump(AUTO))
    return path


def test_solve_json_thermodynamic_m(auto_config):
    result = run("solve", auto_config, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["options"] == {"weights": "spherical", "ansatz": "1rsb", "m": "auto", "regime": "volume"}
    assert set(out["order_parameters"]) == {"q0", "q1", "m"}
    assert out["order_parameters"]["m"] == pytest.approx(0.219188, abs=2e-6)
    assert out["observables"]["entropy"] == pytest.approx(-2.357234, abs=2e-6)
    assert out["converged"] is True


def test_sweep_in_fixed_m_brackets_the_zero_of_the_complexity(tmp_path):
    config = dict(AUTO, options=dict(AUTO["options"], m="fixed"), params=dict(AUTO["params"], m=0.3))
    config["solver"] = {"init": {"q0": 0.6, "q1": 0.9}, "max_quad_order": 256}
    config["sweep"] = {"m": {"values": [0.3, 0.25, 0.2, 0.15]}}
    path = tmp_path / "fixed.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "fixed.csv"
    result = run("sweep", path, "-o", out)
    assert result.exit_code == 0, result.output
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert [r["converged"] for r in rows] == ["true"] * 4
    sigma = [float(r["complexity"]) for r in rows]
    assert sigma[1] < 0 < sigma[2]  # Sigma(m) = 0 between m = 0.25 and 0.2 (m* = 0.2192)


def test_m_option_only_with_1rsb(auto_config):
    result = CliRunner().invoke(main, ["solve", str(auto_config), "--set", "options.ansatz=rs"])
    assert result.exit_code == 2
    assert "error: options.m: applies only with ansatz" in result.output


def test_plot_compare_names_a_bad_table(tmp_path):
    config = dict(AUTO, plot={"compare": [{"results": "results/other.txt"}]})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "plot.compare[0].results" in result.output and ".csv" in result.output


PHASE = {
    "model": "perceptron",
    "options": {"weights": "spherical", "ansatz": "rs"},
    "params": {"alpha": 1.0, "kappa": 0.0},
    "sweep": {"kappa": {"values": [-1.0, -0.5]}},
    "transitions": [
        {"kind": "capacity", "parameter": "alpha", "bracket": [0.5, 40.0]},
        {"kind": "at_instability", "parameter": "alpha", "bracket": [0.5, 40.0]},
    ],
    "plot": {"relative": {"to": "capacity", "lines": ["at_instability"]}},
}


def test_plot_relative_draws_lines_divided_by_the_reference(tmp_path):
    path = tmp_path / "phase.yaml"
    path.write_text(yaml.safe_dump(PHASE))
    out = tmp_path / "phase.csv"
    result = run("run", path, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.with_suffix(".pdf").exists()
    columns, rows = read_table(out)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    fig = _transition_figure(columns, rows, sidecar, PHASE["plot"])
    low = fig.axes[1]
    (ratio,) = low.get_lines()
    # alpha_AT / alpha_c^RS at kappa = -1 and -0.5: 7.873560 / 13.273200, 3.950701 / 4.770099
    assert list(ratio.get_ydata()) == pytest.approx([7.873560 / 13.273200, 3.950701 / 4.770099], abs=1e-6)


@pytest.mark.parametrize(
    ("plot", "field"),
    [
        ({"relative": {"to": "jamming"}}, "plot.relative.to"),
        ({"relative": {"to": "capacity", "lines": ["glass"]}}, "plot.relative.lines[0]"),
        ({"relative": {"to": "capacity", "scale": "log"}}, "plot.relative.scale"),
    ],
)
def test_plot_relative_names_a_line_that_is_not_there(tmp_path, plot, field):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(dict(PHASE, plot=plot)))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"error: {field}:" in result.output


def test_plot_legend_outside_keeps_the_axes_and_is_saved(tmp_path):
    # plot.legend: outside puts the legend right of the axes; the axes keep their width (it takes no
    # room in tight_layout) and the saved figure grows to hold it
    path = tmp_path / "phase.yaml"
    out = tmp_path / "phase.csv"
    path.write_text(yaml.safe_dump(PHASE))
    assert run("run", path, "-o", out).exit_code == 0
    columns, rows = read_table(out)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    inside = _transition_figure(columns, rows, sidecar, PHASE["plot"])
    outside = _transition_figure(columns, rows, sidecar, dict(PHASE["plot"], legend="outside"))
    legend = outside.axes[0].get_legend()
    assert legend is not None and not legend.get_in_layout()
    assert outside.axes[0].get_position().width == pytest.approx(inside.axes[0].get_position().width, rel=1e-6)
    outside.canvas.draw()
    assert legend.get_window_extent().x0 > outside.axes[0].get_window_extent().x1


def test_plot_legend_names_an_unknown_place(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(dict(PHASE, plot={"legend": "top"})))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "error: plot.legend:" in result.output and "outside" in result.output


def test_transition_solver_block_is_validated(tmp_path):
    transitions = [dict(PHASE["transitions"][0], solver={"quad_tol": -1.0})]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(dict(PHASE, transitions=transitions, plot={})))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "error: transitions[0].solver.quad_tol:" in result.output
