"""Sweeps at scale: --jobs, --shard and merge, --dask, --resume after SIGTERM / SIGKILL, lost chains, provenance.

The contract (the project's issue "Sweeps at scale"): serial, ``--jobs 2``, three shards merged and a
Dask LocalCluster give identical tables; a sweep killed mid-run (SIGTERM or SIGKILL) resumes to the table
of an uninterrupted run; merging shards of different configs exits 2 with a one-line message.

"Identical" here is bitwise: every cell of the CSV is the same text, except ``wall_time`` (the clock).
A chain always runs whole in one process, and a resumed chain restarts from the state (predictor
history, last solution, quadrature order) rebuilt exactly from its finished rows, so nothing is
compared to a tolerance.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from replica.cli import main
from replica.run.executors import start_method
from replica.run.store import read_journal

ROOT = Path(__file__).resolve().parents[2]
REPLICA = Path(sys.prefix) / "bin" / "replica"
if not REPLICA.exists():  # pragma: no cover - the venv of the Makefile
    REPLICA = ROOT / ".venv" / "bin" / "replica"

BINARY = {
    "model": "perceptron",
    "options": {"weights": "binary", "ansatz": "rs"},
    "params": {"alpha": 0.5, "kappa": 0.0},
}
# 4 chains (kappa) of 5 points (alpha); the entropy vanishes inside the range for kappa = 0.2, 0.3 only
GRID = dict(
    BINARY,
    sweep={"kappa": {"values": [0.0, 0.1, 0.2, 0.3]}, "alpha": {"start": 0.3, "stop": 0.7, "num": 5}},
    transitions=[{"kind": "entropy_zero", "parameter": "alpha"}],
)
# 8 chains of 150 points: about 1 s of solving, long enough to be killed in the middle
BIG = dict(
    BINARY, sweep={"kappa": {"start": 0.0, "stop": 0.3, "num": 8}, "alpha": {"start": 0.05, "stop": 0.6, "num": 150}}
)
BIG_SIZE = 8 * 150


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_config(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def cells(path: Path) -> list[list[str]]:
    """The CSV's cells as text, ``wall_time`` blanked: what must be identical between executors."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    i = rows[0].index("wall_time")
    for row in rows[1:]:
        row[i] = ""
    return rows


def sidecar(path: Path) -> dict:
    return json.loads(Path(path).with_suffix(".json").read_text())


def assert_one_line_error(result, *needles):
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture(autouse=True)
def _restore_sigterm():
    handler = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, handler)


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    return write_config(tmp_path_factory.mktemp("configs") / "grid.yaml", GRID)


@pytest.fixture(scope="module")
def serial(grid, tmp_path_factory) -> Path:
    """The reference: the grid swept in this process."""
    out = tmp_path_factory.mktemp("serial") / "grid.csv"
    result = invoke("sweep", grid, "-o", out)
    assert result.exit_code == 0, result.output
    rows = cells(out)
    assert len(rows) == 21 and all(r[rows[0].index("converged")] == "true" for r in rows[1:])
    return out


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, Path]:
    """(config, table) of the BIG grid swept uninterrupted."""
    d = tmp_path_factory.mktemp("big")
    cfg = write_config(d / "big.yaml", BIG)
    result = invoke("sweep", cfg, "-o", d / "full.csv")
    assert result.exit_code == 0, result.output
    return cfg, d / "full.csv"


# --- executors give the same table ----------------------------------------------------------


def test_jobs_2_equals_serial(grid, serial, tmp_path):
    out = tmp_path / "jobs.csv"
    result = invoke("sweep", grid, "-o", out, "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert cells(out) == cells(serial)
    side = sidecar(out)
    assert side["executor"]["kind"] == "processes" and side["executor"]["jobs"] == 2
    assert side["transitions"] == sidecar(serial)["transitions"]
    workers = {diag[-1] for diag in side["point_diagnostics"]["rows"]}
    assert len(workers) >= 2 and str(os.getpid()) not in {w.split(":")[-1] for w in workers}  # solved elsewhere


def test_three_shards_merged_equal_serial(grid, serial, tmp_path, monkeypatch):
    out = tmp_path / "grid.csv"
    for i in (0, 2):
        result = invoke("sweep", grid, "-o", out, "--shard", f"{i}/3")
        assert result.exit_code == 0, result.output
        assert f"shard {i} of 3" in result.stdout
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "1")
    result = invoke("sweep", grid, "-o", out, "--shard", "auto/3")
    assert result.exit_code == 0, result.output
    shards = sorted(tmp_path.glob("grid.shard-*-of-3.csv"))
    assert [p.name for p in shards] == [f"grid.shard-{i}-of-3.csv" for i in range(3)]  # each its own file
    assert not out.exists()
    sizes = [len(cells(p)) - 1 for p in shards]
    assert sizes == [10, 5, 5]  # chains 0, 3 | 1 | 2
    assert sidecar(shards[1])["shard"] == {"index": 1, "count": 3} and sidecar(shards[1])["chains"] == [1]

    merged = tmp_path / "merged.csv"
    result = invoke("merge", *shards, "-o", merged)
    assert result.exit_code == 0, result.output
    assert "20 of 20 grid points" in result.stdout
    assert cells(merged) == cells(serial)
    side, ref = sidecar(merged), sidecar(serial)
    assert side["complete"] is True and side["missing"] == []
    assert side["transitions"] == ref["transitions"]  # in the serial order, whatever shard found them
    assert side["config_hash"] == ref["config_hash"]
    assert [s["shard"]["index"] for s in side["merged_from"]] == [0, 1, 2]
    assert len(side["point_diagnostics"]["rows"]) == 20


