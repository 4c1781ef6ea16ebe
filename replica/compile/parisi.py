"""The Parisi ladder kernel: k steps of RSB on a grid of fields.

For a boundary function f_k(u) on a uniform grid u_a and a ladder
q_0 <= q_1 <= ... <= q_k with Parisi parameters m_1, ..., m_k,

    f_{i-1}(u) = (1/m_i) ln int Dz exp(m_i f_i(u + sqrt(q_i - q_{i-1}) z)),   i = k .. 1,
    value      = int Dz f_0(sqrt(q_0) z),

the discrete Parisi recursion (the PDE d_q f = -(1/2)[f'' + x(q) f'^2] with
a step x(q)); a step with m -> 1 ... 0 interpolates between an annealed and
a quenched average. Each Gaussian convolution uses the probabilists'
Gauss-Hermite nodes z_j; f_i between grid points is the 6-point (quintic)
Lagrange interpolant, continued linearly outside the grid. On a uniform
grid the shift sqrt(Delta) z_j is the same for every u_a, so each step is
a few shifted slices of one padded array (no search, no spline solve), and
every step is vectorised over the grid and the nodes.

Derivatives come from a forward pass that carries the Parisi measure P_i(u)
(P_0 = the Gaussian of variance q_0; P_i = P_{i-1} pushed through the tilted
kernel tau_ij = w_j exp(m_i (f_i(u + s_i z_j) - f_{i-1}(u)))), and a backward
pass that carries the slope f_i' down from the boundary's own derivative
(f_{i-1}' = sum_j tau_ij f_i'(u + s_i z_j)):

    d value / d q_i      = -(1/2) (m_{i+1} - m_i) sum_a P_i(a) f_i'(u_a)^2,        i < k (m_0 = 0),
    d value / d Delta_k  = (1/2) sum_a P_{k-1}(a) sum_j tau_kj(a) [f_k'' + m_k f_k'^2](u_a + s_k z_j),
    d value / d m_i      = (1/m_i) [sum P_i f_i - sum P_{i-1} f_{i-1}],
    d value / d f_k(u_b) = P_k(b),

with s_i = sqrt(Delta_i). The last two are the exact derivatives (the
adjoint) of the discretisation. The first two are the Parisi (heat-equation)
forms, smooth down to Delta_i = 0, which differ from the literal derivative
of the discrete steps by the interpolation error only; f_k' and f_k'' are the
boundary's exact derivatives (the node differentiates it symbolically). Where
two levels merge the step between them is the identity on the grid, so both
carry the same sum P f'^2: a ladder whose levels merge at a stationary point
(the plateau of a Parisi function on a fixed ladder of m_i) is stationary to
rounding, not only to the grid's accuracy. The grid check (doubling the
nodes) measures the discretisation error of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
from scipy import sparse

from .quadrature import gauss_hermite

FIELD_WIDTH = 9.0  # grid half-width in units of the top of the ladder (P_i has variance <= 1 there)
POINTS_PER_NODE = 8  # grid points per order: n_u = 8 order + 1
NODES_PER_ORDER = 1.0  # Gauss-Hermite nodes per step: order


@dataclass(frozen=True)
class FieldGrid:
    """A uniform grid u_a in [-W, W] and the Gauss-Hermite rule of each step.

    One integer ``order`` sets both (POINTS_PER_NODE order + 1 grid points,
    order nodes), so that the solver's quadrature check, which doubles the order,
    refines the grid and the rule together.
    """

    order: int
    u: np.ndarray
    du: float
    z: np.ndarray
    w: np.ndarray

    @classmethod
    @lru_cache(maxsize=16)
    def build(cls, order: int) -> FieldGrid:
        n = POINTS_PER_NODE * order + 1
        u = np.linspace(-FIELD_WIDTH, FIELD_WIDTH, n)
        z, w = gauss_hermite(max(int(NODES_PER_ORDER * order), 8))
        return cls(order, u, float(u[1] - u[0]), z, w)

    @property
    def center(self) -> int:
        return len(self.u) // 2

    def rule(self, s: float) -> tuple[np.ndarray, np.ndarray]:
        """The Gauss-Hermite rule of a step of width s (in u): order * sqrt(s) nodes, at least 8.

        A narrow step smooths f only a little, so E_z e^{m f(u + s z)} is close
        to the exponential of a quadratic in z and needs fewer nodes; the
        count scales with s and doubles with the order like everything else.
        """
        n = int(min(len(self.z), max(8, np.ceil(len(self.z) * np.sqrt(min(s, 1.0))))))
        return (self.z, self.w) if n == len(self.z) else gauss_hermite(n)


STENCIL = np.arange(-2.0, 4.0)  # 6-point Lagrange: value error O(du^6), derivative O(du^5)


# monomial coefficients of the Lagrange basis through the STENCIL nodes: L_i(t) = sum_p C[i, p] t^p
_BASIS = np.linalg.inv(np.vander(STENCIL, increasing=True)).T


def _lagrange(t: np.ndarray, derivatives: int = 2) -> tuple[np.ndarray, ...]:
    """Weights L_k(t) (t in cells) of the interpolant through the STENCIL nodes, and of its first
    ``derivatives`` (0, 1 or 2) derivatives in t: each of shape t.shape + (len(STENCIL),).

    With L_k(t) = sum_p C[k, p] t^p, the rows t^p, p t^(p-1), p (p-1) t^(p-2) are built contiguous and
    combined by one matrix product each (strided writes along a trailing axis of six cost more than
    the arithmetic).
    """
    flat = np.ravel(np.asarray(t, dtype=float))
    n = len(STENCIL)
    powers = np.empty((n, flat.size))
    powers[0] = 1.0
    for p in range(1, n):
        np.multiply(powers[p - 1], flat, out=powers[p])
    rows = [powers]
    if derivatives >= 1:
        d1 = np.zeros_like(powers)
        d1[1:] = np.arange(1, n)[:, None] * powers[:-1]
        rows.append(d1)
    if derivatives >= 2:
        d2 = np.zeros_like(powers)
        d2[2:] = (np.arange(2, n) * np.arange(1, n - 1))[:, None] * powers[:-2]
        rows.append(d2)
    shape = np.shape(t) + (n,)
    return tuple(np.ascontiguousarray((_BASIS @ r).T).reshape(shape) for r in rows)


@dataclass(frozen=True)
class _Shift:
    """The interpolation of f at u_a + s z_j for all a, j, on the padded array fp.

    With x_j = s z_j / du = c_j + t_j (c_j an integer), the 6-point interpolant is

        f(u_a + s z_j) = sum_k L_k(t_j) fp[start_j + a + k],   start_j = pad + c_j + STENCIL[0],

    the same weights and the same shift for every grid point a: for node j the
    values at all a are one correlation of a contiguous slice of fp with L(t_j).
    Built once per (grid order, s) (``_shift``).
    """

    start: np.ndarray  # (n_z,) first stencil point of node j in the padded array, at a = 0
    weight: np.ndarray  # (n_z, len(STENCIL)) L_k(t_j)
    dweight: np.ndarray  # (n_z, len(STENCIL)), d/du (per unit u)
    d2weight: np.ndarray  # (n_z, len(STENCIL)), d^2/du^2
    pad: int
    z: np.ndarray  # the Gauss-Hermite rule of this step
    w: np.ndarray


@lru_cache(maxsize=64)
def _shift(order: int, s: float) -> _Shift:
    """The _Shift of a step of width s on the grid of ``order`` (cached: a finite-difference
    Jacobian and the observables revisit the same widths)."""
    grid = FieldGrid.build(order)
    z, w = grid.rule(s)
    x = s * z / grid.du
    cell = np.floor(x)
    t = x - cell
    cell = cell.astype(int)
    pad = int(np.max(np.abs(cell))) + len(STENCIL)
    start = cell + int(STENCIL[0]) + pad
    lw, ldw, ld2w = _lagrange(t)
    arrays = start, lw, ldw / grid.du, ld2w / grid.du**2
    for a in arrays:
        a.setflags(write=False)
    return _Shift(*arrays, pad, z, w)


def _pad(f: np.ndarray, pad: int) -> np.ndarray:
    """f continued linearly (by its end differences) by ``pad`` points on each side."""
    r = np.arange(1, pad + 1)
    left = f[0] - r[::-1] * (f[1] - f[0])
    right = f[-1] + r * (f[-1] - f[-2])
    return np.concatenate([left, f, right])


def _unpad(g: np.ndarray, pad: int) -> np.ndarray:
    """Adjoint of ``_pad``: gradients on the padded array -> on f."""
    n = len(g) - 2 * pad
    out = g[pad : pad + n].copy()
    r = np.arange(1, pad + 1)
    gl = g[:pad]  # coefficient of point -r is at position pad - r
    gr = g[pad + n :]
    cl = gl[::-1]  # cl[r-1] multiplies (f0 - r (f1 - f0)) = (1 + r) f0 - r f1
    out[0] += np.sum(cl * (1 + r))
    out[1] -= np.sum(cl * r)
    out[-1] += np.sum(gr * (1 + r))
    out[-2] -= np.sum(gr * r)
    return out


def _gather(fp: np.ndarray, shift: _Shift, weights: np.ndarray) -> np.ndarray:
    """G[j, a] = sum_k weights[j, k] fp[start_j + a + k] for every grid point a: shape (n_z, n_u).

    Node-major: row j is the correlation of the slice fp[start_j : start_j + n_u + 5]
    with weights[j] (no index tensor of size n_u n_z len(STENCIL)).
    """
    n = len(fp) - 2 * shift.pad
    span = n + len(STENCIL) - 1
    out = np.empty((len(shift.start), n))
    for j, first in enumerate(shift.start.tolist()):
        out[j] = np.correlate(fp[first : first + span], weights[j], "valid")
    return out


def _scatter(values: np.ndarray, shift: _Shift, weights: np.ndarray) -> np.ndarray:
    """Adjoint of ``_gather``: values (n_z, n_u) -> the padded array,

    out[start_j + a + k] += weights[j, k] values[j, a], i.e. one full convolution of
    values[j] with weights[j] added to the slice of node j.
    """
    n = values.shape[1]
    span = n + len(STENCIL) - 1
    out = np.zeros(n + 2 * shift.pad)
    for j, first in enumerate(shift.start.tolist()):
        out[first : first + span] += np.convolve(values[j], weights[j])
    return out


def _gather_at(fp: np.ndarray, shift: _Shift, weights: np.ndarray, a: int) -> np.ndarray:
    """sum_k weights[j, k] fp[start_j + a + k] at the one grid point a: shape (n_z,)."""
    return np.sum(weights * fp[shift.start[:, None] + a + np.arange(len(STENCIL))], axis=1)


def _scatter_at(values: np.ndarray, shift: _Shift, weights: np.ndarray, a: int, size: int) -> np.ndarray:
    """Adjoint of ``_gather_at``: values (n_z,) -> a padded array of ``size``."""
    idx = shift.start[:, None] + a + np.arange(len(STENCIL))
    return np.bincount(idx.ravel(), weights=(values[:, None] * weights).ravel(), minlength=size)


class _UniformStep:
    """A step of width s on the uniform grid: f(u_a + s z_j) by the shared-shift correlations.

    ``centre``: the targets are s z_j around the centre of the grid only (the top of a ladder).
    """

    def __init__(self, order: int, s: float, centre: int | None = None):
        self.shift = _shift(order, s)
        self.w = self.shift.w
        self.centre = centre
        self.size = 8 * order + 1

    def gather(self, f: np.ndarray) -> np.ndarray:
        """f at the targets: (n_z, n_u), or (n_z,) at the centre."""
        sh = self.shift
        if self.centre is None:
            return _gather(_pad(f, sh.pad), sh, sh.weight)
        return _gather_at(_pad(f, sh.pad), sh, sh.weight, self.centre)

    def scatter(self, values: np.ndarray) -> np.ndarray:
        """Adjoint of ``gather``: values at the targets -> the grid."""
        sh = self.shift
        if self.centre is None:
            return _unpad(_scatter(values, sh, sh.weight), sh.pad)
        return _unpad(_scatter_at(values, sh, sh.weight, self.centre, self.size + 2 * sh.pad), sh.pad)

    def derivatives(self, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """f' and f'' of the interpolant at the grid points (meant for a step of width 0)."""
        sh = self.shift
        first = int(sh.start[0])
        window = _pad(f, sh.pad)[first : first + len(f) + len(STENCIL) - 1]
        return np.correlate(window, sh.dweight[0], "valid"), np.correlate(window, sh.d2weight[0], "valid")


