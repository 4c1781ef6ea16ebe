"""The numeric side of a LiquidLayers declaration: which order parameters are free, seeds.

A layered model (``FreeEnergy.layers``) has groups of order parameters that vanish
together (liquid layers). This module says, for a set of glassy (non-liquid) groups,
which order parameters are free and which are held (at zero, or at their value for
the shared ones), which groups a point has glassy, and evaluates the seeds that
open a liquid group (plain ``lambdify``: no averages in them).
"""

from __future__ import annotations

import copy
from functools import cached_property

import numpy as np
import sympy as sp

from ..symbolic import SEED_AMPLITUDE, FreeEnergy
from .lower import NAMESPACE, _Printer

LIQUID = 1e-9  # a group whose own order parameters are all below this is liquid


class CompiledLayers:
    """Free masks, glassy groups and seeds of a FreeEnergy's liquid layers."""

    def __init__(self, free_energy: FreeEnergy):
        self.free_energy = free_energy
        self.declaration = free_energy.layers
        names = free_energy.order_parameter_names
        self.names = names
        self.groups = self.declaration.groups
        self.criterion = list(self.declaration.criterion)
        self._requires = {names.index(n): set(g) for n, g in self.declaration.requires.items()}
        self._shared = {names.index(n) for n in self.declaration.shared}
        self.kept: frozenset[int] = frozenset()  # liquid groups never opened (``keeping_liquid``)

    def keeping_liquid(self, groups) -> CompiledLayers:
        """A copy that holds the groups ``groups`` liquid even where their liquid is unstable."""
        out = copy.copy(self)
        out.kept = frozenset(groups)
        return out

    @property
    def count(self) -> int:
        return len(self.groups)

    def glassy(self, theta) -> set[int]:
        """The groups whose own order parameters are not all zero (below LIQUID) in ``theta``."""
        theta = np.nan_to_num(np.asarray(theta, dtype=float))
        return {g for g in range(self.count) if np.max(np.abs(theta[self.members(g)]), initial=0.0) > LIQUID}

    def free(self, glassy: set[int]) -> np.ndarray:
        """Mask of the order parameters that are free when the groups ``glassy`` are glassy."""
        mask = np.ones(len(self.names), dtype=bool)
        for i, groups in self._requires.items():
            mask[i] = groups <= glassy
        for i in self._shared:
            mask[i] = bool(glassy)
        return mask

    def members(self, group: int) -> np.ndarray:
        """Indices of the order parameters of ``group`` alone (those that require no other group)."""
        return np.array(sorted(i for i, g in self._requires.items() if g == {group}), dtype=int)

    def undetermined(self, glassy: set[int]) -> list[str]:
        """Order parameters with no value when only ``glassy`` are glassy (shared ones with no group)."""
        return [] if glassy else [self.names[i] for i in sorted(self._shared)]

    def liquid(self, theta, glassy: set[int]) -> np.ndarray:
        """``theta`` with every order parameter of a liquid group at zero (shared ones kept)."""
        theta = np.array(theta, dtype=float)
        mask = self.free(glassy)
        for i in self._requires:
            if not mask[i]:
                theta[i] = 0.0
        return theta

    @cached_property
    def _seeds(self) -> list:
        fe = self.free_energy
        args = fe.theta + fe.control_symbols + [SEED_AMPLITUDE]
        out = []
        for seed in self.declaration.seeds:
            names = list(seed)
            fn = sp.lambdify(
                args, [seed[n] for n in names], modules=[NAMESPACE, "numpy", "scipy"], printer=_Printer({})
            )
            out.append(([self.names.index(n) for n in names], fn))
        return out

    def seeded(self, theta, params: dict[str, float], groups, amplitude: float) -> np.ndarray:
        """``theta`` with the groups ``groups`` seeded at ``amplitude``, one after the other (in order):
        each from the values of the others, those seeded before included (so that a coupling between
        two groups opened together is seeded too)."""
        theta = np.array(theta, dtype=float)
        controls = [params[c] for c in self.free_energy.control_names]
        for g in sorted(groups):
            index, fn = self._seeds[g]
            theta[index] = np.asarray(fn(*theta, *controls, amplitude), dtype=float)
        return theta
