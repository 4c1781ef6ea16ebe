"""The symbolic language of free energies (sympy); no numerics here."""

from .free_energy import BoundLimit, ControlParameter, FreeEnergy, OrderParameter
from .functions import H, Mills, gaussian_density, log2cosh, logH
from .gauss import GaussAvg, LogAvgExp, average_variables, derivative, simplify_averages
from .parisi import ParisiAverage, ladder_average
from .parse import parse_expression
from .smooth import GaussSmooth
from .truncated import TruncatedAvg

__all__ = [
    "BoundLimit",
    "ControlParameter",
    "FreeEnergy",
    "GaussAvg",
    "GaussSmooth",
    "H",
    "LogAvgExp",
    "Mills",
    "OrderParameter",
    "ParisiAverage",
    "TruncatedAvg",
    "average_variables",
    "derivative",
    "gaussian_density",
    "ladder_average",
    "log2cosh",
    "logH",
    "parse_expression",
    "simplify_averages",
]
