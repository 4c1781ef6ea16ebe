"""A model written in the config itself (``model: custom``).

    model: custom
    options:
      free_entropy: "-q_hat*(1-q)/2 + E(z, log2cosh(sqrt(q_hat)*z)) + alpha*E(z, logH((kappa-sqrt(q)*z)/sqrt(1-q)))"
      order_parameters:
        q: {init: 0.1, domain: "[0, 1)"}
        q_hat: {init: 0.1, domain: "[0, inf)"}
      observables: {entropy: phi}           # optional; 'phi' is the free entropy
      replicon: "..."                       # optional: enables at_instability
      capacity: {order_parameter: q, bound: 1}   # optional: enables capacity
      parameters: {alpha: {domain: "[0, inf)"}}  # optional ranges of the controls
    params: {alpha: 0.5, kappa: 0.0}

The control parameters are the keys of ``params``. Every expression goes
through the safe parser (``symbolic.parse``): nothing here can run code.
"""

from __future__ import annotations

import keyword
import math
import re

import sympy as sp

from ..errors import ConfigError
from ..symbolic import BoundLimit, ControlParameter, FreeEnergy, OrderParameter, parse_expression
from ..symbolic.parse import RESERVED

OPTION_KEYS = ("free_entropy", "order_parameters", "observables", "replicon", "capacity", "parameters", "labels")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_INTERVAL = re.compile(r"^\s*([\[(])\s*([^,]+?)\s*,\s*([^,]+?)\s*([\])])\s*$")


def check_name(name: object, field: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or keyword.iskeyword(name):
        raise ConfigError(field, f"{name!r} is not a valid name (letters, digits and _, starting with a letter)")
    if name in RESERVED or name == "phi":
        raise ConfigError(field, f"'{name}' is reserved and cannot name a parameter")
    return name


def _number(text: object, field: str) -> float:
    if isinstance(text, bool):
        raise ConfigError(field, f"expected a number, got {text!r}")
    if isinstance(text, (int, float)):
        return float(text)
    if isinstance(text, str) and text.strip().lstrip("+-") in ("inf", ".inf", "infinity"):
        return -math.inf if text.strip().startswith("-") else math.inf
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ConfigError(field, f"expected a number, got {text!r}") from None


def parse_domain(value: object, field: str) -> tuple[float, float, bool, bool]:
    """'[0, 1)' -> (0, 1, True, False); a list [lo, hi] is the open interval."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ConfigError(field, "a domain is [lower, upper]")
        lo, hi = _number(value[0], field), _number(value[1], field)
        closed = (False, False)
    elif isinstance(value, str) and (m := _INTERVAL.match(value)):
        lo, hi = _number(m.group(2), field), _number(m.group(3), field)
        closed = (m.group(1) == "[" and math.isfinite(lo), m.group(4) == "]" and math.isfinite(hi))
    else:
        raise ConfigError(field, f"expected an interval such as '[0, 1)' or [0, 1], got {value!r}")
    if not lo < hi:
        raise ConfigError(field, f"empty domain: lower {lo:g} is not below upper {hi:g}")
    return lo, hi, closed[0], closed[1]


def _mapping(value: object, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(field, f"expected a mapping, got {type(value).__name__}")
    return value


def custom(options: dict, params: dict) -> FreeEnergy:
    """Build a FreeEnergy from the ``options`` of a custom config."""
    for key in options:
        if key not in OPTION_KEYS:
            raise ConfigError(f"options.{key}", f"unknown option of a custom model (known: {', '.join(OPTION_KEYS)})")
    if "free_entropy" not in options:
        raise ConfigError("options.free_entropy", "missing: a custom model needs its free-entropy expression")
    ops_raw = _mapping(options.get("order_parameters"), "options.order_parameters")
    if not ops_raw:
        raise ConfigError("options.order_parameters", "missing: a custom model needs at least one order parameter")

    declared = _mapping(options.get("parameters"), "options.parameters")
    controls = []
    for name in params:
        check_name(name, f"params.{name}")
        spec = _mapping(declared.get(name), f"options.parameters.{name}")
        lo, hi = -math.inf, math.inf
        if "domain" in spec:
            lo, hi, _, _ = parse_domain(spec["domain"], f"options.parameters.{name}.domain")
        controls.append(ControlParameter(name, None, lo, hi, str(spec.get("description", ""))))
    for name in declared:
        if name not in params:
            raise ConfigError(f"options.parameters.{name}", "declared but not given in params")

    order_parameters = []
    for name, spec in ops_raw.items():
        field = f"options.order_parameters.{name}"
        check_name(name, field)
        if name in params:
            raise ConfigError(field, f"'{name}' is both an order parameter and a control parameter")
        spec = _mapping(spec, field)
        for key in spec:
            if key not in ("init", "domain", "description"):
                raise ConfigError(f"{field}.{key}", "unknown key (known: init, domain, description)")
        lo, hi, lo_c, hi_c = parse_domain(spec.get("domain", "(-inf, inf)"), f"{field}.domain")
        if "init" not in spec:
            raise ConfigError(f"{field}.init", "missing: the starting value of the order parameter")
        init = _number(spec["init"], f"{field}.init")
        p = OrderParameter(name, init, lo, hi, lo_c, hi_c, str(spec.get("description", "")))
        if not p.contains(init):
            raise ConfigError(f"{field}.init", f"{init:g} is outside the domain {p.domain_text()} of {name}")
        order_parameters.append(p)

    symbols = {p.name: p.symbol for p in order_parameters}
    symbols.update({c.name: c.symbol for c in controls})
    phi = parse_expression(options["free_entropy"], symbols, "options.free_entropy")
    for p in order_parameters:
        if p.symbol not in phi.free_symbols:
            raise ConfigError(f"options.order_parameters.{p.name}", "does not appear in the free entropy")

    obs_symbols = dict(symbols, phi=phi)
    observables_raw = _mapping(options.get("observables"), "options.observables") or {"phi": "phi"}
    observables = {}
    for name, text in observables_raw.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(f"options.observables.{name}", "not a valid observable name")
        observables[name] = parse_expression(text, obs_symbols, f"options.observables.{name}")

    replicon = None
    if options.get("replicon") is not None:
        replicon = parse_expression(options["replicon"], symbols, "options.replicon")

    bound_limits = {}
    if options.get("capacity") is not None:
        cap = _mapping(options["capacity"], "options.capacity")
        name = cap.get("order_parameter")
        if name not in symbols or name in params:
            raise ConfigError("options.capacity.order_parameter", f"{name!r} is not an order parameter of the model")
        bound = _number(cap.get("bound", 1), "options.capacity.bound")
        op = next(p for p in order_parameters if p.name == name)
        if bound not in (op.lower, op.upper) or math.isinf(bound):
            raise ConfigError(
                "options.capacity.bound", f"{bound:g} is not a finite end of the domain {op.domain_text()} of {name}"
            )
        bound_limits["capacity"] = BoundLimit(name, bound, "order parameter reaches its bound")

    labels = {str(k): str(v) for k, v in _mapping(options.get("labels"), "options.labels").items()}
    for name, expr in [("free_entropy", phi), *observables.items()]:
        if not isinstance(expr, sp.Expr):
            raise ConfigError(f"options.{name}", "not an expression")
    return FreeEnergy(
        name="custom",
        phi=phi,
        order_parameters=order_parameters,
        controls=controls,
        observables=observables,
        replicon=replicon,
        bound_limits=bound_limits,
        labels=labels,
        description="model defined in the config",
    )
