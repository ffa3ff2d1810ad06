import csv
import json
import sqlite3

import pytest
from scaling_synthetic import synthetic_rows

from advisor.errors import AdvisorError
from advisor.scaling import from_rows, load_results


def write_csv(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_store(path, rows, statuses):
    connection = sqlite3.connect(path)
    columns = [*list(rows[0]), "status", "macs"]
    connection.execute(f"CREATE TABLE runs ({', '.join(columns)})")
    for row, status in zip(rows, statuses):
        connection.execute(
            f"INSERT INTO runs VALUES ({', '.join('?' * len(columns))})",
            [*row.values(), status, 1000],
        )
    connection.commit()
    connection.close()
    return path


def test_csv_with_n_alias_loads_and_groups_by_n(tmp_path):
    rows = synthetic_rows(per_n=8)
    table = load_results(write_csv(tmp_path / "r.csv", rows))
    assert len(table) == len(rows)
    assert table.n_values() == [4, 5, 7, 9]
    params, _accuracy = table.by_n()[7]
    assert len(params) == 8 and list(params) == sorted(params)
    assert table.regime() == {"dataset": "CIFAR-10", "resolution": 160, "epochs": 110}


def test_jsonl_without_source_gets_the_file_as_source(tmp_path):
    rows = [{k: v for k, v in row.items() if k != "source"} for row in synthetic_rows(per_n=3)]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    table = load_results(path)
    assert set(table.columns["source"]) == {str(path)}


def test_sqlite_store_reads_done_runs_only(tmp_path):
    rows = synthetic_rows(per_n=3)
    statuses = ["done", "failed", "running"] * (len(rows) // 3)
    table = load_results(write_store(tmp_path / "sweep.db", rows, statuses))
    assert len(table) == statuses.count("done")
    assert "macs" in table.columns


@pytest.mark.parametrize(
    "column, value, expected",
    [
        ("params", "12k", "row 2, column params: '12k' is not a finite number"),
        ("params", 0, "row 2, column params: 0 <= 0"),
        ("accuracy", 175, "row 2, column accuracy: 175 is outside [0, 100]"),
        ("accuracy", -1, "row 2, column accuracy: -1 is outside [0, 100]"),
        ("N", 4.5, "row 2, column num_layers: 4.5 is not a positive integer"),
    ],
)
def test_bad_cells_name_file_row_and_column(tmp_path, column, value, expected):
    rows = synthetic_rows(per_n=2)
    rows[1][column] = value
    with pytest.raises(AdvisorError, match="bad.csv") as error:
        load_results(write_csv(tmp_path / "bad.csv", rows))
    assert expected in str(error.value)


def test_missing_column_is_named(tmp_path):
    rows = [{k: v for k, v in row.items() if k != "accuracy"} for row in synthetic_rows(per_n=2)]
    with pytest.raises(AdvisorError, match=r"bad.csv: missing column\(s\) accuracy"):
        load_results(write_csv(tmp_path / "bad.csv", rows))


def test_missing_file_unknown_format_and_store_without_runs(tmp_path):
    with pytest.raises(AdvisorError, match="no such file"):
        load_results(tmp_path / "nope.csv")
    (tmp_path / "r.xlsx").write_text("x")
    with pytest.raises(AdvisorError, match="unknown results format"):
        load_results(tmp_path / "r.xlsx")
    sqlite3.connect(tmp_path / "empty.db").execute("CREATE TABLE other (x)").connection.commit()
    with pytest.raises(AdvisorError, match="no 'runs' table"):
        load_results(tmp_path / "empty.db")


def test_mixed_regimes_are_refused():
    rows = synthetic_rows(per_n=2) + synthetic_rows(per_n=2, resolution=32)
    with pytest.raises(AdvisorError, match="mix resolution values"):
        from_rows(rows).regime()


def test_accuracies_that_are_all_fractions_are_refused_with_the_fix(tmp_path):
    rows = synthetic_rows(per_n=4)
    fractions = [{**row, "accuracy": float(row["accuracy"]) / 100} for row in rows]
    path = write_csv(tmp_path / "fractions.csv", fractions)
    with pytest.raises(AdvisorError, match=r"fractions.*100.*--accuracy-scale fraction"):
        load_results(path)
    scaled = load_results(path, accuracy_scale="fraction")
    assert scaled.accuracy.tolist() == pytest.approx([float(r["accuracy"]) for r in rows])
    taken = load_results(path, accuracy_scale="percent")
    assert taken.accuracy.tolist() == pytest.approx([r["accuracy"] for r in fractions])
    with pytest.raises(AdvisorError, match="not a fraction"):
        load_results(write_csv(tmp_path / "percent.csv", rows), accuracy_scale="fraction")


def test_duplicated_rows_are_reported_by_row_number(tmp_path):
    rows = synthetic_rows(per_n=4)
    rows = [*rows, dict(rows[2]), dict(rows[5])]
    with pytest.raises(AdvisorError, match=r"2 duplicated row.*row 17 repeats row 3"):
        load_results(write_csv(tmp_path / "twice.csv", rows))
    # the same config with another seed is another run, not a duplicate
    seeded = [{**row, "seed": number} for number, row in enumerate(rows)]
    assert len(load_results(write_csv(tmp_path / "seeds.csv", seeded))) == len(rows)
