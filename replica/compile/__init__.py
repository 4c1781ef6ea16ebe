"""From sympy to numpy: lowering, quadrature and (later) Parisi kernels."""

from .lower import CompiledProblem, compile_free_energy
from .quadrature import Quadrature, gauss_hermite

__all__ = ["CompiledProblem", "Quadrature", "compile_free_energy", "gauss_hermite"]
