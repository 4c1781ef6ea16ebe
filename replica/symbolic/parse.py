"""Safe parsing of free-entropy expressions written in YAML configs.

The text is parsed by Python's ``ast`` module and the tree is *walked*, never
evaluated: only numbers, declared names, the whitelisted functions below and
the arithmetic operators + - * / ** are accepted. Anything else (attribute
access, subscripts, lambdas, comprehensions, strings, keyword arguments,
unknown names) is refused with an ExpressionError naming the field. Nothing
in a config can run code.

The language:

    E(z, expr)            Gaussian average int Dz expr over a new variable z
    H(x), logH(x)         Gaussian tail and its logarithm
    Mills(x)              inverse Mills ratio G(x)/H(x)
    G(x)                  standard normal density
    log2cosh(x)           ln 2 cosh x
    expit(x)              logistic 1/(1 + e^-x)
    logaddexp(a, b)       ln(e^a + e^b), without overflow
    log exp sqrt tanh cosh sinh erf erfc abs
    pi
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping

import sympy as sp

from ..errors import ExpressionError
from .functions import SPECIAL_FUNCTIONS, gaussian_density
from .gauss import GaussAvg

MAX_LENGTH = 20_000
MAX_EXPONENT = 64

FUNCTIONS = {
    **SPECIAL_FUNCTIONS,
    "G": gaussian_density,
    "log": sp.log,
    "exp": sp.exp,
    "sqrt": sp.sqrt,
    "tanh": sp.tanh,
    "cosh": sp.cosh,
    "sinh": sp.sinh,
    "erf": sp.erf,
    "erfc": sp.erfc,
    "abs": sp.Abs,
}
CONSTANTS = {"pi": sp.pi}
AVERAGE = "E"
RESERVED = set(FUNCTIONS) | set(CONSTANTS) | {AVERAGE}

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: None,  # handled with a bound on numeric exponents
}


def parse_expression(text: str, symbols: Mapping[str, sp.Expr], field: str) -> sp.Expr:
    """Parse ``text`` into a sympy expression over ``symbols``.

    ``symbols`` maps the allowed free names (order and control parameters,
    and e.g. ``phi`` in observables) to sympy objects. Raises ExpressionError
    naming ``field`` for anything outside the language.
    """
    if not isinstance(text, str):
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            return sp.Float(text) if isinstance(text, float) else sp.Integer(text)
        raise ExpressionError(field, f"expected an expression string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(field, f"expression longer than {MAX_LENGTH} characters")
    if "^" in text:
        raise ExpressionError(field, "use ** for powers ('^' is not a power here)")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        if exc.offset and (exc.lineno or 1) > 1:
            col = f" at line {exc.lineno}, column {exc.offset}"
        raise ExpressionError(field, f"malformed expression{col}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(field, "expression too deeply nested") from None
    try:
        return _Builder(symbols, field).build(tree.body, bound=())
    except RecursionError:
        raise ExpressionError(field, "expression too deeply nested") from None


class _Builder:
    def __init__(self, symbols: Mapping[str, sp.Expr], field: str):
        for name in symbols:
            if name in RESERVED:
                raise ExpressionError(field, f"'{name}' is a reserved function name and cannot be a parameter")
        self.symbols = dict(symbols)
        self.field = field

    def fail(self, node: ast.AST, reason: str):
        col, line = getattr(node, "col_offset", None), getattr(node, "lineno", 1)
        where = "" if col is None else f" (column {col + 1})" if line == 1 else f" (line {line}, column {col + 1})"
        raise ExpressionError(self.field, reason + where)

    def build(self, node: ast.AST, bound: tuple[str, ...]) -> sp.Expr:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                self.fail(node, f"only numbers are allowed as constants, not {node.value!r}")
            if isinstance(node.value, float) and not math.isfinite(node.value):
                self.fail(node, "a number too large to be a float (overflows to inf)")
            return sp.Integer(node.value) if isinstance(node.value, int) else sp.Float(node.value)
        if isinstance(node, ast.Name):
            return self.name(node, bound)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.build(node.operand, bound)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left = self.build(node.left, bound)
            right = self.build(node.right, bound)
            if isinstance(node.op, ast.Pow):
                if right.is_number and (not right.is_finite or abs(float(right)) > MAX_EXPONENT):
                    self.fail(node, f"exponent {right} is out of range (|exponent| <= {MAX_EXPONENT})")
                return left**right
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.Call):
            return self.call(node, bound)
        self.fail(node, f"syntax not allowed: {type(node).__name__}")

    def name(self, node: ast.Name, bound: tuple[str, ...]) -> sp.Expr:
        name = node.id
        if name in bound:
            return sp.Symbol(name, real=True)
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS or name == AVERAGE:
            self.fail(node, f"'{name}' is a function and must be called")
        allowed = sorted(set(self.symbols) | set(bound) | set(CONSTANTS))
        self.fail(node, f"unknown name '{name}' (known names: {', '.join(allowed)})")

    def call(self, node: ast.Call, bound: tuple[str, ...]) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            self.fail(node, "only plain function names may be called")
        fname = node.func.id
        if node.keywords:
            self.fail(node, f"{fname}() takes no keyword arguments")
        if fname == AVERAGE:
            if len(node.args) != 2 or not isinstance(node.args[0], ast.Name):
                self.fail(node, "E takes a variable name and an expression: E(z, expr)")
            var = node.args[0].id
            if var in self.symbols or var in RESERVED or var in bound:
                self.fail(node, f"'{var}' cannot be an integration variable: the name is already in use")
            z = sp.Symbol(var, real=True)
            return GaussAvg(self.build(node.args[1], bound + (var,)), z)
        if fname not in FUNCTIONS:
            self.fail(node, f"unknown function '{fname}' (allowed: {', '.join(sorted(FUNCTIONS) + [AVERAGE])})")
        if len(node.args) != 1:
            self.fail(node, f"{fname}() takes exactly one argument")
        return FUNCTIONS[fname](self.build(node.args[0], bound))
