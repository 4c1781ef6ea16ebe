"""One point: saddle-point solvers, stability, continuation, transitions."""

from .continuation import ChainState, solve_chain
from .point import METHODS, Solution, SolverOptions, result_observable_names, solve_point
from .transitions import KINDS, Transition, TransitionRequest, kind_available, locate

__all__ = [
    "ChainState",
    "KINDS",
    "METHODS",
    "Solution",
    "SolverOptions",
    "Transition",
    "TransitionRequest",
    "kind_available",
    "locate",
    "result_observable_names",
    "solve_chain",
    "solve_point",
]