def test_dask_local_cluster_equals_serial(grid, serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    # one worker process (spawned: the tasks and rows really travel) running two chains at a time
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0", silence_logs=40
    ) as cluster:
        out = tmp_path / "dask.csv"
        result = invoke("sweep", grid, "-o", out, "--dask", cluster.scheduler_address)
        assert result.exit_code == 0, result.output
    assert cells(out) == cells(serial)
    side = sidecar(out)
    assert side["executor"] == {"kind": "dask", "scheduler": cluster.scheduler_address, "workers": 1}
    workers = {diag[-1] for diag in side["point_diagnostics"]["rows"]}
    assert len(workers) == 1 and workers != {f"{os.uname().nodename}:{os.getpid()}"}  # solved by the worker
    assert side["transitions"] == sidecar(serial)["transitions"]


def test_dask_unreachable_scheduler_is_a_one_line_error(grid, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from replica.run import executors

    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", "0.5s")
    result = invoke("sweep", grid, "-o", tmp_path / "x.csv", "--dask", "tcp://127.0.0.1:9")
    assert_one_line_error(result, "--dask", "127.0.0.1:9")


# --- merge refuses what is not one sweep, and reports what is missing ------------------------


def test_merge_of_different_configs_fails_with_exit_2(grid, tmp_path):
    a = tmp_path / "a.csv"
    assert invoke("sweep", grid, "-o", a, "--shard", "0/2").exit_code == 0
    assert invoke("sweep", grid, "-o", a, "--shard", "1/2", "--set", "solver.tol=1e-11").exit_code == 0
    out = tmp_path / "merged.csv"
    result = invoke("merge", tmp_path / "a.shard-0-of-2.csv", tmp_path / "a.shard-1-of-2.csv", "-o", out)
    assert_one_line_error(result, "different config", "a.shard-1-of-2.csv")
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_merge_refuses_the_same_shard_twice_and_files_without_sidecar(grid, tmp_path):
    a = tmp_path / "a.csv"
    assert invoke("sweep", grid, "-o", a, "--shard", "0/2").exit_code == 0
    shard = tmp_path / "a.shard-0-of-2.csv"
    assert_one_line_error(invoke("merge", shard, shard, "-o", tmp_path / "m.csv"), "both shard 0 of 2")
    bare = tmp_path / "bare.csv"
    bare.write_text("alpha,q\n0.1,0.2\n")
    assert_one_line_error(invoke("merge", shard, bare, "-o", tmp_path / "m.csv"), "bare.csv", "sidecar")
    assert not (tmp_path / "m.csv").exists()


def test_merge_reports_missing_points_and_their_shard(grid, serial, tmp_path):
    out = tmp_path / "g.csv"
    for i in (0, 2):
        assert invoke("sweep", grid, "-o", out, "--shard", f"{i}/3").exit_code == 0
    merged = tmp_path / "merged.csv"
    result = invoke("merge", tmp_path / "g.shard-0-of-3.csv", tmp_path / "g.shard-2-of-3.csv", "-o", merged)
    assert result.exit_code == 1, result.output
    assert "missing: 5 points (of shard 1" in result.stderr
    assert "kappa=0.1, alpha=0.3" in result.stderr
    side = sidecar(merged)
    assert side["complete"] is False
    assert [m["kappa"] for m in side["missing"]] == [0.1] * 5
    assert [m["alpha"] for m in side["missing"]] == pytest.approx([0.3, 0.4, 0.5, 0.6, 0.7], abs=1e-15)
    ref = cells(serial)
    assert cells(merged) == [ref[0]] + [r for r in ref[1:] if r[1] != "0.1"]  # the rest, in grid order


# --- bad options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--shard", "3/3"], ["--shard", "0 .. 2"]),
        (["--shard", "x/3"], ["--shard"]),
        (["--shard", "1/0"], ["--shard", "i/n"]),
        (["--shard", "2"], ["--shard", "i/n"]),
        (["--jobs", "0"], ["--jobs"]),
        (["--jobs", "two"], ["--jobs"]),
        (["--jobs", "2", "--dask", "tcp://127.0.0.1:9"], ["--jobs", "--dask"]),
    ],
)
def test_bad_executor_options_are_one_line_errors(grid, tmp_path, args, needles):
    outdir = tmp_path / "out"
    outdir.mkdir()
    assert_one_line_error(invoke("sweep", grid, "-o", outdir / "x.csv", *args), *needles)
    assert list(outdir.iterdir()) == []


