"""Model declarations and their registry.

A model is a function from its options to a ``FreeEnergy`` written in the
symbolic language; no numerics here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..symbolic import FreeEnergy
from .custom import OPTION_KEYS as CUSTOM_OPTION_KEYS
from .custom import custom
from .perceptron import OPTIONS as PERCEPTRON_OPTIONS
from .perceptron import perceptron


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: its option choices (first = default) and builder."""

    name: str
    description: str
    options: dict[str, tuple[str, ...]]
    build: Callable[[dict, dict], FreeEnergy]
    free_options: tuple[str, ...] = ()  # a custom model's definition keys

    def default_options(self) -> dict[str, str]:
        return {k: v[0] for k, v in self.options.items()}


MODELS: dict[str, ModelInfo] = {
    "perceptron": ModelInfo(
        "perceptron",
        "Gardner volume of a perceptron storing random patterns with margin kappa",
        PERCEPTRON_OPTIONS,
        lambda options, params: perceptron(options),
    ),
    "custom": ModelInfo(
        "custom",
        "a free entropy written in the config (options.free_entropy, options.order_parameters, ...)",
        {},
        custom,
        free_options=CUSTOM_OPTION_KEYS,
    ),
}

__all__ = ["MODELS", "ModelInfo", "custom", "perceptron"]
