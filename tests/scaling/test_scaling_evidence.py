"""The nearest measured networks: the ranking, and where the networks come from."""

import csv

import pytest
from scaling_synthetic import synthetic_rows

from advisor.provenance import LITERATURE, TRAINING
from advisor.scaling import load_prior
from advisor.scaling.evidence import Network, nearest, networks_for


def network(n, params, resolution=160, dataset="CIFAR-10", accuracy=80.0, source="s"):
    return Network(
        0.5, 1.0, 6.0, n, params, dataset, resolution, 100, accuracy, TRAINING, source, "p"
    )


def test_same_n_first_then_nearest_in_log_params_and_resolution():
    networks = [
        network(5, 50_000, source="other N, same size"),
        network(7, 400_000, source="same N, 4x the params"),
        network(7, 60_000, resolution=32, source="same N, 32x32"),
        network(7, 120_000, source="same N, 1.2x the params"),
        network(7, 100_000, dataset="CIFAR-100", source="other dataset"),
    ]
    ranked = nearest(networks, 7, 100_000, 160, "cifar10", count=10)
    assert [n.source for n in ranked] == [
        "same N, 1.2x the params",  # ln 1.2 = 0.18
        "same N, 4x the params",  # ln 4 = 1.39
        "same N, 32x32",  # ln(100/60) + ln 5 = 2.12
        "other N, same size",  # other N always after the same N
    ]
    assert [n.source for n in nearest(networks, 7, 100_000, 160, "cifar10", count=2)] == [
        "same N, 1.2x the params",
        "same N, 4x the params",
    ]
    assert len(nearest(networks, 7, 100_000, 160, None, count=10)) == 5  # any dataset


def test_ties_go_to_the_higher_accuracy():
    networks = [network(7, 200_000, accuracy=70.0), network(7, 50_000, accuracy=75.0)]
    assert [n.accuracy for n in nearest(networks, 7, 100_000, 160, None)] == [75.0, 70.0]


def test_every_shipped_prior_with_rows_is_evidence():
    found = networks_for()
    by_prior = {}
    for item in found:
        by_prior.setdefault(item.prior, []).append(item)
    assert len(by_prior["phinet-published"]) == 15
    assert all(n.kind == LITERATURE for n in by_prior["phinet-published"])
    assert len(by_prior["cifar10-32px-3ep-partial"]) == 81
    assert all(n.kind == TRAINING for n in by_prior["cifar10-32px-3ep-partial"])
    assert "study-published" not in by_prior  # a rule, no rows
    best = nearest(found, 7, 86_619, 160, "CIFAR-10")[0]
    assert (best.params, best.accuracy, best.prior) == (88_901, 88.08, "phinet-published")
    at_32 = nearest(found, 9, 300_000, 32, "cifar10")
    assert {(n.num_layers, n.resolution) for n in at_32} == {(9, 32)}


def test_a_users_results_file_joins_the_evidence_once(tmp_path):
    rows = synthetic_rows(seed=4, resolution=96, epochs=10)
    path = tmp_path / "mine.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    found = networks_for(load_prior(str(path)))
    mine = [n for n in found if n.prior == "mine"]
    assert len(mine) == len(rows) and all(n.source == "synthetic" for n in mine)
    assert nearest(found, 7, 80_000, 96, "cifar10")[0].prior == "mine"
    shipped = load_prior("phinet-published")
    assert len(networks_for(shipped)) == len(networks_for())  # shipped rows are not doubled


@pytest.mark.parametrize("epochs", [100, 2.5])
def test_to_dict_names_regime_and_source(epochs):
    item = Network(0.35, 1, 6, 7, 88_901, "CIFAR-10", 160, epochs, 88.08, LITERATURE, "card", "p")
    data = item.to_dict(7, 86_619, 160)
    assert data["regime"] == {"dataset": "CIFAR-10", "resolution": 160, "epochs": epochs}
    assert data["same_num_layers"] and data["kind"] == LITERATURE and data["source"] == "card"
    assert data["log_distance"] == pytest.approx(0.026, abs=1e-3)
