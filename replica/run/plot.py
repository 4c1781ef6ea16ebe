"""Figures from results tables (matplotlib, PDF).

- a sweep table: the chosen columns against the chain parameter, one panel
  per column, one line per value of the other axes. Points that did not
  converge are *not* drawn as values: the line is broken there and a red x
  on the axis marks each one; points beyond the capacity (no solution) are
  grey ticks. Transitions located along the sweep are dashed vertical lines
  labelled with their value. A sweep walked in both directions
  (``branch`` column) draws the forward branch solid and the backward
  branch dashed, in the same colour.
  ``plot.compare`` lists other results tables (e.g. the same sweep in
  another ansatz) whose columns of the same names are drawn in grey on the
  same panels (black, on top), labelled; ``columns`` maps a panel's column to
  the compared table's own (e.g. S_I: S_FP), and a compared table with swept
  axes of its own is drawn one line per value, coloured like the config's
  series with the same values. An item of ``plot.y`` that is a list draws
  several columns on one panel (solid, dashed, dash-dotted).
- a transitions table: each transition line (e.g. alpha_c(kappa), the AT
  line) against the swept parameter, a phase diagram. Where a transition was
  bracketed but could not be refined, a red x marks the failure. Glass
  transitions of a layered model are drawn against their ``layer`` (``x:
  layer``), and ``fit: {kind: exponential, from: l0}`` adds the least-squares
  line ln value = ln a + b l over the layers l >= l0, with a and b in its label.
- ``kind: profile`` (a layered model's sweep): the Edwards-Anderson overlaps
  q_EA(l) (columns q_1 .. q_{L-1}, with the clamped q(0) = q(L) = 1) and
  Q_EA(l) (Q_1 .. Q_L) against the layer l (teacher-student: the overlaps with
  the teacher r(l) and R(l)), one line per point of the sweep;
  points that did not converge are listed in the legend as failed, not drawn.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from ..errors import ReplicaError  # noqa: E402
from .parisi import parisi_path  # noqa: E402
from .store import STATUS_COLUMNS, read_table, sidecar_path  # noqa: E402

SYMBOLS = {
    "alpha": r"\alpha",
    "kappa": r"\kappa",
    "q": "q",
    "q_hat": r"\hat q",
    "beta": r"\beta",
    "m": "m",
    "d": "d",
    "R": "R",
    "noise": r"\Delta",
}
TRANSITION_NAMES = {
    "capacity": "capacity (q → 1)",
    "entropy_zero": "entropy = 0",
    "at_instability": "AT instability",
    "complexity_zero": "complexity = 0",
    "jamming": "jamming (SAT/UNSAT)",
    "first_order": "first order",
    "spinodal": "spinodal",
    "d_min": "$d_{min}$",
    "glass": "glass transition",
    "external_entropy_zero": "$S_E = 0$",
    "dense_region_loss": r"$\hat p = 0$",
}
BRANCH_STYLES = {"forward": "-", "backward": "--"}
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _label(name: str, labels: dict) -> str:
    return labels.get(name, f"${SYMBOLS[name]}$" if name in SYMBOLS else name.replace("_", " "))


def _sym(name: str) -> str:
    return f"${SYMBOLS[name]}$" if name in SYMBOLS else name


def plot_file(csv_path: str | Path, pdf_path: str | Path | None = None, spec: dict | None = None) -> Path:
    """Draw the figure of a results CSV (its sidecar says which kind); returns the PDF path."""
    csv_path = Path(csv_path)
    if not csv_path.exists():
        raise ReplicaError(str(csv_path), "no such results file")
    side = sidecar_path(csv_path)
    if not side.exists():
        raise ReplicaError(str(side), "missing sidecar: plot needs the JSON written next to the CSV by replica")
    sidecar = json.loads(side.read_text())
    columns, rows = read_table(csv_path)
    spec = dict(spec or sidecar.get("config", {}).get("plot") or {})
    pdf_path = Path(pdf_path) if pdf_path else csv_path.with_suffix(".pdf")
    if sidecar.get("kind") == "transitions":
        fig = _transition_figure(columns, rows, sidecar, spec)
    elif spec.get("kind") == "profile":
        fig = _profile_figure(columns, rows, sidecar, spec)
    elif spec.get("kind") == "parisi":
        if not parisi_path(csv_path).exists():
            raise ReplicaError(str(parisi_path(csv_path)), "no Parisi table: plot kind parisi needs an RSB sweep")
        fig = _parisi_figure(*read_table(parisi_path(csv_path)), sidecar, spec)
    else:
        fig = _sweep_figure(columns, rows, sidecar, spec)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    fig.savefig(pdf_path, bbox_inches="tight", bbox_extra_artists=legends)  # with a legend outside the axes
    plt.close(fig)
    return pdf_path


def _title(sidecar: dict, spec: dict) -> str:
    if spec.get("title"):
        return spec["title"]
    cfg = sidecar.get("config", {})
    opts = cfg.get("options", {})
    shown = ", ".join(f"{k}={v}" for k, v in opts.items() if isinstance(v, (str, int, float)))
    return f"{sidecar.get('model', '')}" + (f" ({shown})" if shown else "")


def _series(rows: list[dict], keys: list[str]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in keys), []).append(row)
    return groups


def _series_label(keys: list[str], values: tuple) -> str:
    return ", ".join(f"{_sym(k)} = {v:g}" for k, v in zip(keys, values, strict=False)) if keys else ""


PANEL_STYLES = ("-", "--", "-.", (0, (1, 1)))  # compared tables are dotted (COMPARE_STYLES)


def _sweep_figure(columns, rows, sidecar, spec):
    labels = sidecar.get("labels", {})
    axes_names = sidecar.get("axes", [])
    x = spec.get("x") or sidecar.get("chain_axis") or axes_names[-1]
    if x not in columns:
        raise ReplicaError("plot.x", f"'{x}' is not a column of the table")
    ys = (
        spec.get("y")
        or [
            c
            for c in columns
            if c not in axes_names and c not in STATUS_COLUMNS and c != "branch" and not c.startswith("dphi_d")
        ][:3]
    )
    if isinstance(ys, str):
        ys = [ys]
    panels_cols = [list(y) if isinstance(y, list) else [y] for y in ys]  # a list: several columns on one panel
    for cols in panels_cols:
        for y in cols:
            if y not in columns:
                raise ReplicaError("plot.y", f"'{y}' is not a column of the table (columns: {', '.join(columns)})")
    others = [a for a in axes_names if a != x]
    groups = _series(rows, others)
    keys = list(groups)
    compared = _compared(spec)
    own = _ansatz_label(sidecar) if compared else None  # beside other tables, the own curves need a name
    fig, panels = plt.subplots(len(ys), 1, figsize=(6.0, 2.4 * len(ys) + 0.6), sharex=True, squeeze=False)
    panels = panels[:, 0]
    marked = {"failed": False, "beyond": False}
    for p, cols in zip(panels, panels_cols, strict=False):
        for j, y in enumerate(cols):
            for i, (key, group) in enumerate(groups.items()):
                color = COLORS[i % len(COLORS)]
                for branch, part in _series(group, ["branch"] if "branch" in columns else []).items():
                    part = sorted(part, key=lambda r: r[x])
                    xs = np.array([r[x] for r in part], dtype=float)
                    vals = np.array([_value(r, y) for r in part], dtype=float)
                    label = ", ".join(t for t in (_series_label(others, key), _branch_label(branch)) if t) or own
                    style = (
                        PANEL_STYLES[j % len(PANEL_STYLES)]
                        if j
                        else BRANCH_STYLES.get(branch[0] if branch else "", "-")
                    )
                    p.plot(xs, vals, style, color=color, lw=1.4 if j == 0 else 1.0, label=label if j == 0 else None)
                    if j == 0:
                        _mark_failures(p, part, x, marked)
            if j:  # the style of each further column, in the legend
                p.plot([], [], PANEL_STYLES[j % len(PANEL_STYLES)], color="0.3", lw=1.0, label=_label(y, labels))
        for c, (label, (their_columns, their_rows, their_axes), mapping) in enumerate(compared):
            for y in cols:
                if mapping and y not in mapping:  # a column map names the only columns drawn
                    continue
                theirs = mapping.get(y, y)
                if theirs not in their_columns or x not in their_columns:
                    continue
                style = COMPARE_STYLES[c % len(COMPARE_STYLES)]
                shared = [a for a in their_axes if a != x and a in others]
                split = [a for a in their_axes if a != x]
                for k, (their_key, part) in enumerate(_series(their_rows, split).items()):
                    mine = tuple(dict(zip(split, their_key, strict=False)).get(a) for a in others)
                    color = COLORS[keys.index(mine) % len(COLORS)] if shared and mine in keys else "k"
                    part = sorted(part, key=lambda r: r[x])
                    p.plot(
                        [r[x] for r in part],
                        [_value(r, theirs) for r in part],
                        ls=style,
                        color=color,
                        lw=1.0,
                        zorder=3,
                        label=label if k == 0 else None,
                    )
        values = np.concatenate([_column(rows, y) for y in cols])
        if cols[0] in ("entropy", "replicon", "phi") or (
            np.nanmin(values, initial=np.inf) < 0 < np.nanmax(values, initial=-np.inf)
        ):
            p.axhline(0.0, color="0.6", lw=0.8, ls=":")
        p.set_ylabel(_label(cols[0], labels))
        p.grid(alpha=0.25)
    if spec.get("logx"):
        panels[-1].set_xscale("log")
    for t in sidecar.get("transitions", []):
        if not (t.get("found") and t.get("parameter") == x and t.get("value") is not None):
            continue
        key = tuple(t.get("params", {}).get(k) for k in others)
        color = COLORS[keys.index(key) % len(COLORS)] if key in keys and len(keys) > 1 else "k"
        for p in panels:
            p.axvline(t["value"], color=color, ls="--", lw=0.9)
        name = TRANSITION_NAMES.get(t["kind"], t["kind"])
        if t.get("branch") == "backward":
            name += " (backward branch)"
        panels[0].text(
            t["value"],
            0.97,
            f"{name}: {_sym(x)} = {t['value']:.6g} ",
            rotation=90,
            ha="right",
            va="top",
            fontsize=6.5,
            color=color,
            transform=blended_transform_factory(panels[0].transData, panels[0].transAxes),
        )
    panels[-1].set_xlabel(_label(x, labels))
    handles = _legend_handles(panels[0], marked)
    if handles:
        default = "best" if len(panels_cols[0]) > 1 else "lower left"
        _legend(panels[0], handles, spec, default, fontsize=7)
    panels[0].set_title(_title(sidecar, spec), fontsize=10)
    fig.tight_layout()
    return fig


def _ansatz_label(sidecar: dict) -> str:
    """'1RSB frozen', 'RS', ... from a table's options (else the model's name)."""
    options = sidecar.get("config", {}).get("options", {})
    ansatz = str(options.get("ansatz", "")).upper().replace("KRSB", "k-step RSB").replace("FRSB", "full RSB")
    frozen = " frozen" if str(options.get("frozen", "")).lower() == "true" else ""
    return (ansatz + frozen) or sidecar.get("model", "")


COMPARE_STYLES = (":", "-.", (0, (5, 2, 1, 2)))


def _compared(spec: dict) -> list[tuple[str, tuple[list[str], list[dict], list[str]], dict[str, str]]]:
    """The tables of ``plot.compare``: (label, (columns, rows, swept axes), {own column: its column}) each.

    A compared table is drawn one line per value of its own swept axes (other than x), in the colour of
    the config's series with the same values where they share an axis; ``columns`` maps a column of the
    config's table to the compared table's column drawn on its panel (e.g. S_I: S_FP).
    """
    out = []
    for i, item in enumerate(spec.get("compare") or []):
        path = Path(item["results"])
        if not path.exists():
            raise ReplicaError(f"plot.compare[{i}].results", f"{path}: no such results table (run its config first)")
        side = sidecar_path(path)
        axes = json.loads(side.read_text()).get("axes", []) if side.exists() else []
        out.append((item.get("label") or path.stem, (*read_table(path), axes), dict(item.get("columns") or {})))
    return out


def _value(row: dict, name: str) -> float:
    return row[name] if row["converged"] and row.get(name) is not None else np.nan


def _branch_label(branch: tuple) -> str:
    return f"{branch[0]} continuation" if branch and branch[0] else ""


def _column(rows, name):
    return np.array([r[name] if r.get("converged") and r.get(name) is not None else np.nan for r in rows], dtype=float)


def _mark_failures(ax, group, x, marked):
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    failed = [r[x] for r in group if not r["converged"] and not str(r.get("status") or "").startswith("beyond")]
    beyond = [r[x] for r in group if not r["converged"] and str(r.get("status") or "").startswith("beyond")]
    if failed:
        ax.plot(failed, [0.03] * len(failed), "x", color="red", ms=5, transform=trans, clip_on=False)
        marked["failed"] = True
    if beyond:
        ax.plot(beyond, [0.03] * len(beyond), "|", color="0.6", ms=4, mew=0.6, transform=trans, clip_on=False)
        marked["beyond"] = True


def _legend(ax, handles, spec: dict, default: str, fontsize: float) -> None:
    """The legend at plot.legend: a matplotlib location, or ``outside`` (right of the axes, taking no
    room from them in tight_layout; the saved figure grows to hold it)."""
    where = spec.get("legend", default)
    if where != "outside":
        ax.legend(handles=handles, fontsize=fontsize, loc=where)
        return
    outside = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0}
    ax.legend(handles=handles, fontsize=fontsize, **outside).set_in_layout(False)


def _legend_handles(ax, marked):
    handles = [h for h in ax.get_legend_handles_labels()[0]]
    if marked["failed"]:
        handles.append(Line2D([], [], marker="x", color="red", ls="", label="not converged (no value)"))
    if marked["beyond"]:
        handles.append(Line2D([], [], marker="|", color="0.55", ls="", label="beyond capacity (no solution)"))
    return handles


def _scan_failed(message) -> bool:
    """True for 'no sign change ... N failed' with N > 0 (the scan ended in failures)."""
    text = str(message or "")
    if not text.startswith("no sign change"):
        return False
    return any(
        part.strip().split(" ")[0] not in ("0", "") for part in text.split(",") if part.strip().endswith("failed")
    )


def _transition_figure(columns, rows, sidecar, spec):
    labels = sidecar.get("labels", {})
    grid = sidecar.get("axes", [])
    kinds = []
    for r in rows:
        key = (r["kind"], r["parameter"], r.get("options") or "")
        if key not in kinds:
            kinds.append(key)
    x = spec.get("x") or next((a for a in grid if all(a != k[1] for k in kinds)), grid[0] if grid else None)
    if x is None:
        raise ReplicaError("plot", "a transitions table needs a swept axis to draw lines against")
    relative = spec.get("relative")
    if relative:
        fig, (ax, low) = plt.subplots(2, 1, figsize=(6.0, 6.0), sharex=True, height_ratios=(3, 2))
    else:
        fig, ax = plt.subplots(figsize=(6.0, 4.2))
    failed_any = unresolved_any = False
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    lines = {}
    for i, (kind, parameter, options) in enumerate(kinds):
        group = sorted(
            (r for r in rows if (r["kind"], r["parameter"], r.get("options") or "") == (kind, parameter, options)),
            key=lambda r: r[x],
        )
        xs = np.array([r[x] for r in group], dtype=float)
        ys = np.array([r["value"] if r["found"] and r["value"] is not None else np.nan for r in group], dtype=float)
        lines[(kind, parameter, options)] = (xs, ys)
        ax.plot(
            xs,
            ys,
            "-",
            marker=".",
            ms=3,
            lw=1.4,
            color=COLORS[i % len(COLORS)],
            label=f"{TRANSITION_NAMES.get(kind, kind)}: {_sym(parameter)}" + (f" [{options}]" if options else ""),
        )
        failed = [r[x] for r in group if not r["found"] and "did not converge" in str(r.get("message") or "")]
        if failed:
            failed_any = True
            ax.plot(failed, [0.03] * len(failed), "x", color="red", ms=5, transform=trans, clip_on=False)
        unresolved = [r[x] for r in group if not r["found"] and _scan_failed(r.get("message"))]
        if unresolved:
            unresolved_any = True
            ax.plot(
                unresolved, [0.03] * len(unresolved), "o", mfc="none", color="0.5", ms=3, transform=trans, clip_on=False
            )
    fit = spec.get("fit")
    if fit:
        _exponential_fit(ax, rows, x, fit)
    ax.set_xlabel("layer $l$" if x == "layer" else _label(x, labels))
    params = sorted({k[1] for k in kinds})
    ax.set_ylabel(", ".join(_label(p, labels) for p in params))
    if x == "layer":  # glass transitions of a layered model: alpha_g(l) at whole layers
        ax.set_ylabel(r"$\alpha_g(l)$: layer $l$ turns glassy")
        ax.xaxis.get_major_locator().set_params(integer=True)
        for line in ax.get_lines()[: len(kinds)]:
            line.set_marker("o")
            line.set_markersize(4)
    if spec.get("logy"):
        ax.set_yscale("log")
    handles = ax.get_legend_handles_labels()[0]
    if failed_any:
        handles.append(Line2D([], [], marker="x", color="red", ls="", label="refinement did not converge"))
    if unresolved_any:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                mfc="none",
                color="0.5",
                ls="",
                label="no sign change before the solver failed (near q = 1)",
            )
        )
    _legend(ax, handles, spec, "best", fontsize=8)
    ax.grid(alpha=0.25)
    ax.set_title(_title(sidecar, spec), fontsize=10)
    if relative:
        ax.set_xlabel("")
        _relative_panel(low, lines, kinds, relative, labels)
        low.set_xlabel(_label(x, labels))
    fig.tight_layout()
    return fig


def _relative_panel(ax, lines: dict, kinds: list[tuple], relative: dict, labels: dict) -> None:
    """Lines of the kinds ``relative['lines']`` (default: all but the reference) divided by the first line of
    kind ``relative['to']`` at the same swept value; a point missing on either line is a gap, not interpolated."""
    to = next((k for k in kinds if k[0] == relative["to"]), None)
    if to is None:
        raise ReplicaError("plot.relative.to", f"the table has no {relative['to']!r} line")
    ref_x, ref_y = lines[to]
    ref = dict(zip(ref_x.tolist(), ref_y.tolist(), strict=True))
    chosen = relative.get("lines") or [k[0] for k in kinds if k != to]
    for i, key in enumerate(kinds):
        if key == to or key[0] not in chosen:
            continue
        xs, ys = lines[key]
        ratio = np.array([y / ref.get(xv, np.nan) for xv, y in zip(xs.tolist(), ys.tolist(), strict=True)])
        ax.plot(xs, ratio, "-", marker=".", ms=3, lw=1.4, color=COLORS[i % len(COLORS)])
    kind, parameter, _ = to
    ax.set_ylabel(f"{_sym(parameter)} / {_sym(parameter)} of {TRANSITION_NAMES.get(kind, kind)}", fontsize=9)
    ax.grid(alpha=0.25)


def _exponential_fit(ax, rows, x: str, fit: dict) -> None:
    """The least-squares line ln value = ln a + b x over the found rows with x >= fit['from'], drawn dashed."""
    start = float(fit.get("from", -np.inf))
    pts = [(float(r[x]), float(r["value"])) for r in rows if r["found"] and r["value"] and float(r[x]) >= start]
    if len(pts) < 2:
        return
    xs, ys = np.array(pts).T
    b, ln_a = np.polyfit(xs, np.log(ys), 1)
    grid = np.linspace(xs.min(), xs.max(), 50)
    label = rf"fit $a\,e^{{b l}}$ ($l \geq {xs.min():g}$): a = {np.exp(ln_a):.3g}, b = {b:.3g}"
    ax.plot(grid, np.exp(ln_a + b * grid), "--", color="0.3", lw=1.0, label=label)


def _layer_columns(columns: list[str], prefix: str) -> list[tuple[int, str]]:
    """(l, column) for the columns named prefix_l, in order of l."""
    out = []
    for c in columns:
        head, _, tail = c.rpartition("_")
        if head == prefix and tail.isdigit():
            out.append((int(tail), c))
    return sorted(out)


def _profile_figure(columns, rows, sidecar, spec):
    teacher = bool(_layer_columns(columns, "R"))  # teacher-student: the overlaps with the teacher
    spins, weights = _layer_columns(columns, "r" if teacher else "q"), _layer_columns(columns, "R" if teacher else "Q")
    if not weights:
        raise ReplicaError("plot.kind", "profile needs a layered model's table (columns Q_1 .. Q_L)")
    depth = weights[-1][0]
    axes_names = sidecar.get("axes", [])
    fig, (ax_q, ax_w) = plt.subplots(1, 2, figsize=(9.0, 3.8))
    failed = []
    for i, row in enumerate(rows):
        where = ", ".join(f"{_sym(a)} = {row[a]:g}" for a in axes_names if a != "L")
        if not row["converged"]:
            failed.append(where)
            continue
        color = COLORS[i % len(COLORS)]
        ls = [0] + [l for l, _ in spins] + [depth]
        ax_q.plot(ls, [1.0] + [row[c] for _, c in spins] + [1.0], "-o", ms=3, color=color, label=where)
        ax_w.plot([l for l, _ in weights], [row[c] for _, c in weights], "-o", ms=3, color=color, label=where)
    name = "r" if teacher else "q"
    ax_q.set_xlabel(f"layer $l$ (spins; ${name}(0) = {name}(L) = 1$ clamped)")
    ax_w.set_xlabel("layer $l$ (weights into layer $l$)")
    if teacher:
        ax_q.set_ylabel("student-teacher overlap $r(l)$")
        ax_w.set_ylabel("student-teacher weight overlap $R(l)$")
    else:
        ax_q.set_ylabel(r"$q_{\rm EA}(l)$")
        ax_w.set_ylabel(r"$Q_{\rm EA}(l)$")
    handles = ax_q.get_legend_handles_labels()[0]
    if failed:
        handles.append(Line2D([], [], marker="x", color="red", ls="", label="failed: " + "; ".join(failed)))
    ax_q.legend(handles=handles, fontsize=7)
    for ax in (ax_q, ax_w):
        ax.grid(alpha=0.25)
        ax.set_xticks(range(0, depth + 1))
    fig.suptitle(_title(sidecar, spec), fontsize=10)
    fig.tight_layout()
    return fig


MAX_PARISI_CURVES = 6


def _parisi_figure(columns, rows, sidecar, spec):
    """q(x) (steps) and P(q) (deltas at the ends, density between) of the points of an RSB sweep."""
    axes_names = sidecar.get("axes", [])
    x_name = "y" if "y" in columns else "x"
    points = _series(rows, axes_names)
    keys = list(points)
    if len(keys) > MAX_PARISI_CURVES:  # evenly spaced points of the sweep
        keys = [keys[i] for i in np.linspace(0, len(keys) - 1, MAX_PARISI_CURVES).round().astype(int)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.8))
    for i, key in enumerate(keys):
        rungs = sorted(points[key], key=lambda r: r["rung"])
        color = COLORS[i % len(COLORS)]
        label = _series_label(axes_names, key)
        q = np.array([r["q"] for r in rungs], dtype=float)
        if len(rungs) == 1:  # replica symmetric: q(x) = q, P(q) = delta(q - q_RS)
            left.plot([0.0, 1.0], [q[0], q[0]], "-", color=color, lw=1.4, label=f"{label} (RS)")
            right.plot([q[0], q[0]], [0.0, 1.0], "-", color=color, lw=1.4)
            continue
        steps = np.array([r[x_name] for r in rungs[:-1]], dtype=float)
        edges = np.concatenate([[0.0], steps, [1.0 if x_name == "x" else steps[-1] * 1.1]])
        left.stairs(q, edges, color=color, lw=1.4, label=label, baseline=None)
        if x_name == "x":
            weights = np.array([r["weight"] for r in rungs], dtype=float)
            # the ends carry deltas (stems); the rungs between, a density weight / dq
            right.vlines([q[0], q[-1]], 0.0, [weights[0], weights[-1]], color=color, lw=2.0)
            right.plot([q[0], q[-1]], [weights[0], weights[-1]], "o", color=color, ms=4)
            if len(q) > 2:
                dq = np.gradient(q)[1:-1]
                right.plot(q[1:-1], weights[1:-1] / dq, "-", color=color, lw=1.0, alpha=0.8)
    left.set_xlabel(f"${x_name}$" + (" (Parisi)" if x_name == "x" else r" $= x/\varepsilon$ (jamming limit)"))
    left.set_ylabel(r"overlap $q(x)$" if x_name == "x" else r"overlap $q(y)$")
    left.grid(alpha=0.25)
    left.legend(fontsize=7)
    right.set_xlabel("overlap $q$")
    right.set_ylabel(r"$P(q)$: delta weights (stems), density (lines)")
    right.grid(alpha=0.25)
    fig.suptitle(_title(sidecar, spec), fontsize=10)
    fig.tight_layout()
    return fig
