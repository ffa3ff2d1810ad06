"""`advisor.export.check`: the library behind `advisor check`, without the CLI."""

from __future__ import annotations

from dataclasses import replace

from advisor.boards import load_board
from advisor.export.check import check_model, shortfalls


def test_check_model_measures_and_judges_every_board(int8_path, exported):
    roomy, cramped = load_board("stm32h7"), load_board("stm32l476")
    cramped = replace(
        cramped, ram_bytes=exported.arena.arena_bytes + cramped.reserved_ram_bytes - 1
    )
    result = check_model(str(int8_path), [roomy, cramped])
    assert result["model_bytes"] == len(exported.int8)
    assert result["arena_bytes"] == exported.arena.arena_bytes
    assert sum(layer["macs"] for layer in result["layers"]) == result["macs"] > 0
    fits = {fit["id"]: fit["fits"] for fit in result["boards"]}
    assert fits == {"stm32h7": True, "stm32l476": False}
    [reason] = shortfalls(result)
    assert reason.startswith("stm32l476 (") and "RAM 1 B over budget" in reason
    assert result["emulation"] == []
