"""The perceptron Gardner volume: storage of random patterns with a margin.

N weights, P = alpha N patterns, stabilities Delta = w.xi / sqrt(N) >= kappa,
spherical (|w|^2 = N) or binary (w = +-1) weights. The ansatz is an option:
``rs`` (perceptron_rs), ``1rsb``, ``krsb`` and ``frsb`` (perceptron_rsb).
"""

from __future__ import annotations

from ..symbolic import FreeEnergy
from .perceptron_rs import perceptron_rs
from .perceptron_rsb import (
    perceptron_1rsb,
    perceptron_frozen_1rsb,
    perceptron_jamming,
    perceptron_ladder,
)

OPTIONS = {
    "weights": ("spherical", "binary"),
    "ansatz": ("rs", "1rsb", "krsb", "frsb"),
    "m": ("auto", "fixed"),
    "frozen": ("false", "true"),
    "regime": ("volume", "jamming"),
}
# option -> conditions (other option, its values) that must all hold for it to apply
APPLIES_WHEN = {
    "m": (("ansatz", ("1rsb",)), ("regime", ("volume",))),
    "frozen": (("ansatz", ("1rsb",)), ("weights", ("binary",))),
    "regime": (("ansatz", ("1rsb", "krsb", "frsb")), ("weights", ("spherical",))),
    "steps": (("ansatz", ("krsb", "frsb")),),
}
# integer options: name -> (lowest, highest, default per ansatz)
INTEGER_OPTIONS = {"steps": (1, 400, "number of RSB steps k (krsb: 2, frsb: 24)")}
DEFAULT_STEPS = {"krsb": 2, "frsb": 24}


def perceptron(options: dict) -> FreeEnergy:
    """Gardner volume of the perceptron; options weights, ansatz, m, frozen, regime and steps."""
    ansatz = options.get("ansatz", "rs")
    weights = options["weights"]
    if ansatz in ("krsb", "frsb"):
        steps = int(options.get("steps") or DEFAULT_STEPS[ansatz])
        if options.get("regime", "volume") == "jamming":
            return perceptron_jamming(steps, ansatz)
        return perceptron_ladder(weights, steps, ansatz)
    if ansatz == "1rsb":
        if options.get("regime", "volume") == "jamming":
            return perceptron_jamming(1, "1rsb")
        if str(options.get("frozen", "false")).lower() == "true":
            return perceptron_frozen_1rsb()
        return perceptron_1rsb(weights, options.get("m", "auto"))
    return perceptron_rs(weights)
