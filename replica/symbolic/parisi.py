"""The Parisi ladder node: k steps of replica symmetry breaking in one expression.

``ParisiAverage(boundary, u, qs, ms)`` is the value of the Parisi recursion

    f_k(u) = boundary(u),
    f_{i-1}(u) = (1/m_i) ln int Dz exp(m_i f_i(u + sqrt(q_i - q_{i-1}) z)),   i = k .. 1,
    value = int Dz f_0(sqrt(q_0) z),

for a ladder ``qs`` = (q_0, ..., q_k) (non-decreasing) and Parisi parameters
``ms`` = (m_1, ..., m_k): the energetic (or entropic) term of k-step RSB, and
with k large of full RSB (the Parisi PDE with a step x(q)). One step is
(1/m) E_z0 ln E_z1 e^{m f}: the LogAvgExp of 1RSB, on a grid instead of a
product of quadrature axes, so its cost grows linearly with k, not as
order^(k+1).

The node is differentiable once, exactly: d/ds of the value is

    sum_i (dq_i/ds) D_q_i + sum_i (dm_i/ds) D_m_i + <d boundary/ds>_P,

where D_q_i, D_m_i (``ParisiGradient``) and the average of a function of the
field in the Parisi measure at the bottom of the ladder (``ParisiBottom``)
are computed by the kernel's forward pass (compile/parisi.py). Second
derivatives (Newton's Jacobian, the Hessian) are finite differences of this
exact gradient; a FreeEnergy with a ladder says so (``numeric_hessian``).

The field variable ``u`` is bound by the node; ``ladder_average`` writes a
ladder in any field h with variance up to q_k in the unit variable u = h /
sqrt(q_k), so the kernel's grid (in units of the top of the ladder) fits
every model.
"""

from __future__ import annotations

import sympy as sp


class ParisiPass(sp.Expr):
    """The recursion itself; shared by the nodes computed from it.

    args: (boundary, its first and second derivatives in u, u, k, q_0, ..., q_k,
    m_1, ..., m_k), flat (no Tuple that a common-subexpression pass could replace
    by a symbol). The derivatives are taken here, before any such pass: the kernel
    carries the exact f_k' and f_k'' down the ladder (compile/parisi.py).
    """

    is_commutative = True

    def __new__(cls, boundary, variable, qs, ms=None, focus=None):
        if ms is None:  # rebuilt by sympy from the flat args
            raise TypeError("ParisiPass(boundary, u, qs, ms)")
        boundary = sp.sympify(boundary)
        if not isinstance(variable, sp.Symbol):
            raise TypeError("the field variable of a Parisi ladder must be a Symbol")
        slope = sp.diff(boundary, variable)
        fields = [boundary, slope, sp.diff(slope, variable)]
        if focus is not None:  # the grid's fields: the boundary and its derivatives are taken there
            position = field_map(variable, *focus)
            fields = [f.subs(variable, position) for f in fields]
        return cls._flat(*fields, variable, list(qs), list(ms), list(focus or ()))

    @classmethod
    def _flat(cls, boundary, slope, curvature, variable, qs, ms, focus=()):
        if len(qs) != len(ms) + 1:
            raise ValueError(f"a ladder of {len(ms)} steps needs {len(ms) + 1} overlaps, got {len(qs)}")
        if len(focus) not in (0, 2):
            raise ValueError(f"a ladder's focus is (centre, width), got {len(focus)} values")
        k = sp.Integer(len(ms))
        fields = map(sp.sympify, (boundary, slope, curvature))
        rest = (*map(sp.sympify, qs), *map(sp.sympify, ms), *map(sp.sympify, focus))
        return sp.Expr.__new__(cls, *fields, variable, k, *rest)

    @property
    def func(self):
        return _rebuild_pass

    @property
    def boundary(self) -> sp.Expr:
        return self.args[0]

    @property
    def slope(self) -> sp.Expr:
        return self.args[1]

    @property
    def curvature(self) -> sp.Expr:
        return self.args[2]

    @property
    def variable(self) -> sp.Symbol:
        return self.args[3]

    @property
    def steps(self) -> int:
        return int(self.args[4])

    @property
    def qs(self) -> tuple:
        return self.args[5 : 6 + self.steps]

    @property
    def ms(self) -> tuple:
        return self.args[6 + self.steps : 6 + 2 * self.steps]

    @property
    def focus(self) -> tuple:
        """(centre, width) of the grid's focus in the unit field (``field_map``), or ()."""
        return self.args[6 + 2 * self.steps :]

    @property
    def position(self) -> sp.Expr:
        """The field at the grid variable: ``field_map`` of it on a focused grid, else the variable."""
        return field_map(self.variable, *self.focus) if self.focus else self.variable

    @property
    def free_symbols(self):
        out = (self.boundary.free_symbols | self.slope.free_symbols | self.curvature.free_symbols) - {self.variable}
        for x in (*self.qs, *self.ms, *self.focus):
            out |= x.free_symbols
        return out

    def _eval_subs(self, old, new):
        if old == self.variable:
            return self
        return None

    def _sympystr(self, printer):
        return f"Parisi[{printer._print(self.boundary)}; q={printer._print(self.qs)}, m={printer._print(self.ms)}]"


def _rebuild_pass(boundary, slope, curvature, variable, k, *rest):
    k = int(k)
    qs, ms, focus = rest[: k + 1], rest[k + 1 : 2 * k + 1], rest[2 * k + 1 :]
    return ParisiPass._flat(boundary, slope, curvature, variable, list(qs), list(ms), list(focus))


