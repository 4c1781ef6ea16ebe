"""Run configs: YAML -> validated, typed RunConfig.

Top-level keys: ``model``, ``options``, ``params``, ``solver``, ``sweep``,
``transitions``, ``output`` (and ``plot``). Files are read with
``yaml.safe_load``; ``--set a.b=value`` overrides are applied to the loaded
mapping (values parsed as YAML scalars) before validation. Every problem is
a ConfigError naming the field (``params.alpha``, ``sweep.kappa.num``, ...)
and the reason.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from .errors import ConfigError, ReplicaError
from .models import MODELS, ModelInfo
from .solve import METHODS, SolverOptions, TransitionRequest, kind_available
from .solve.transitions import BRANCHES
from .symbolic import FreeEnergy

TOP_KEYS = ("model", "options", "params", "solver", "sweep", "transitions", "output", "plot")
SWEEP_RESERVED = ("chain", "direction")
DIRECTIONS = ("forward", "backward", "both")
PLOT_KEYS = ("x", "y", "title", "logx", "logy", "kind", "compare", "fit", "relative", "legend")
# plot.legend: where the legend goes (matplotlib's locations; outside: right of the axes)
LEGEND_LOCATIONS = (
    "outside",
    "best",
    "upper right",
    "upper left",
    "lower left",
    "lower right",
    "right",
    "center left",
    "center right",
    "lower center",
    "upper center",
    "center",
)
PLOT_KINDS = ("sweep", "parisi", "profile")


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _known_keys(raw: dict, where: str, allowed) -> None:
    """Every key of the mapping at ``where`` is one of ``allowed``; else the error names the first stray one."""
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}", f"unknown key{_suggest(key, allowed)} (known: {', '.join(allowed)})")


def _number(value, field: str, *, integer: bool = False, infinite: bool = False) -> float:
    if infinite:  # the control takes the one value +inf (y: inf, the frozen limit)
        if str(value).strip().lower().lstrip("+.") in ("inf", "infinity"):
            return math.inf
        raise ConfigError(field, f"expected inf, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(field, f"expected a number, got '{value}'") from None
        else:
            raise ConfigError(field, f"expected a number, got {type(value).__name__}")
    if integer:
        if float(value) != int(value):
            raise ConfigError(field, f"expected an integer, got {value}")
        return int(value)
    if not math.isfinite(float(value)):
        raise ConfigError(field, f"expected a finite number, got {value}")
    return float(value)


def _mapping(value, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(field, f"expected a mapping, got {type(value).__name__}")
    return value


# --- loading ----------------------------------------------------------------------


def read_yaml(path: str | Path) -> dict:
    """Load a YAML config with yaml.safe_load; errors name the file and position."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(str(path), "no such file") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(str(path), f"YAML syntax error{where}: {problem}") from None
    if data is None:
        raise ConfigError(str(path), "the file is empty")
    if not isinstance(data, dict):
        raise ConfigError(str(path), "a config is a mapping with keys model, options, params, ...")
    return data


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``--set path.to.key=value`` overrides (value parsed as YAML).

    A number in the path indexes a list that is already there: ``transitions.0.scan=21``.
    """
    data = copy.deepcopy(data)
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"--set {item}", "expected PATH=VALUE, e.g. params.alpha=0.7")
        path, raw = item.split("=", 1)
        keys = path.strip().split(".")
        if not all(keys):
            raise ConfigError(f"--set {item}", "empty key in the path")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            raise ConfigError(f"--set {item}", f"cannot parse the value '{raw}'") from None
        node = data
        for i, key in enumerate(keys):
            where = ".".join(keys[: i + 1])
            if isinstance(node, list):
                if not key.isdigit() or int(key) >= len(node):
                    raise ConfigError(f"--set {item}", f"'{where}': no item {key} in a list of {len(node)}")
                key = int(key)
            if i == len(keys) - 1:
                node[key] = value
                break
            child = node[key] if isinstance(node, list) else node.get(key)
            if child is None:
                child = node[key] = {}
            if not isinstance(child, (dict, list)):
                raise ConfigError(f"--set {item}", f"'{where}' is not a mapping")
            node = child
    return data


# --- typed config ------------------------------------------------------------------


@dataclass
class SweepAxis:
    name: str
    values: np.ndarray


@dataclass
class SweepSpec:
    """A grid of control values walked as continuation chains along ``chain``."""

    axes: list[SweepAxis]
    chain: str
    direction: str = "forward"

    def axis(self, name: str) -> SweepAxis | None:
        return next((a for a in self.axes if a.name == name), None)

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.axes]

    @property
    def size(self) -> int:
        return int(np.prod([len(a.values) for a in self.axes]))


@dataclass
class RunConfig:
    """A validated config. ``resolved`` is the mapping after overrides and defaults."""

    model: str
    options: dict
    params: dict[str, float]
    solver: SolverOptions
    init: dict[str, float]
    sweep: SweepSpec | None
    transitions: list[TransitionRequest]
    output: str | None
    plot: dict
    resolved: dict
    free_energy: FreeEnergy
    source: str | None = None
    info: ModelInfo | None = field(default=None, repr=False)

    def hash(self) -> str:
        """sha256 of what determines the numbers (not the output path or plot)."""
        content = {k: v for k, v in self.resolved.items() if k not in ("output", "plot")}
        blob = json.dumps(content, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def theta0(self) -> np.ndarray | None:
        """The start from ``solver.init`` and the model's inits; None: the model's own start (its ``initial``)."""
        if not self.init and self.free_energy.initial:
            return None
        return np.array([self.init.get(p.name, p.init) for p in self.free_energy.order_parameters], dtype=float)


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    data = apply_overrides(read_yaml(path), overrides or [])
    cfg = validate(data)
    cfg.source = str(path)
    return cfg


def validate(data: dict) -> RunConfig:
    """Check a config mapping and build the RunConfig (and the model's FreeEnergy)."""
    for key in data:
        if key not in TOP_KEYS:
            raise ConfigError(
                str(key), f"unknown top-level key{_suggest(key, TOP_KEYS)} (known: {', '.join(TOP_KEYS)})"
            )
    if "model" not in data or data["model"] is None:
        raise ConfigError("model", f"missing (known models: {', '.join(MODELS)})")
    model = data["model"]
    if not isinstance(model, str):
        raise ConfigError("model", f"expected a model name, got {model!r} (known: {', '.join(MODELS)})")
    if model not in MODELS:
        raise ConfigError("model", f"unknown model '{model}'{_suggest(model, MODELS)} (known: {', '.join(MODELS)})")
    info = MODELS[model]
    raw_params = _mapping(data.get("params"), "params")
    options = _validate_options(info, _mapping(data.get("options"), "options"))

    try:
        fe = info.build(options, raw_params)
    except ReplicaError:
        raise
    except Exception as exc:  # a model that cannot be built from valid options is a bug; say so
        raise ConfigError("options", f"cannot build model '{model}': {exc}") from exc

    params = _validate_params(fe, raw_params)
    solver, init = _validate_solver(fe, _mapping(data.get("solver"), "solver"))
    sweep = _validate_sweep(fe, _mapping(data.get("sweep"), "sweep")) if data.get("sweep") else None
    if sweep is not None:
        for axis in sweep.axes:  # a swept control need not be in params
            params.setdefault(axis.name, float(axis.values[0]))
    missing = [c.name for c in fe.controls if c.name not in params]
    if missing:
        raise ConfigError(f"params.{missing[0]}", f"missing (model '{model}' needs {', '.join(fe.control_names)})")
    transitions = _validate_transitions(fe, data.get("transitions"), sweep, params, info, options, raw_params)
    output = data.get("output")
    if output is not None and (not isinstance(output, str) or not output.endswith(".csv")):
        raise ConfigError("output", f"expected a path ending in .csv, got {output!r}")
    plot = _mapping(data.get("plot"), "plot")
    _known_keys(plot, "plot", PLOT_KEYS)
    if plot.get("kind", "sweep") not in PLOT_KINDS:
        raise ConfigError("plot.kind", f"'{plot['kind']}' is not one of {', '.join(PLOT_KINDS)}")
    _validate_compare(plot.get("compare"))
    _validate_fit(plot.get("fit"))
    _validate_relative(plot.get("relative"), [t.kind for t in transitions])
    if "legend" in plot and plot["legend"] not in LEGEND_LOCATIONS:
        raise ConfigError("plot.legend", f"{plot['legend']!r} is not one of {', '.join(LEGEND_LOCATIONS)}")
    if plot.get("kind") == "profile" and fe.layers is None:
        raise ConfigError("plot.kind", f"profile needs a layered model (this {model} has no hidden layers)")
    if plot.get("kind") == "parisi" and fe.ladder is None:
        raise ConfigError("plot.kind", f"parisi needs an RSB ansatz (this {model} has no Parisi function)")

    resolved = {
        "model": model,
        "options": options,
        "params": params,
        "solver": {**solver.__dict__, **({"init": init} if init else {})},
        "sweep": _sweep_resolved(sweep) if sweep else None,
        "transitions": [_transition_resolved(t) for t in transitions],
        "output": output,
        "plot": plot,
    }
    return RunConfig(model, options, params, solver, init, sweep, transitions, output, plot, resolved, fe, info=info)


def _validate_fit(raw) -> None:
    """plot.fit: {kind: exponential, from: l0} (a transitions table against the layer)."""
    if raw is None:
        return
    raw = _mapping(raw, "plot.fit")
    _known_keys(raw, "plot.fit", ("kind", "from"))
    if raw.get("kind") != "exponential":
        raise ConfigError("plot.fit.kind", f"'{raw.get('kind')}' is not one of exponential")
    if "from" in raw:
        _number(raw["from"], "plot.fit.from")


def _validate_relative(raw, kinds: list[str]) -> None:
    """plot.relative: {to: kind, lines: [kind, ...]}: a lower panel of those lines divided by the line ``to``
    (kinds among the config's transitions)."""
    if raw is None:
        return
    raw = _mapping(raw, "plot.relative")
    _known_keys(raw, "plot.relative", ("to", "lines"))
    if not isinstance(raw.get("to"), str):
        raise ConfigError("plot.relative.to", "expected the kind of the reference line, e.g. capacity")
    lines = raw.get("lines", [])
    if not isinstance(lines, list) or not all(isinstance(k, str) for k in lines):
        raise ConfigError("plot.relative.lines", "expected a list of transition kinds, e.g. [jamming]")
    named = [("plot.relative.to", raw["to"])] + [(f"plot.relative.lines[{i}]", k) for i, k in enumerate(lines)]
    for where, kind in named:
        if kind not in kinds:
            known = ", ".join(dict.fromkeys(kinds)) or "none"
            raise ConfigError(where, f"{kind!r} is not a transition of this config (its kinds: {known})")


def _validate_compare(raw) -> None:
    """plot.compare: a list of {results: <table>.csv, label: text} drawn beside the config's own curves."""
    if raw is None:
        return
    if not isinstance(raw, list):
        raise ConfigError("plot.compare", "expected a list of {results: path.csv, label: text}")
    for i, item in enumerate(raw):
        item = _mapping(item, f"plot.compare[{i}]")
        _known_keys(item, f"plot.compare[{i}]", ("results", "label", "columns"))
        columns = item.get("columns", {})
        if not isinstance(columns, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
        ):
            raise ConfigError(f"plot.compare[{i}].columns", "expected a mapping {own column: compared column}")
        path = item.get("results")
        if not isinstance(path, str) or not path.endswith(".csv"):
            raise ConfigError(
                f"plot.compare[{i}].results", f"expected a results table path ending in .csv, got {path!r}"
            )
        if not isinstance(item.get("label", ""), str):
            raise ConfigError(f"plot.compare[{i}].label", "expected text")


def _validate_options(info: ModelInfo, options: dict) -> dict:
    if info.free_options:
        return copy.deepcopy(options)
    out = info.default_options()
    for first, second in info.exclusive:
        if first in options and second in options:
            raise ConfigError(f"options.{first}", f"give {first} or {second}, not both ({first} replaces {second})")
    for key, value in options.items():
        if key in info.list_options:
            out[key] = _number_list(value, f"options.{key}", *info.list_options[key][:3])
            continue
        if key in info.integer_options:
            lo, hi, _ = info.integer_options[key]
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ConfigError(f"options.{key}", f"must be an integer in [{lo}, {hi}], got {value!r}")
            out[key] = value
            continue
        if isinstance(value, bool):  # YAML reads true/false (and yes/no) as booleans
            value = str(value).lower()
        if key not in info.options:
            raise ConfigError(
                f"options.{key}",
                f"unknown option{_suggest(key, info.options)} (options of {info.name}: {', '.join(info.options)})",
            )
        choices = info.options[key]
        if value not in choices:
            raise ConfigError(
                f"options.{key}", f"'{value}' is not one of {', '.join(choices)}{_suggest(value, choices)}"
            )
        out[key] = value
    for key, why in info.inapplicable(out).items():
        if key in options:
            raise ConfigError(f"options.{key}", why)
        out.pop(key, None)
    for first, second in info.exclusive:  # a default of the option replaced is not the config's
        if first in out:
            out.pop(second, None)
    return out


def _number_list(value, field: str, lowest: float, highest: float, most: int) -> list[float]:
    """A non-empty list of at most ``most`` numbers strictly increasing inside (lowest, highest)."""
    if not isinstance(value, list) or not value:
        raise ConfigError(field, f"expected a non-empty list of numbers, got {value!r}")
    if len(value) > most:
        raise ConfigError(field, f"{len(value)} numbers: at most {most}")
    numbers = [_number(v, f"{field}[{i}]") for i, v in enumerate(value)]
    for i, x in enumerate(numbers):
        if not lowest < x < highest:
            raise ConfigError(f"{field}[{i}]", f"{x:g} is out of range: must be in ({lowest:g}, {highest:g})")
        if i and not x > numbers[i - 1]:
            raise ConfigError(f"{field}[{i}]", f"{x:g} does not exceed {numbers[i - 1]:g}: the list must increase")
    return numbers


def _validate_params(fe: FreeEnergy, raw: dict) -> dict[str, float]:
    controls = {c.name: c for c in fe.controls}
    params: dict[str, float] = {}
    for key, value in raw.items():
        if key not in controls:
            raise ConfigError(
                f"params.{key}",
                f"unknown parameter{_suggest(key, controls)} (parameters of {fe.name}: {', '.join(controls)})",
            )
        number = _number(value, f"params.{key}", infinite=controls[key].infinite)
        params[key] = _check_control(controls[key], number, f"params.{key}")
    for c in fe.controls:
        if c.name not in params and c.default is not None:
            params[c.name] = float(c.default)
    return params


def _check_control(control, value: float, field: str) -> float:
    if not control.contains(value):
        raise ConfigError(field, f"{value:g} is out of range: {control.name} must be in {control.domain_text()}")
    return value


def _validate_solver(fe: FreeEnergy, raw: dict) -> tuple[SolverOptions, dict[str, float]]:
    init: dict[str, float] = {}
    if "init" in raw:
        ops = {p.name: p for p in fe.order_parameters}
        for name, v in _mapping(raw["init"], "solver.init").items():
            if name not in ops:
                raise ConfigError(
                    f"solver.init.{name}",
                    f"not an order parameter{_suggest(name, ops)} (order parameters: {', '.join(ops)})",
                )
            x = _number(v, f"solver.init.{name}")
            if not ops[name].contains(x):
                raise ConfigError(
                    f"solver.init.{name}", f"{x:g} is outside the domain {ops[name].domain_text()} of {name}"
                )
            init[name] = x
    opts = SolverOptions(**_solver_settings({k: v for k, v in raw.items() if k != "init"}, "solver", ["init"]))
    if opts.max_quad_order < opts.quad_order:
        raise ConfigError("solver.max_quad_order", f"{opts.max_quad_order} is below quad_order={opts.quad_order}")
    return opts, init


def _solver_settings(raw: dict, prefix: str, extra: list[str] | None = None) -> dict:
    """The solver settings of a ``solver`` mapping (at ``prefix``), checked one by one."""
    names = SolverOptions.field_names()
    known = names + (extra or [])
    kwargs: dict = {}
    for key, value in raw.items():
        field_name = f"{prefix}.{key}"
        if key not in names:
            raise ConfigError(field_name, f"unknown solver setting{_suggest(key, known)} (known: {', '.join(known)})")
        if key == "method":
            if value not in METHODS:
                raise ConfigError(field_name, f"'{value}' is not one of {', '.join(METHODS)}{_suggest(value, METHODS)}")
            kwargs[key] = value
        elif key in ("max_iter", "anderson_memory", "quad_order", "max_quad_order"):
            n = _number(value, field_name, integer=True)
            if n < 1:
                raise ConfigError(field_name, f"must be at least 1, got {n}")
            kwargs[key] = n
        else:
            x = _number(value, field_name)
            if key == "damping" and not 0 < x <= 1:
                raise ConfigError(field_name, f"must be in (0, 1], got {x:g}")
            if key in ("tol", "quad_tol") and not x > 0:
                raise ConfigError(field_name, f"must be positive, got {x:g}")
            kwargs[key] = x
    return kwargs


def _axis_values(fe: FreeEnergy, name: str, spec, field_name: str) -> np.ndarray:
    control = next(c for c in fe.controls if c.name == name)
    if isinstance(spec, list):
        spec = {"values": spec}
    spec = _mapping(spec, field_name)
    if "values" in spec:
        extra = set(spec) - {"values"}
        if extra:
            raise ConfigError(f"{field_name}.{sorted(extra)[0]}", "an axis has either 'values' or start/stop/num")
        if not isinstance(spec["values"], list) or not spec["values"]:
            raise ConfigError(f"{field_name}.values", "expected a non-empty list of numbers")
        values = [_number(v, f"{field_name}.values[{i}]") for i, v in enumerate(spec["values"])]
    else:
        allowed = ("start", "stop", "num", "spacing")
        for key in spec:
            if key not in allowed:
                raise ConfigError(
                    f"{field_name}.{key}",
                    f"unknown key{_suggest(key, allowed)} (an axis has start, stop, num[, spacing] or values)",
                )
        for key in ("start", "stop", "num"):
            if key not in spec:
                raise ConfigError(f"{field_name}.{key}", "missing")
        start = _number(spec["start"], f"{field_name}.start")
        stop = _number(spec["stop"], f"{field_name}.stop")
        num = _number(spec["num"], f"{field_name}.num", integer=True)
        if num < 1:
            raise ConfigError(f"{field_name}.num", f"must be at least 1, got {num}")
        spacing = spec.get("spacing", "linear")
        if spacing not in ("linear", "log"):
            raise ConfigError(f"{field_name}.spacing", f"'{spacing}' is not one of linear, log")
        if spacing == "log":
            if start <= 0 or stop <= 0:
                raise ConfigError(f"{field_name}.start", "log spacing needs positive start and stop")
            values = list(np.geomspace(start, stop, num))
        else:
            values = list(np.linspace(start, stop, num))
    for i, v in enumerate(values):
        _check_control(control, v, f"{field_name}" + (f".values[{i}]" if "values" in spec else ""))
    return np.array(values, dtype=float)


def _validate_sweep(fe: FreeEnergy, raw: dict) -> SweepSpec:
    controls = fe.control_names
    axes = []
    for key, spec in raw.items():
        if key in SWEEP_RESERVED:
            continue
        if key not in controls:
            raise ConfigError(
                f"sweep.{key}", f"not a control parameter{_suggest(key, controls)} (sweepable: {', '.join(controls)})"
            )
        if next(c for c in fe.controls if c.name == key).structural:
            raise ConfigError(
                f"sweep.{key}", f"{key} fixes the structure of the model: not sweepable (one config per {key})"
            )
        axes.append(SweepAxis(key, _axis_values(fe, key, spec, f"sweep.{key}")))
    if not axes:
        raise ConfigError("sweep", "no axis: give at least one control parameter to sweep")
    chain = raw.get("chain", axes[-1].name)
    if chain not in [a.name for a in axes]:
        raise ConfigError("sweep.chain", f"'{chain}' is not a sweep axis ({', '.join(a.name for a in axes)})")
    direction = raw.get("direction", "forward")
    if direction not in DIRECTIONS:
        raise ConfigError("sweep.direction", f"'{direction}' is not one of {', '.join(DIRECTIONS)}")
    return SweepSpec(axes, chain, direction)


def sweep_from_resolved(data: dict) -> SweepSpec:
    """The SweepSpec of a resolved config's ``sweep`` mapping (what a sidecar holds); the inverse of the below."""
    axes = [SweepAxis(k, np.array(v["values"], dtype=float)) for k, v in data.items() if k not in SWEEP_RESERVED]
    return SweepSpec(axes, data["chain"], data.get("direction", "forward"))


def _sweep_resolved(sweep: SweepSpec) -> dict:
    out: dict = {a.name: {"values": [float(v) for v in a.values]} for a in sweep.axes}
    out["chain"] = sweep.chain
    out["direction"] = sweep.direction
    return out


def _validate_over(fe: FreeEnergy, item: dict, parameter: str, f: str) -> tuple[str, float, float] | None:
    """transitions[i].over: {control: [lo, hi]}: the smallest transition value over that range of a control."""
    if "over" not in item:
        if "over_tol" in item:
            raise ConfigError(f"{f}.over_tol", "applies only with over")
        return None
    raw = _mapping(item["over"], f"{f}.over")
    if len(raw) != 1:
        raise ConfigError(f"{f}.over", "expected one control and its range, e.g. {d: [0.015, 0.03]}")
    ((name, b),) = raw.items()
    if name not in fe.control_names or name == parameter:
        raise ConfigError(
            f"{f}.over", f"{name!r} is not another control parameter (one of {', '.join(fe.control_names)})"
        )
    if not isinstance(b, list) or len(b) != 2:
        raise ConfigError(f"{f}.over.{name}", "expected [lower, upper]")
    lo, hi = (_number(x, f"{f}.over.{name}") for x in b)
    if not lo < hi:
        raise ConfigError(f"{f}.over.{name}", f"lower {lo:g} is not below upper {hi:g}")
    control = next(c for c in fe.controls if c.name == name)
    for x in (lo, hi):
        _check_control(control, x, f"{f}.over.{name}")
    return (name, lo, hi)


def _transition_resolved(t: TransitionRequest) -> dict:
    out = {k: v for k, v in t.__dict__.items() if k != "free_energy"} | {"bracket": list(t.bracket)}
    if not t.options:
        out.pop("options")  # older configs keep their hash
    else:
        out["options"] = dict(t.options)
    if t.kind != "spinodal":
        out.pop("branch")  # only a spinodal has a branch (and older configs keep their hash)
    if t.spacing == "linear":
        out.pop("spacing")
    if t.layer is None:
        out.pop("layer")  # only a glass transition has a layer (and older configs keep their hash)
    if t.over is None:  # older configs keep their hash
        out.pop("over")
        out.pop("over_tol")
    else:
        out["over"] = {t.over[0]: [t.over[1], t.over[2]]}
    return out


def _transition_model(
    info: ModelInfo, options: dict, item: dict, field: str, raw_params: dict
) -> tuple[dict, FreeEnergy | None]:
    """The options a transition overrides (validated with the config's) and the model they build, if any."""
    raw = _mapping(item.get("options"), f"{field}.options")
    if not raw:
        return {}, None
    if info.free_options:
        raise ConfigError(f"{field}.options", f"model '{info.name}' has no options to override")
    candidate = {**options, **raw}
    dropped = set(info.inapplicable(candidate)) - set(raw)  # the config's options that no longer apply
    try:
        merged = _validate_options(info, {k: v for k, v in candidate.items() if k not in dropped})
    except ConfigError as exc:
        raise ConfigError(f"{field}.{exc.field}", exc.reason) from None
    try:
        own = info.build(merged, raw_params)
    except ReplicaError:
        raise
    except Exception as exc:
        raise ConfigError(f"{field}.options", f"cannot build model '{info.name}': {exc}") from exc
    return {k: merged[k] for k in raw if k in merged}, own


def _transition_layer(fe: FreeEnergy, item: dict, field: str) -> int | None:
    """The layer of a glass transition (default 1), checked against the model's layers."""
    if item["kind"] != "glass":
        if "layer" in item:
            raise ConfigError(f"{field}.layer", "applies only to kind glass (which layer turns glassy)")
        return None
    layer = item.get("layer", 1)
    count = len(fe.layers.groups)
    if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= count:
        raise ConfigError(f"{field}.layer", f"must be a hidden layer, an integer in [1, {count}], got {layer!r}")
    return layer


def _validate_transitions(
    fe, raw, sweep: SweepSpec | None, params, info: ModelInfo, options: dict, raw_params: dict | None = None
) -> list[TransitionRequest]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError("transitions", "expected a list of {kind, parameter, bracket}")
    out = []
    for i, item in enumerate(raw):
        f = f"transitions[{i}]"
        item = _mapping(item, f)
        allowed = (
            "kind",
            "parameter",
            "bracket",
            "tol",
            "scan",
            "options",
            "solver",
            "branch",
            "spacing",
            "layer",
            "over",
            "over_tol",
        )
        _known_keys(item, f, allowed)
        if "kind" not in item:
            raise ConfigError(f"{f}.kind", "missing")
        overrides, own = _transition_model(info, options, item, f, raw_params or {})
        reason = kind_available(own or fe, item["kind"])
        if reason is not None:
            raise ConfigError(f"{f}.kind", reason)
        if own is not None:
            missing = [c.name for c in own.controls if c.name not in params and c.default is None]
            if missing:
                raise ConfigError(f"{f}.options", f"this model needs the parameter {missing[0]}: give it in params")
        parameter = item.get("parameter")
        if parameter not in fe.control_names:
            raise ConfigError(
                f"{f}.parameter", f"{parameter!r} is not a control parameter (one of {', '.join(fe.control_names)})"
            )
        control = next(c for c in fe.controls if c.name == parameter)
        if control.structural:
            raise ConfigError(f"{f}.parameter", f"{parameter} fixes the structure of the model: it cannot vary")
        if "bracket" in item:
            b = item["bracket"]
            if not isinstance(b, list) or len(b) != 2:
                raise ConfigError(f"{f}.bracket", "expected [lower, upper]")
            lo, hi = (_number(x, f"{f}.bracket") for x in b)
            if not lo < hi:
                raise ConfigError(f"{f}.bracket", f"lower {lo:g} is not below upper {hi:g}")
            for x in (lo, hi):
                _check_control(control, x, f"{f}.bracket")
        elif sweep is not None and sweep.axis(parameter) is not None:
            values = sweep.axis(parameter).values
            lo, hi = float(values.min()), float(values.max())
        else:
            raise ConfigError(f"{f}.bracket", f"required: {parameter} is not swept, so there is no range to search")
        tol = _number(item.get("tol", 1e-9), f"{f}.tol")
        if tol <= 0:
            raise ConfigError(f"{f}.tol", "must be positive")
        scan = _number(item.get("scan", 41), f"{f}.scan", integer=True)
        if scan < 2:
            raise ConfigError(f"{f}.scan", "must be at least 2")
        branch = item.get("branch", "forward")
        if branch not in BRANCHES:
            raise ConfigError(f"{f}.branch", f"'{branch}' is not one of {', '.join(BRANCHES)}")
        if "branch" in item and item["kind"] != "spinodal":
            raise ConfigError(f"{f}.branch", "applies only to kind spinodal (which branch ends)")
        spacing = item.get("spacing", "linear")
        if spacing not in ("linear", "log"):
            raise ConfigError(f"{f}.spacing", f"'{spacing}' is not one of linear, log")
        if spacing == "log" and lo <= 0:
            raise ConfigError(f"{f}.spacing", "log spacing needs a positive bracket")
        layer = _transition_layer(own or fe, item, f)
        over = _validate_over(fe, item, parameter, f)
        over_tol = _number(item.get("over_tol", 1e-4), f"{f}.over_tol")
        if over_tol <= 0:
            raise ConfigError(f"{f}.over_tol", "must be positive")
        solver = _solver_settings(_mapping(item.get("solver"), f"{f}.solver"), f"{f}.solver")
        out.append(
            TransitionRequest(
                item["kind"],
                parameter,
                (lo, hi),
                tol,
                scan,
                overrides,
                own,
                branch=branch,
                spacing=spacing,
                layer=layer,
                over=over,
                over_tol=over_tol,
                solver=solver,
            )
        )
    return out
