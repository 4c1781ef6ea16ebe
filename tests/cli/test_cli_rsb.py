"""The command line with one step of replica symmetry breaking (ansatz: 1rsb)."""

import csv
import json

import pytest
import yaml
from click.testing import CliRunner

from replica.cli import main

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
