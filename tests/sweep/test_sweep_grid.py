import json

import pytest

from advisor.errors import AdvisorError
from advisor.sweep.grid import GridPoint, load_grid, study_grid


def test_study_grid_is_the_studys_270_configurations():
    grid = study_grid()
    assert len(grid) == 270 == len(set(grid))
    assert {p.alpha for p in grid} == {0.15, 0.3, 0.5, 0.9, 1.5}
    assert {p.num_layers for p in grid} == set(range(4, 10))
    assert load_grid("study") == grid


def test_factor_lists_in_toml_give_their_product(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text("alpha = [0.15, 0.3]\nbeta = [1.0]\nt0 = [4, 6]\nN = [4, 5, 6]\n")
    grid = load_grid(path)
    assert len(grid) == 12
    assert GridPoint(0.3, 1.0, 6, 5) in grid


def test_explicit_configs_in_json_keep_order_and_drop_duplicates(tmp_path):
    path = tmp_path / "grid.json"
    configs = [
        {"alpha": 0.5, "beta": 1, "t0": 5, "num_layers": 7},
        {"alpha": 0.15, "beta": 1.05, "t_zero": 4, "N": 4},
        {"alpha": 0.5, "beta": 1.0, "t0": 5.0, "num_layers": 7.0},
    ]
    path.write_text(json.dumps(configs))
    assert load_grid(path) == [GridPoint(0.5, 1.0, 5.0, 7), GridPoint(0.15, 1.05, 4.0, 4)]


@pytest.mark.parametrize(
    "name, text, message",
    [
        (
            "g.toml",
            "alpha = [0.15]\nbeta = [1.0]\nt0 = [4]\nN = [4]\nwidth = [2]\n",
            "unknown key 'width'",
        ),
        ("g.toml", "alpha = []\nbeta = [1.0]\nt0 = [4]\nN = [4]\n", "list for 'alpha' is empty"),
        (
            "g.toml",
            "alpha = [0.15]\nbeta = [0.0]\nt0 = [4]\nN = [4]\n",
            "beta must be a positive number",
        ),
        (
            "g.toml",
            "alpha = [0.15]\nbeta = [1.0]\nt0 = [4]\nN = [-4]\n",
            "num_layers must be an integer >= 1",
        ),
        (
            "g.toml",
            "alpha = [0.15]\nbeta = [1.0]\nt0 = [4]\nN = [4.5]\n",
            "num_layers must be a whole number",
        ),
        ("g.toml", "alpha = ['big']\nbeta = [1.0]\nt0 = [4]\nN = [4]\n", "alpha is not a number"),
        ("g.toml", "alpha = [0.15]\nbeta = [1.0]\nt0 = [4]\n", "lacks ['num_layers']"),
        ("g.toml", "alpha = [0.15\n", "not valid TOML"),
        ("g.json", '{"configs": []}', "'configs' must be a non-empty list"),
        (
            "g.json",
            '[{"alpha": 0.1, "beta": 1, "t0": 4, "N": 4, "depth": 3}]',
            "unknown key 'depth' in configs[0]",
        ),
        (
            "g.json",
            '[{"alpha": 0.1, "beta": 1, "t0": -4, "N": 4}]',
            "t0 in configs[0] must be a positive number",
        ),
        ("g.json", '{"alpha": [0.1], ', "not valid JSON"),
        ("g.yaml", "alpha: [0.1]", "must end in .toml or .json"),
    ],
)
def test_bad_grid_files_name_the_file_and_the_key(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(AdvisorError) as err:
        load_grid(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_missing_grid_file_is_a_clear_error(tmp_path):
    with pytest.raises(AdvisorError, match="does not exist"):
        load_grid(tmp_path / "nope.toml")


@pytest.mark.slow  # the cost model over the whole study grid (about 3 s)
def test_small_first_takes_every_depth_in_turn_from_the_fewest_macs():
    from advisor.cost import estimate
    from advisor.sweep.runner import small_first

    ordered = small_first(study_grid(), resolution=32)
    assert sorted(ordered) == sorted(study_grid())
    # the first 54 are the 9 smallest of each of the 6 depths: all of alpha 0.15
    first = ordered[:54]
    assert {p.alpha for p in first} == {0.15}
    assert [p.num_layers for p in ordered[:6]] == [4, 5, 6, 7, 8, 9]
    for n in range(4, 10):
        macs = [estimate(p.config(32)).macs for p in ordered if p.num_layers == n]
        assert macs == sorted(macs)
