"""The local-entropy model from the command line: y: inf, its errors, a transition minimised over d."""

import json

import pytest
from click.testing import CliRunner

from replica.cli import main


def _not_json(token):
    raise ValueError(f"{token} is not JSON")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "le.yaml"
    path.write_text("model: local_entropy\nparams: {alpha: 0.4, d: 0.1, y: inf}\n")
    return path


def test_solve_frozen_json(config):
    result = invoke("solve", config, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout, parse_constant=_not_json)  # strict: no Infinity / NaN tokens
    assert out["params"]["y"] == "inf"  # written as configs spell it
    assert out["converged"] is True
    assert out["observables"]["S_I"] == pytest.approx(0.276581, abs=2e-5)
    assert out["observables"]["dphi_dd"] == pytest.approx(2 * out["observables"]["p_hat"], abs=1e-9)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("params.y=foo", "params.y"),
        ("params.y=-1", "params.y"),
        ("options.weights=spherical", "params.y"),  # finite y is declared for binary weights only
        ("params.d=0.7", "params.d"),
    ],
)
def test_bad_values_exit_2(config, override, field):
    if override.startswith("options"):
        override_y = ["--set", "params.y=2"]
    else:
        override_y = []
    result = invoke("solve", config, *override_y, "--set", override)
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {field}")
    assert len(result.output.strip().splitlines()) == 1


def test_over_must_name_another_control(config, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        config.read_text()
        + "transitions:\n  - {kind: dense_region_loss, parameter: alpha, bracket: [0.74, 0.77],"
        + " over: {alpha: [0, 1]}}\n"
    )
    result = invoke("validate", bad)
    assert result.exit_code == 2
    assert result.output.startswith("error: transitions[0].over")