def test_shard_auto_needs_slurm_array_task_id(grid, tmp_path, monkeypatch):
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID", raising=False)
    assert_one_line_error(invoke("sweep", grid, "-o", tmp_path / "x.csv", "--shard", "auto/3"), "SLURM_ARRAY_TASK_ID")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "7")
    assert_one_line_error(invoke("sweep", grid, "-o", tmp_path / "x.csv", "--shard", "auto/3"), "SLURM_ARRAY_TASK_ID")


def test_resume_refuses_the_output_of_another_config(grid, tmp_path):
    out = tmp_path / "x.csv"
    assert invoke("sweep", grid, "-o", out, "--set", "sweep.alpha.num=2").exit_code == 0
    result = invoke("sweep", grid, "-o", out, "--resume")
    assert_one_line_error(result, "--resume", "another config")


def test_resume_of_a_complete_table_solves_nothing(grid, serial, tmp_path):
    out = tmp_path / "x.csv"
    out.write_bytes(serial.read_bytes())
    out.with_suffix(".json").write_bytes(serial.with_suffix(".json").read_bytes())
    result = invoke("sweep", grid, "-o", out, "--resume")
    assert result.exit_code == 0, result.output
    assert "20 from the earlier run" in result.stdout
    assert cells(out) == cells(serial)
    assert sidecar(out)["resumed"]["points"] == 20


# --- a chain lost with its worker is reported and re-run with --resume ------------------------


def _fail_at(monkeypatch, kappa: float, alpha: float, how: str):
    """Make the point (kappa, alpha) raise, or kill the (forked worker) process that solves it."""
    import replica.solve.continuation as continuation

    original = continuation.solve_point
    test_pid = os.getpid()

    def solve_point(problem, params, *args, **kwargs):
        if params["kappa"] == kappa and params["alpha"] == alpha:
            if how == "die" and os.getpid() != test_pid:
                os.kill(os.getpid(), signal.SIGKILL)
            raise ValueError("injected failure")
        return original(problem, params, *args, **kwargs)

    monkeypatch.setattr(continuation, "solve_point", solve_point)


@pytest.mark.parametrize("how, jobs", [("raise", "1"), ("die", "2")])
def test_a_lost_chain_is_reported_then_resumed(grid, serial, tmp_path, monkeypatch, how, jobs):
    """The point kappa = 0.1, alpha = 0.5 raises (or kills its worker): only that chain loses points.

    A chain that raises loses the points from the failing one on; a worker that dies loses them too,
    and possibly the points it had solved just before but not yet sent (rows travel in batches).
    """
    if how == "die" and start_method() != "fork":
        pytest.skip("the failure is injected into forked workers")
    _fail_at(monkeypatch, 0.1, 0.5, how)
    out = tmp_path / "x.csv"
    result = invoke("sweep", grid, "-o", out, "--jobs", jobs)
    assert result.exit_code == 1, result.output
    reason = "error: ValueError: injected failure" if how == "raise" else "error: worker process killed by SIGKILL"
    got, ref = cells(out), cells(serial)
    status = got[0].index("status")
    lost = [r for r in got[1:] if r[status].startswith("error: ")]
    alphas = [r[0] for r in ref[1:] if r[1] == "0.1"]  # as the CSV writes them (linspace: 0.39999999999999997)
    expected = alphas[2:] if how == "raise" else alphas[alphas.index(lost[0][0]) :]
    assert [(r[1], r[0]) for r in lost] == [("0.1", a) for a in expected]  # the end of one chain, from 0.5 or before
    assert len(expected) >= 3
    assert all(r[status] == reason for r in lost)
    assert f"{len(lost)} points lost with their chain ({reason})" in result.stderr and "--resume" in result.stderr
    kept = [r for r in got if not r[status].startswith("error: ")]
    assert kept == [r for r in ref if not (r[1] == "0.1" and r[0] in expected)]  # nothing else lost
    side = sidecar(out)
    assert side["complete"] is False and side["errors"] == len(lost)

    monkeypatch.undo()
    result = invoke("sweep", grid, "-o", out, "--jobs", jobs, "--resume")
    assert result.exit_code == 0, result.output
    assert f"{20 - len(lost)} from the earlier run" in result.stdout
    assert cells(out) == ref
    assert sidecar(out)["complete"] is True


