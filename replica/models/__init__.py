"""Model declarations and their registry.

A model is a function from its options to a ``FreeEnergy`` written in the
symbolic language; no numerics here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..symbolic import FreeEnergy
from .custom import OPTION_KEYS as CUSTOM_OPTION_KEYS
from .custom import custom
from .deep_network import APPLIES_WHEN as DEEP_NETWORK_APPLIES_WHEN
from .deep_network import EXCLUSIVE as DEEP_NETWORK_EXCLUSIVE
from .deep_network import INTEGER_OPTIONS as DEEP_NETWORK_INTEGER_OPTIONS
from .deep_network import LIST_OPTIONS as DEEP_NETWORK_LIST_OPTIONS
from .deep_network import OPTIONS as DEEP_NETWORK_OPTIONS
from .deep_network import deep_network
from .franz_parisi import OPTIONS as FRANZ_PARISI_OPTIONS
from .franz_parisi import franz_parisi
from .local_entropy import OPTIONS as LOCAL_ENTROPY_OPTIONS
from .local_entropy import local_entropy
from .perceptron import APPLIES_WHEN as PERCEPTRON_APPLIES_WHEN
from .perceptron import INTEGER_OPTIONS as PERCEPTRON_INTEGER_OPTIONS
from .perceptron import OPTIONS as PERCEPTRON_OPTIONS
from .perceptron import perceptron
from .teacher_student import APPLIES_WHEN as TEACHER_STUDENT_APPLIES_WHEN
from .teacher_student import OPTIONS as TEACHER_STUDENT_OPTIONS
from .teacher_student import teacher_student


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: its option choices (first = default) and builder."""

    name: str
    description: str
    options: dict[str, tuple[str, ...]]
    build: Callable[[dict, dict], FreeEnergy]
    free_options: tuple[str, ...] = ()  # a custom model's definition keys
    # option -> conditions (other option, its values) that must all hold, e.g. m only with ansatz 1rsb
    applies_when: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(default_factory=dict)
    # integer options: name -> (lowest, highest, description); absent means the model's default
    integer_options: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    # params that fix the structure, for building an example of every variant (``replica models``)
    example_params: dict = field(default_factory=dict)
    # options whose value is a list of numbers: name -> (lowest, highest, most, description); at most
    # ``most`` numbers, increasing strictly and strictly inside (lowest, highest)
    list_options: dict[str, tuple[float, float, int, str]] = field(default_factory=dict)
    # pairs of options that cannot be given together (the first replaces the second)
    exclusive: tuple[tuple[str, str], ...] = ()

    def default_options(self) -> dict[str, str]:
        return {k: v[0] for k, v in self.options.items()}

    def inapplicable(self, options: dict) -> dict[str, str]:
        """Options that do not apply given the others -> why."""
        out = {}
        for key, conditions in self.applies_when.items():
            for other, values in conditions:
                if options.get(other) not in values:
                    out[key] = f"applies only with {other}: {' | '.join(values)}"
                    break
        return out


MODELS: dict[str, ModelInfo] = {
    "perceptron": ModelInfo(
        "perceptron",
        "Gardner volume of a perceptron storing random patterns with margin kappa",
        PERCEPTRON_OPTIONS,
        lambda options, params: perceptron(options),
        applies_when=PERCEPTRON_APPLIES_WHEN,
        integer_options=PERCEPTRON_INTEGER_OPTIONS,
    ),
    "teacher_student": ModelInfo(
        "teacher_student",
        "a perceptron student learning a perceptron teacher (Gibbs or Bayes-optimal)",
        TEACHER_STUDENT_OPTIONS,
        lambda options, params: teacher_student(options),
        applies_when=TEACHER_STUDENT_APPLIES_WHEN,
    ),
    "franz_parisi": ModelInfo(
        "franz_parisi",
        "Franz-Parisi potential of the perceptron: solutions at distance d from a reference solution or the teacher",
        FRANZ_PARISI_OPTIONS,
        lambda options, params: franz_parisi(options),
    ),
    "deep_network": ModelInfo(
        "deep_network",
        "Yoshino's deep perceptron network: L layers of perceptrons, a Parisi ladder per layer",
        DEEP_NETWORK_OPTIONS,
        deep_network,
        applies_when=DEEP_NETWORK_APPLIES_WHEN,
        integer_options=DEEP_NETWORK_INTEGER_OPTIONS,
        example_params={"L": 3},
        list_options=DEEP_NETWORK_LIST_OPTIONS,
        exclusive=DEEP_NETWORK_EXCLUSIVE,
    ),
    "local_entropy": ModelInfo(
        "local_entropy",
        "local entropy of the perceptron: dense regions of solutions (large-deviation measure, y finite or inf)",
        LOCAL_ENTROPY_OPTIONS,
        local_entropy,
    ),
    "custom": ModelInfo(
        "custom",
        "a free entropy written in the config (options.free_entropy, options.order_parameters, ...)",
        {},
        custom,
        free_options=CUSTOM_OPTION_KEYS,
    ),
}

__all__ = [
    "MODELS",
    "ModelInfo",
    "custom",
    "deep_network",
    "franz_parisi",
    "local_entropy",
    "perceptron",
    "teacher_student",
]
