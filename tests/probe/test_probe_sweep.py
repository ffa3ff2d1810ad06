"""Finding a sweep run's checkpoint."""

from advisor.probe.sweep import checkpoint_of


def test_checkpoints_are_found_after_the_sweep_folder_moved(tmp_path):
    store = tmp_path / "moved" / "sweep.db"
    checkpoint = tmp_path / "moved" / "sweep.runs" / "abc" / "best.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"x")
    row = {"run_id": "abc", "checkpoint": "/elsewhere/sweep.runs/abc/best.pt"}
    assert checkpoint_of(row, store) == checkpoint
    assert (
        checkpoint_of({"run_id": "abc", "checkpoint": "sweep.runs/abc/best.pt"}, store)
        == tmp_path / "moved" / "sweep.runs" / "abc" / "best.pt"
    )
    assert checkpoint_of({"run_id": "zzz", "checkpoint": "nowhere.pt"}, store) is None
    assert checkpoint_of({"run_id": "abc", "checkpoint": None}, store) is None
