"""The symbolic language of free energies (sympy); no numerics here."""

from .free_energy import (
    OPEN_AT,
    OPEN_WIDTH,
    OPEN_X,
    SEED_AMPLITUDE,
    BoundLimit,
    ControlParameter,
    FreeEnergy,
    LayerLadders,
    LiquidLayers,
    OrderParameter,
    ParisiLadder,
)
from .functions import H, Mills, expit, gaussian_density, held, log2cosh, logaddexp, logH
from .gauss import GaussAvg, LogAvgExp, average_variables, derivative, simplify_averages
from .maximum import AtMaximum, Maximum
from .parisi import ParisiAverage, ParisiBottom, ladder_average
from .parse import parse_expression
from .smooth import GaussSmooth
from .truncated import TruncatedAvg

__all__ = [
    "OPEN_AT",
    "OPEN_WIDTH",
    "OPEN_X",
    "SEED_AMPLITUDE",
    "LayerLadders",
    "LiquidLayers",
    "ParisiLadder",
    "AtMaximum",
    "BoundLimit",
    "ControlParameter",
    "FreeEnergy",
    "GaussAvg",
    "GaussSmooth",
    "H",
    "held",
    "LogAvgExp",
    "Maximum",
    "Mills",
    "OrderParameter",
    "ParisiAverage",
    "ParisiBottom",
    "TruncatedAvg",
    "average_variables",
    "derivative",
    "gaussian_density",
    "ladder_average",
    "expit",
    "log2cosh",
    "logaddexp",
    "logH",
    "parse_expression",
    "simplify_averages",
]