def field_map(t, centre, width):
    """The field x(t) of the grid point t on a grid focused on ``centre`` with resolution ``width``:

        x(t) = c + w sinh(a t + b),   a, b such that x(-W) = -W, x(W) = W   (W = FIELD_WIDTH),

    uniform in t. Near c the spacing is about w a dt, and at a distance d from c it is
    about a dt sqrt(w^2 + d^2): the same number of points for a structure of size d at a
    distance d, at every scale down to w (the multi-scale boundary layer of a ladder whose
    rungs crowd towards q = 1). ``t`` is the uniform grid; broadcasts over arrays of c, w.
    """
    a, b = _map_constants(centre, width)
    return centre + width * np.sinh(a * t + b)


def _map_constants(centre, width):
    upper = np.arcsinh((FIELD_WIDTH - centre) / width)
    lower = np.arcsinh((-FIELD_WIDTH - centre) / width)
    return (upper - lower) / (2 * FIELD_WIDTH), (upper + lower) / 2


class _MappedStep:
    """A step of width s on the grid focused by ``field_map`` (centre c, width w).

    The targets x_a + s z_j are mapped back to t, where f is smooth on the uniform grid, and
    interpolated there by the same 6-point Lagrange rule (continued linearly beyond the ends):
    every target has its own stencil, so the step is a sparse matrix (6 entries a row) from
    the padded grid to the targets; a gather is its product with f, a scatter its transpose's.
    ``centre``: the targets are s z_j around x = 0 only (the top of a ladder).
    """

    def __init__(self, grid: FieldGrid, s: float, focus: tuple[float, float], centre: bool = False):
        self.focus, self.grid, self.centre = focus, grid, centre
        c, w = focus
        self._a, self._b = _map_constants(c, w)
        self.w = grid.w
        x = np.zeros(1) if centre else field_map(grid.u, c, w)
        self.targets = x[None, :] + s * grid.z[:, None]  # (n_z, n_a)
        pos = self._cells(self.targets)
        if s == 0.0:  # the identity on the grid, exactly (merged levels stay alike)
            pos = np.round(pos)
        cell = np.floor(pos)
        first = cell.astype(int) + int(STENCIL[0])
        n = len(grid.u)
        self.pad = int(max(0, -first.min(), first.max() + len(STENCIL) - n))
        self._first = first + self.pad  # (n_z, n_a): first stencil point in the padded array
        self._frac = pos - cell
        (weights,) = _lagrange(self._frac, 0)
        self.matrix = self._matrix(weights)

    def _cells(self, x: np.ndarray) -> np.ndarray:
        """The position of the fields x on the uniform grid of t, in cells from its first point."""
        c, w = self.focus
        return ((np.arcsinh((x - c) / w) - self._b) / self._a + FIELD_WIDTH) / self.grid.du

    def _matrix(self, weights: np.ndarray) -> sparse.csr_matrix:
        """Targets x padded grid: row (j, a) holds the stencil weights of target j, a."""
        rows = weights.shape[0] * weights.shape[1]
        columns = (self._first[..., None] + np.arange(len(STENCIL))).reshape(-1)
        shape = (rows, len(self.grid.u) + 2 * self.pad)
        indptr = np.arange(0, len(STENCIL) * rows + 1, len(STENCIL))
        return sparse.csr_matrix((weights.reshape(-1), columns, indptr), shape=shape)

    def gather(self, f: np.ndarray) -> np.ndarray:
        out = (self.matrix @ _pad(f, self.pad)).reshape(self.targets.shape)
        return out[:, 0] if self.centre else out

    def scatter(self, values: np.ndarray) -> np.ndarray:
        return _unpad(self.matrix.T @ np.ravel(values), self.pad)

    def derivatives(self, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """f' and f'' of the interpolant in x at the targets of the first node (for a step of width 0).

        d/dx = t' d/dt and d^2/dx^2 = t'^2 d^2/dt^2 + t'' d/dt, with t in cells of the grid.
        """
        c, w = self.focus
        a = self._a
        d = self.targets - c
        r = np.sqrt(w * w + d * d)
        t1 = (1.0 / (a * r * self.grid.du))[..., None]
        t2 = (-d / (a * r**3 * self.grid.du))[..., None]
        _, dl, d2l = _lagrange(self._frac)
        fp = _pad(f, self.pad)
        first = (self._matrix(dl * t1) @ fp).reshape(self.targets.shape)
        second = (self._matrix(d2l * t1**2 + dl * t2) @ fp).reshape(self.targets.shape)
        return first[0], second[0]


class _IdentityStep:
    """A step of width 0: the targets are the grid points themselves (``centre``: the one grid
    point u = 0), a rule of one node of weight 1. Exact, and free: a liquid layer's ladder
    (every level at zero) and merged levels cost no interpolation."""

    w = np.ones(1)

    def __init__(self, size: int, centre: int | None = None):
        self.size, self.centre = size, centre

    def gather(self, f: np.ndarray) -> np.ndarray:
        """f at the targets: (1, n_u), or (1,) at the centre."""
        if self.centre is None:
            return np.array(f, dtype=float)[None, :]
        return np.array([f[self.centre]], dtype=float)

    def scatter(self, values: np.ndarray) -> np.ndarray:
        """Adjoint of ``gather``."""
        if self.centre is None:
            return np.array(values, dtype=float).reshape(self.size)
        out = np.zeros(self.size)
        out[self.centre] = float(np.sum(values))
        return out


@dataclass
class LadderPass:
    """Backward recursion of one ladder on the grid; gradients on demand.

    ``focus`` (c, w): the grid is ``field_map``'s, focused on the field c with resolution w
    (the boundary and its derivatives are given at those fields); None: the uniform grid.
    """

    grid: FieldGrid
    qs: np.ndarray  # q_0 .. q_k
    ms: np.ndarray  # m_1 .. m_k
    boundary: np.ndarray  # f_k on the grid
    slope: np.ndarray | None = None  # f_k' on the grid (exact; else differentiated from f_k)
    curvature: np.ndarray | None = None  # f_k'' on the grid (exact; else differentiated from f_k)
    focus: tuple[float, float] | None = None
    fs: list[np.ndarray] = field(default_factory=list)  # f_0 .. f_k
    shifts: list = field(default_factory=list)  # the steps' operators: 0 (top, at the centre) .. k
    taus: list[np.ndarray] = field(default_factory=list)  # tilted weights tau_ij(a) of steps 1..k, (n_z, n_u)
    value: float = float("nan")

    def _step(self, s: float, centre: bool = False, identity: bool = True):
        """The operator of a step of width s; width 0 is ``_IdentityStep`` where the targets are grid
        points (every step of a liquid layer's ladder, and merged levels), unless ``identity`` is off."""
        if identity and s == 0.0 and not (centre and self.focus is not None):
            return _IdentityStep(len(self.grid.u), self.grid.center if centre else None)
        if self.focus is None:
            return _UniformStep(self.grid.order, s, self.grid.center if centre else None)
        return _MappedStep(self.grid, s, self.focus, centre)

    @classmethod
    def run(cls, boundary: np.ndarray, qs, ms, grid: FieldGrid, slope=None, curvature=None, focus=None) -> LadderPass:
        """The backward recursion, step i = k .. 1 (a log-sum-exp over the nodes at every u_a):

            f_{i-1}(u_a) = (1/m_i) ln sum_j w_j exp(m_i f_i(u_a + s_i z_j)),
            tau_ij(a)    = w_j exp(m_i f_i(u_a + s_i z_j) - m_i f_{i-1}(u_a)),

        then value = sum_j w_j f_0(s_0 z_j) at the centre u = 0.
        """
        qs = np.asarray(qs, dtype=float)
        ms = np.asarray(ms, dtype=float)
        focus = None if focus is None else (float(focus[0]), float(focus[1]))
        self = cls(grid, qs, ms, np.asarray(boundary, dtype=float), focus=focus)
        if slope is not None and curvature is not None:
            self.slope = np.broadcast_to(np.asarray(slope, dtype=float), grid.u.shape)
            self.curvature = np.broadcast_to(np.asarray(curvature, dtype=float), grid.u.shape)
        deltas = np.diff(qs)
        bad_focus = focus is not None and not (focus[1] > 0 and abs(focus[0]) < FIELD_WIDTH)
        if qs[0] < 0 or np.any(deltas < 0) or np.any(ms <= 0) or not np.all(np.isfinite(self.boundary)) or bad_focus:
            self.fs = [np.full_like(grid.u, np.nan)] * (len(qs))
            return self
        f = self.boundary
        fs = [f]
        shifts = []
        taus: list[np.ndarray] = []
        for i in range(len(ms), 0, -1):  # step i from q_{i-1} to q_i
            m = ms[i - 1]
            sh = self._step(float(np.sqrt(deltas[i - 1])))
            if isinstance(sh, _IdentityStep):  # f_{i-1} = f_i, tau = 1 (one node)
                taus.append(np.ones((1, len(f))))
                shifts.append(sh)
                fs.append(f)
                continue
            y = sh.gather(f)  # f_i(u_a + s z_j), (n_z, n_u)
            y *= m
            y += np.log(sh.w)[:, None]
            top = np.max(y, axis=0)
            y -= top
            tau = np.exp(y, out=y)
            total = np.sum(tau, axis=0)
            tau /= total
            f = (top + np.log(total)) / m
            taus.append(tau)
            shifts.append(sh)
            fs.append(f)
        top_shift = self._step(float(np.sqrt(qs[0])), centre=True)
        self.value = float(np.dot(top_shift.w, top_shift.gather(f)))
        self.fs = fs[::-1]
        self.shifts = [top_shift] + shifts[::-1]
        self.taus = taus[::-1]
        return self

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.value))

    @cached_property
    def measures(self) -> list[np.ndarray]:
        """P_0 .. P_k on the grid (weights summing to one): the adjoint of the recursion,

        P_0(b) = sum_j w_j dF(s_0 z_j)/df_0(u_b),
        P_i(b) = sum_a P_{i-1}(a) sum_j tau_ij(a) d f_i(u_a + s_i z_j) / d f_i(u_b).
        """
        out = [self.shifts[0].scatter(np.asarray(self.shifts[0].w))]
        for i, tau in enumerate(self.taus, start=1):
            out.append(self.shifts[i].scatter(tau * out[-1][None, :]))
        return out

    @cached_property
    def _top_derivatives(self) -> tuple[np.ndarray, np.ndarray]:
        """f_k' and f_k'' on the grid: the boundary's own (exact) if given, else its interpolant's."""
        if self.slope is not None and self.curvature is not None:
            return self.slope, self.curvature
        return self._step(0.0, identity=False).derivatives(self.boundary)

    @cached_property
    def slopes(self) -> list[np.ndarray]:
        """f_0' .. f_k' on the grid, carried down the ladder by the tilted kernel:

            f_{i-1}'(u_a) = sum_j tau_ij(a) f_i'(u_a + s_i z_j),

        the derivative of the recursion (f_i' between grid points is interpolated, like f_i).
        """
        out = [self._top_derivatives[0]]
        for i in range(len(self.ms), 0, -1):
            y = self.shifts[i].gather(out[-1])
            y *= self.taus[i - 1]
            out.append(np.sum(y, axis=0))
        return out[::-1]

    @cached_property
    def top_gradient(self) -> float:
        """d value / d Delta_k of the last step, in the heat-equation form (smooth down to Delta_k = 0):

            (1/2) sum_a P_{k-1}(a) sum_j tau_kj(a) [f_k'' + m_k f_k'^2](u_a + s_k z_j),

        with f_k' and f_k'' the boundary's derivatives, interpolated between grid points;
        (1/2) sum_j w_j f_0''(s_0 z_j) when the ladder has no step.
        """
        d1, d2 = self._top_derivatives
        k = len(self.ms)
        sh = self.shifts[k]
        if k == 0:
            return 0.5 * float(np.dot(sh.w, sh.gather(d2)))
        slope = sh.gather(d1)
        slope *= slope
        slope *= self.ms[k - 1]
        slope += sh.gather(d2)
        slope *= self.taus[k - 1]
        return 0.5 * float(np.dot(np.sum(slope, axis=0), self.measures[k - 1]))

    @cached_property
    def q_gradient(self) -> np.ndarray:
        """d value / d q_i at fixed boundary values.

        Below the top, the Parisi form (the heat-equation derivatives of two neighbouring
        steps combined through the recursion; m_0 = 0):

            d value / d q_i = -(1/2) (m_{i+1} - m_i) sum_a P_i(a) f_i'(u_a)^2,   i < k,

        and d value / d Delta_k for the top (``top_gradient``). Where two levels merge
        (Delta_{i+1} = 0) the step is the identity on the grid, so their averages of f'^2 are
        the same numbers and merged levels of a stationary ladder stay exactly stationary.
        """
        k = len(self.ms)
        mm = np.concatenate([[0.0], self.ms])
        out = np.empty(k + 1)
        for i in range(k):
            out[i] = -0.5 * (mm[i + 1] - mm[i]) * float(np.dot(self.measures[i], self.slopes[i] ** 2))
        out[k] = self.top_gradient
        return out

    @cached_property
    def m_gradient(self) -> np.ndarray:
        """d value / d m_i, i = 1..k."""
        P = self.measures
        out = np.zeros(len(self.ms))
        for i in range(1, len(self.ms) + 1):
            out[i - 1] = (np.dot(P[i], self.fs[i]) - np.dot(P[i - 1], self.fs[i - 1])) / self.ms[i - 1]
        return out

    def bottom_average(self, values: np.ndarray) -> float:
        """sum_b P_k(b) values(u_b): the derivative of the value along a change of f_k."""
        return float(np.dot(self.measures[-1], np.broadcast_to(values, self.grid.u.shape)))