class field_map(sp.Function):  # noqa: N801 - lower case like the functions
    """field_map(t, c, w): the field at the grid point t of a grid focused on c with resolution w.

    The map itself is the kernel's (compile/parisi.py ``field_map``); it only places the grid,
    so, like ``held``, it has derivative zero in every argument: the ladder's value does not
    depend on where the grid points are, in the continuum.
    """

    nargs = 3

    def fdiff(self, argindex=1):
        return sp.S.Zero


class _ParisiNode(sp.Expr):
    """A number computed from a ParisiPass (first argument)."""

    is_commutative = True

    @property
    def ladder(self) -> ParisiPass:
        return self.args[0]

    @property
    def variable(self) -> sp.Symbol:
        return self.ladder.variable

    @property
    def free_symbols(self):
        return self.ladder.free_symbols

    def _eval_is_real(self):
        return True

    def _eval_subs(self, old, new):
        if old == self.variable:
            return self
        return None

    def _eval_derivative(self, s):
        raise NotImplementedError(
            f"{type(self).__name__} is differentiated once, exactly; second derivatives of a Parisi "
            "ladder are finite differences of its gradient (FreeEnergy.numeric_hessian)"
        )


class ParisiAverage(_ParisiNode):
    """The value of the ladder: int Dz f_0(sqrt(q_0) z)."""

    def __new__(cls, *args):
        # (boundary, u, qs, ms), or the pass alone when sympy rebuilds the node
        # (after a common-subexpression pass, a symbol standing for the pass)
        ladder = args[0] if len(args) == 1 else ParisiPass(*args)
        return sp.Expr.__new__(cls, ladder)

    def _eval_derivative(self, s):
        lad = self.ladder
        out = sp.S.Zero
        for i, q in enumerate(lad.qs):
            dq = sp.diff(q, s)
            if dq != 0:
                out += dq * ParisiGradient(lad, sp.Symbol("q"), sp.Integer(i))
        for i, m in enumerate(lad.ms, start=1):
            dm = sp.diff(m, s)
            if dm != 0:
                out += dm * ParisiGradient(lad, sp.Symbol("m"), sp.Integer(i))
        db = sp.diff(lad.boundary, s)
        if db != 0:
            out += ParisiBottom(lad, db)
        return out

    def _sympystr(self, printer):
        return printer._print(self.ladder)

    def _latex(self, printer, exp=None):
        lad = self.ladder
        s = rf"\mathcal{{P}}_{{{len(lad.ms)}}}\left[{printer._print(lad.boundary)}\right]"
        return s if exp is None else rf"\left({s}\right)^{{{exp}}}"


class ParisiGradient(_ParisiNode):
    """d value / d q_i (kind q, i = 0..k) or d value / d m_i (kind m, i = 1..k), boundary values fixed."""

    def __new__(cls, ladder, kind, index):
        return sp.Expr.__new__(cls, ladder, kind, sp.Integer(index))

    @property
    def kind(self) -> str:
        return self.args[1].name

    @property
    def index(self) -> int:
        return int(self.args[2])

    def _sympystr(self, printer):
        return f"d{self.kind}{self.index}({printer._print(self.ladder)})"


class ParisiBottom(_ParisiNode):
    """sum_b P_k(u_b) g(u_b): the average of g(u) in the Parisi measure at the bottom."""

    def __new__(cls, ladder, integrand):
        integrand = sp.sympify(integrand)
        # g of the field: on a focused grid, at the grid's fields (unless already written there)
        if isinstance(ladder, ParisiPass) and ladder.focus and not integrand.has(field_map):
            integrand = integrand.subs(ladder.variable, ladder.position)
        return sp.Expr.__new__(cls, ladder, integrand)

    @property
    def integrand(self) -> sp.Expr:
        return self.args[1]

    @property
    def free_symbols(self):
        return self.ladder.free_symbols | (self.integrand.free_symbols - {self.variable})

    def _sympystr(self, printer):
        return f"<{printer._print(self.integrand)}>_P({printer._print(self.ladder)})"


PARISI_NODES = (ParisiPass, ParisiAverage, ParisiGradient, ParisiBottom)


def ladder_average(boundary: sp.Expr, h: sp.Symbol, qs, ms, name: str = "u", focus=None) -> ParisiAverage:
    """The ladder of ``boundary(h)`` over overlaps ``qs`` (field variance up to qs[-1]).

    Rescaled to the unit field u = h / sqrt(q_k): boundary(sqrt(q_k) u) over
    the ladder (q_0/q_k, ..., 1), so that the kernel's grid, in units of the
    top of the ladder, suits every model.

    ``focus`` (h_c, width), in the field h: the boundary has structure of that size at h_c
    (a constraint smeared over a small variance), and the grid is focused there
    (``field_map``) instead of uniform; without it, the grid must resolve the width
    uniformly over the whole field range.
    """
    qs = [sp.sympify(q) for q in qs]
    top = qs[-1]
    u = sp.Symbol(name, real=True)
    unit = None if focus is None else tuple(sp.sympify(x) / sp.sqrt(top) for x in focus)
    return ParisiAverage(boundary.subs(h, sp.sqrt(top) * u), u, [q / top for q in qs[:-1]] + [sp.S.One], ms, unit)