# --- killed mid-run, resumed: the table of an uninterrupted run ------------------------------


def _journal_rows(path: Path) -> int:
    try:
        return len(read_journal(path)[1])
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("signum, jobs", [(signal.SIGKILL, "1"), (signal.SIGTERM, "2"), (signal.SIGKILL, "2")])
def test_killed_sweep_resumes_to_the_uninterrupted_table(big, tmp_path, signum, jobs):
    cfg, full = big
    out = tmp_path / "big.csv"
    journal = Path(str(out) + ".journal")
    with open(tmp_path / "stderr", "w") as se:
        proc = subprocess.Popen(
            [str(REPLICA), "sweep", str(cfg), "-o", str(out), "--jobs", jobs], stdout=subprocess.DEVNULL, stderr=se
        )
        try:
            deadline = time.monotonic() + 120
            while _journal_rows(journal) < 200:
                assert proc.poll() is None, "the sweep ended before it could be killed: make it larger"
                assert time.monotonic() < deadline, "no journal lines appeared"
                time.sleep(0.01)
            proc.send_signal(signum)
            rc = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    _, finished = read_journal(journal)
    assert 200 <= len(finished) < BIG_SIZE
    if signum == signal.SIGKILL:
        assert rc == -signal.SIGKILL
        assert not out.exists()  # nothing but the journal survives a SIGKILL
    else:
        assert rc == 130, (tmp_path / "stderr").read_text()
        assert sidecar(out)["complete"] is False
        assert len(cells(out)) - 1 == len(finished)

    result = invoke("sweep", cfg, "-o", out, "--jobs", jobs, "--resume")
    assert result.exit_code == 0, result.output
    assert f"{len(finished)} from the earlier run" in result.stdout
    assert cells(out) == cells(full)
    side = sidecar(out)
    assert side["complete"] is True and side["resumed"] == {"points": len(finished), "from": str(journal)}
    assert not journal.exists()


# --- provenance, progress, the SLURM script ----------------------------------------------------


def test_sidecar_provenance(serial):
    side = sidecar(serial)
    for key in ("config", "config_hash", "replica_version", "git_commit", "git_dirty", "host", "started", "finished"):
        assert key in side, key
    assert side["config"]["sweep"]["kappa"] == {"values": [0.0, 0.1, 0.2, 0.3]}
    assert all(side["versions"][p] for p in ("numpy", "scipy", "sympy", "python"))
    assert side["executor"] == {"kind": "serial"}
    assert side["compile"]["status"] in ("hit", "miss") and side["compile"]["seconds"] >= 0
    assert side["points"] == side["grid_points"] == 20 and side["shard"] is None
    diag = side["point_diagnostics"]
    assert diag["columns"][:2] == ["kappa", "alpha"]
    assert "hessian_eigenvalues" in diag["columns"] and "worker" in diag["columns"]
    assert len(diag["rows"]) == 20
    row = dict(zip(diag["columns"], diag["rows"][0], strict=True))
    assert row["iterations"] > 0 and row["wall_time"] > 0 and len(row["hessian_eigenvalues"]) == 2
    assert len(side["timings"]["point_wall_times_s"]) == 20


def test_progress_bar_on_a_terminal_and_log_lines_elsewhere(monkeypatch):
    import io

    from replica import cli

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    progress = cli._Progress(10, "sweep")
    progress.start(10, 4)  # 4 points resumed
    progress({"converged": True})
    progress({"converged": False})
    progress.close()
    shown = term.getvalue()
    assert "sweep (4 of 10 points resumed)" in shown and "1 failed" in shown and "points/s" in shown
    assert "2/6" in shown  # the points of this run

    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    monkeypatch.setattr(cli._Progress, "LOG_EVERY_S", 0.0)
    progress = cli._Progress(10, "sweep")
    progress.start(10, 4)
    progress({"converged": False})
    progress.close()
    lines = log.getvalue().splitlines()
    assert lines and lines[0].startswith("[replica] sweep: 5/10 points (4 resumed), 1 failed, ")
    assert "points/s, about" in lines[0] and lines[0].endswith("s left")


def test_slurm_array_script_runs_a_shard(grid, tmp_path):
    script = ROOT / "configs" / "slurm_array.sh"
    env = dict(
        os.environ,
        SLURM_ARRAY_TASK_ID="1",
        SLURM_ARRAY_TASK_COUNT="2",
        SLURM_CPUS_PER_TASK="1",
        PATH=f"{REPLICA.parent}:{os.environ.get('PATH', '')}",
    )
    proc = subprocess.run(
        ["bash", str(script), str(grid), str(tmp_path / "grid.csv")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "shard 1 of 2" in proc.stdout
    side = sidecar(tmp_path / "grid.shard-1-of-2.csv")
    assert side["shard"] == {"index": 1, "count": 2} and side["chains"] == [1, 3]