class BatchPass:
    """Ladder passes for a batch of parameter sets (one pass per batch element)."""

    def __init__(self, boundary, qs, ms, grid: FieldGrid, axis: int, slope=None, curvature=None, focus=()):
        self.grid = grid
        self.axis = axis
        ndim_quad = -axis  # the field axis and the quadrature axes after it
        fields = [np.asarray(x, dtype=float) for x in (boundary, slope, curvature) if x is not None]
        qs = [np.asarray(q, dtype=float) for q in qs]
        ms = [np.asarray(m, dtype=float) for m in ms]
        focus = [np.asarray(x, dtype=float) for x in focus]
        # batch shape: from everything except the trailing quadrature axes
        lead = [x.shape[: max(x.ndim - ndim_quad, 0)] for x in [*fields, *qs, *ms, *focus]]
        self.batch = np.broadcast_shapes(*lead)
        self.out_shape = self.batch + (1,) * ndim_quad
        b, *derivatives = [self._on_grid(x) for x in fields]
        self.passes = []
        for idx in _indices(self.batch):
            q, m, c = (
                [float(np.broadcast_to(x, self.out_shape)[idx].ravel()[0]) for x in xs] for xs in (qs, ms, focus)
            )
            exact = [d[idx][0] for d in derivatives] if derivatives else [None, None]
            self.passes.append(LadderPass.run(b[idx][0], q, m, grid, *exact, focus=c or None))

    def _on_grid(self, values: np.ndarray) -> np.ndarray:
        """A function of the field, broadcast to the batch: shape batch + (1, grid points)."""
        ndim_quad = -self.axis
        if values.ndim < ndim_quad:  # a constant (e.g. the curvature of a linear boundary)
            values = values.reshape((1,) * (ndim_quad - values.ndim) + values.shape)
        v = np.broadcast_to(values, self.batch + values.shape[len(values.shape) - ndim_quad :])
        v = np.moveaxis(v, self.axis, -1)
        return np.broadcast_to(v, v.shape[:-1] + (len(self.grid.u),)).reshape(self.batch + (-1, len(self.grid.u)))

    def _collect(self, fn) -> np.ndarray:
        vals = [fn(p) if p.ok else np.nan for p in self.passes]
        return np.reshape(np.array(vals, dtype=float), self.out_shape)

    def value(self) -> np.ndarray:
        return self._collect(lambda p: p.value)

    def q_gradient(self, i: int) -> np.ndarray:
        return self._collect(lambda p: p.q_gradient[i])

    def m_gradient(self, i: int) -> np.ndarray:
        return self._collect(lambda p: p.m_gradient[i - 1])

    def bottom_average(self, values) -> np.ndarray:
        v = self._on_grid(np.asarray(values, dtype=float))
        vals = [
            p.bottom_average(v[idx][0]) if p.ok else np.nan
            for idx, p in zip(_indices(self.batch), self.passes, strict=True)
        ]
        return np.reshape(np.array(vals, dtype=float), self.out_shape)


def _indices(batch: tuple[int, ...]):
    return list(np.ndindex(*batch)) if batch else [()]


def parisi_pass(boundary, slope, curvature, qs, ms, grid: FieldGrid, axis: int, focus=()) -> BatchPass:
    return BatchPass(boundary, qs, ms, grid, axis, slope, curvature, focus)


def parisi_value(p: BatchPass) -> np.ndarray:
    return p.value()


def parisi_q_gradient(p: BatchPass, i: int) -> np.ndarray:
    return p.q_gradient(i)


def parisi_m_gradient(p: BatchPass, i: int) -> np.ndarray:
    return p.m_gradient(i)


def parisi_bottom(p: BatchPass, values) -> np.ndarray:
    return p.bottom_average(values)
