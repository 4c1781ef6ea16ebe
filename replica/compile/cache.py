"""An on-disk cache of compiled models, shared by every process of a user.

Deriving a model's saddle-point equations (sympy) and lowering them
(``lambdify`` with ``cse``) costs 0.1 s for the binary RS perceptron and
seconds for 1RSB, in *every* process: a job array of a thousand tasks would
pay it a thousand times. The cache keeps, for every lowered callable of a
:class:`~replica.compile.lower.CompiledProblem`, the Python source that
``lambdify`` generated and where each module-level name it uses comes from
(``numpy``, ``scipy.special``, or the lowering's own ``NAMESPACE``), as JSON.
Lambdified functions cannot be pickled, and JSON carries only text; loading
compiles that source again in a namespace built from the recorded names, so
a hit touches no sympy derivation at all. The generated source is the
lowering's own output, so a cached model computes exactly (bitwise) what a
freshly compiled one does.

Key: sha256 of ``FreeEnergy.key()`` (the symbolic form), the package version,
the Python / numpy / scipy / sympy versions and a fingerprint of the source of
``replica/symbolic`` and ``replica/compile`` (a changed derivation or printing
rule never meets a stale entry, even in a development checkout).

Location: ``$REPLICA_CACHE_DIR`` if set (``off`` disables the cache), else
``$XDG_CACHE_HOME/replica``, else ``~/.cache/replica``; entries are
``compiled/<key>.json``. Like ``__pycache__``, the directory is trusted: its
entries are executed.

Many processes starting at once: entries are written atomically (temporary
file, then rename), so a reader sees a whole entry or none. A process that
misses holds an exclusive ``flock`` on ``<key>.lock`` while it compiles; the
others wait for it and then load the entry, so a cold cache is filled once.
Where locks do not work, each process compiles and the last rename wins
(the entries are identical). A damaged or unreadable entry is a miss.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib
import json
import linecache
import math
import os
import platform
import re
import time
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from ..files import atomic_write
from .lower import NAMESPACE, CompiledProblem, Lowered

FORMAT = 2
LOWERED = ("_residual", "_system", "_fixed_map", "_values", "_stability", "_objective")
LOCK_WAIT_S = 600.0  # after this long behind another process's lock, compile anyway
_MODULES = ("numpy", "scipy.special", "numpy.linalg", "scipy", "math")


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is off."""
    env = os.environ.get("REPLICA_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "replica"


@cache
def _code_fingerprint() -> str:
    """sha256 of the source files of the symbolic and compile layers."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for sub in ("symbolic", "compile"):
        for path in sorted((root / sub).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def entry_key(model_key: str) -> str:
    parts = [
        f"format={FORMAT}",
        model_key,
        _version("replica"),
        platform.python_version(),
        *(f"{p}={_version(p)}" for p in ("numpy", "scipy", "sympy")),
        _code_fingerprint(),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# --- saving: source and global names of a lambdified function ------------------------------


def _source(fn) -> str | None:
    lines = linecache.getlines(fn.__code__.co_filename)
    return "".join(lines) if lines else None


def _names(code) -> set[str]:
    out = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            out |= _names(const)
    return out


def _reference(name: str, obj) -> list | None:
    """Where a global of generated code comes from, as JSON; None if it cannot be said."""
    if NAMESPACE.get(name) is obj:
        return ["replica", name]
    if type(obj).__name__ == "module":
        return ["module", obj.__name__]
    if isinstance(obj, (int, float)) and not isinstance(obj, bool) and math.isfinite(obj):
        return ["value", obj]
    for module in _MODULES:
        if getattr(importlib.import_module(module), name, None) is obj:
            return ["attr", module, name]
    if getattr(builtins, name, None) is obj:
        return ["attr", "builtins", name]
    return None


def _function_entry(fn) -> dict | None:
    source = _source(fn)
    if source is None or not re.match(r"def \w+\(", source):
        return None
    refs = {}
    for name in sorted(_names(fn.__code__)):
        if name in fn.__globals__:
            ref = _reference(name, fn.__globals__[name])
            if ref is None:
                return None
            refs[name] = ref
    return {"source": source, "globals": refs}


def _entry(problem: CompiledProblem) -> dict | None:
    """The JSON entry of a fully compiled problem, or None if some function cannot be stored."""
    functions: dict[str, dict | None] = {}
    for attr in LOWERED:
        lowered = getattr(problem, attr)
        if lowered is None:
            functions[attr] = None
            continue
        same = next((a for a in functions if functions[a] is not None and getattr(problem, a) is lowered), None)
        if same is not None:  # e.g. _system is _residual when the Jacobian is taken numerically
            functions[attr] = {"same_as": same}
            continue
        entry = _function_entry(lowered.function)
        if entry is None:
            return None
        functions[attr] = dict(entry, count=lowered.count, n_quad_axes=lowered.n_quad_axes)
    bounds = {}
    for kind, fn in problem._bound_coefficients.items():
        entry = _function_entry(fn)
        if entry is None:
            return None
        bounds[kind] = entry
    return {"format": FORMAT, "model": problem.free_energy.name, "functions": functions, "bound_coefficients": bounds}


# --- loading ----------------------------------------------------------------------------------


def _resolve(ref: list):
    kind = ref[0]
    if kind == "replica":
        return NAMESPACE[ref[1]]
    if kind == "module":
        return importlib.import_module(ref[1])
    if kind == "value":
        return ref[1]
    if kind == "attr":
        return getattr(importlib.import_module(ref[1]), ref[2])
    raise ValueError(f"unknown reference {ref!r}")


def _function(entry: dict, label: str):
    namespace = {name: _resolve(ref) for name, ref in entry["globals"].items()}
    source = entry["source"]
    name = re.match(r"def (\w+)\(", source).group(1)
    filename = f"<replica-cache {label}>"
    exec(compile(source, filename, "exec"), namespace)  # the lowering's own generated source
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # for tracebacks
    return namespace[name]


def _install(problem: CompiledProblem, entry: dict, key: str) -> None:
    """Set the problem's lowered callables from an entry (they are then never derived)."""
    if entry.get("format") != FORMAT or set(entry["functions"]) != set(LOWERED):
        raise ValueError("entry of another format")
    built: dict[str, Lowered | None] = {}
    for attr in LOWERED:
        item = entry["functions"][attr]
        if item is None:
            built[attr] = None
        elif "same_as" in item:
            built[attr] = built[item["same_as"]]
        else:
            built[attr] = Lowered(_function(item, f"{key[:12]} {attr}"), item["count"], item["n_quad_axes"])
    bounds = {kind: _function(item, f"{key[:12]} {kind}") for kind, item in entry["bound_coefficients"].items()}
    if set(bounds) != set(problem.free_energy.bound_limits):
        raise ValueError("entry of another model")
    problem.__dict__.update(built)
    problem.__dict__["_bound_coefficients"] = bounds


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@contextmanager
def _locked(path: Path):
    """An exclusive flock on ``path`` while the block runs (none where flock is unavailable)."""
    try:
        import fcntl

        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except (ImportError, OSError):
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            except OSError:
                break
        yield
    finally:
        os.close(fd)  # closing releases the lock


def load_or_compile(problem: CompiledProblem, model_key: str) -> CompiledProblem:
    """Fill ``problem`` from the disk cache, or compile it fully and store it.

    Sets ``problem.cache_info``: status (hit | miss | off | not stored: reason),
    path and seconds spent here.
    """
    t0 = time.perf_counter()
    directory = cache_dir()
    if directory is None:
        problem.cache_info = {"status": "off", "path": None, "seconds": 0.0}
        return problem
    key = entry_key(model_key)
    path = directory / "compiled" / f"{key}.json"
    info = {"status": "hit", "path": str(path)}
    if not _try_install(problem, path, key):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = _locked(path.with_suffix(".lock"))
        except OSError as exc:
            lock, info["status"] = None, f"not stored: {exc.strerror}"
        if lock is None:
            problem.warm_up()
        else:
            with lock:
                if not _try_install(problem, path, key):  # another process may have written it meanwhile
                    info["status"] = _compile_and_store(problem, path)
    info["seconds"] = time.perf_counter() - t0
    problem.cache_info = info
    return problem


def _try_install(problem: CompiledProblem, path: Path, key: str) -> bool:
    entry = _read(path)
    if entry is None:
        return False
    try:
        _install(problem, entry, key)
    except Exception:  # a damaged entry is a miss: compile afresh and overwrite it
        for attr in (*LOWERED, "_bound_coefficients"):
            problem.__dict__.pop(attr, None)
        return False
    return True


def _compile_and_store(problem: CompiledProblem, path: Path) -> str:
    problem.warm_up()
    _ = problem._bound_coefficients
    entry = _entry(problem)
    if entry is None:
        return "not stored: a generated function uses a name the cache cannot record"
    try:
        atomic_write(path, json.dumps(entry))
    except OSError as exc:
        return f"not stored: {exc.strerror}"
    return "miss"
