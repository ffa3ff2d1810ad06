"""A sweep killed with SIGKILL mid-run resumes with no lost and no duplicated rows."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sweep_tiny import TINY_CONFIGS, TINY_REGIME

from advisor.cli import cli

pytestmark = pytest.mark.slow  # a sweep in a subprocess, killed and rerun (about 20 s)


def statuses(store):
    if not Path(store).exists():
        return []
    try:
        db = sqlite3.connect(store, timeout=5)
        return [row[0] for row in db.execute("SELECT status FROM runs")]
    except sqlite3.OperationalError:  # the sweep has not created its table yet
        return []


def children(pid):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_sweep_reruns_to_completion_without_lost_or_duplicated_rows(tmp_path, tiny_data):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"configs": TINY_CONFIGS}))
    store = tmp_path / "sweep.db"
    args = [
        "sweep",
        "--grid",
        str(grid),
        "--data",
        str(tiny_data),
        *TINY_REGIME,
        "--store",
        str(store),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    sweep = subprocess.Popen(
        [sys.executable, "-m", "advisor", *args, "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sweep.poll() is None:
        seen = statuses(store)
        if "done" in seen and "running" in seen:
            break
        time.sleep(0.05)
    workers = children(sweep.pid)
    assert sweep.poll() is None, sweep.stderr.read().decode()
    sweep.send_signal(signal.SIGKILL)
    sweep.wait()
    before = sorted(statuses(store))
    assert "done" in before and "running" in before and len(before) < len(TINY_CONFIGS) + 1

    # the worker processes of the killed driver must not train on as orphans
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)

    db = sqlite3.connect(store)
    finished = dict(db.execute("SELECT run_id, finished_at FROM runs WHERE status='done'"))
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ran_now"] == len(TINY_CONFIGS) - len(finished)
    stored = db.execute("SELECT run_id, status, finished_at FROM runs").fetchall()
    assert len(stored) == len({run_id for run_id, _, _ in stored}) == len(TINY_CONFIGS)
    assert {status for _, status, _ in stored} == {"done"}
    # runs that had finished before the kill were kept, not run again
    assert {run_id: at for run_id, _, at in stored if run_id in finished} == finished
