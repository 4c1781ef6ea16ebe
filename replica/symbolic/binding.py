"""The base of the nodes that bind an integration variable (averages, smoothings)."""

from __future__ import annotations

import sympy as sp


class BoundVariable(sp.Expr):
    """A node with args (body, variable, *parameters) whose ``variable`` is bound by the node.

    The variable is not a free symbol of the node (the parameters' symbols are),
    substituting it changes nothing, and the node is real where its body is.
    """

    is_commutative = True

    @property
    def variable(self) -> sp.Symbol:
        return self.args[1]

    @property
    def free_symbols(self):
        params = [a.free_symbols for a in self.args[2:]]
        return (self.args[0].free_symbols - {self.variable}).union(*params)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_subs(self, old, new):
        if old == self.variable:
            return self
        return None
