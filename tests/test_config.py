import json

import pytest

from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError


def test_round_trip_through_dict_and_recommendation_json(tmp_path):
    config = PhiNetConfig(alpha=0.35, beta=1.0, t0=6, num_layers=7, resolution=32)
    assert PhiNetConfig.from_dict(config.to_dict()) == config
    path = tmp_path / "rec.json"
    path.write_text(json.dumps({"config": config.to_dict(), "estimates": {"params": 1}}))
    assert PhiNetConfig.from_json_file(path) == config


def test_aliases_and_integral_floats_are_accepted():
    config = PhiNetConfig.from_dict({"alpha": 0.5, "beta": 1, "t_zero": 5, "N": 7.0})
    assert (config.t0, config.num_layers) == (5, 7)
    assert isinstance(config.num_layers, int)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"alpha": 0, "beta": 1, "t0": 6, "num_layers": 7}, "alpha must be a positive"),
        ({"alpha": 0.5, "beta": 1, "t0": 6, "num_layers": 0}, "num_layers must be an integer >= 1"),
        ({"alpha": 0.5, "beta": 1, "t0": 6, "num_layers": 7, "resolution": 0}, "resolution"),
        ({"alpha": 0.5, "beta": 1, "t0": 6}, "lacks ['num_layers']"),
        (
            {"alpha": 0.5, "beta": 1, "t0": 6, "num_layers": 7, "width": 3},
            "unknown PhiNet config key 'width'",
        ),
    ],
)
def test_bad_configs_name_the_problem(data, message):
    with pytest.raises(AdvisorError, match=message.replace("[", r"\[").replace("]", r"\]")):
        PhiNetConfig.from_dict(data)


def test_unreadable_config_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(AdvisorError, match="bad.json is not valid JSON"):
        PhiNetConfig.from_json_file(bad)
    with pytest.raises(AdvisorError, match="does not exist"):
        PhiNetConfig.from_json_file(tmp_path / "missing.json")
