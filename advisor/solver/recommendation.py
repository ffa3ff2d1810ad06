"""The solver: the PhiNet to build for a board's flash, RAM and latency budgets.

1. For every candidate N, the largest parameter count any (alpha, beta, t0) of the grid
   reaches within every budget (exact cost model, latency model on its int8 op graph;
   `advisor.solver.search`).
2. N from those reachable sizes and the prior (`advisor.solver.n_rule`).
3. At that N the configuration with the most parameters (accuracy rises with parameters at
   fixed N in every model the study fits), so also the highest predicted accuracy when the
   prior has curves; without curves accuracy is reported as unavailable, never invented.
4. Accuracy is shown only inside the prior's regime (dataset, resolution), from its own curve
   or the literature curve of the same regime; always beside the nearest measured networks
   (`advisor.scaling.evidence`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from advisor import provenance
from advisor.config import PhiNetConfig
from advisor.cost.model import ARENA_SOURCE, TOTALS
from advisor.errors import AdvisorError
from advisor.solver.alternatives import pareto_alternatives
from advisor.solver.budgets import Budgets, budgets_for
from advisor.solver.diagnose import Infeasible, diagnose
from advisor.solver.n_rule import NChoice, choose_num_layers
from advisor.solver.search import Candidate, concat, evaluate, rank_by_params, row, search_depth
from advisor.solver.space import STUDIED_RANGES, SearchSpace

if TYPE_CHECKING:
    from advisor.boards import Board
    from advisor.cost import CostReport
    from advisor.scaling import Prediction, Prior

DEFAULT_RESOLUTION = 160  # the study's (CIFAR-10 upscaled x5)


@dataclass
class Recommendation:
    """A PhiNet that fits, its cost-model figures, why it was chosen and cheaper options."""

    board: Board
    budgets: Budgets
    space: SearchSpace
    prior: Prior
    config: PhiNetConfig
    costs: CostReport
    latency_ms: float  # the latency model's estimate on the board (NaN: not estimated)
    binding: list[str]
    n_choice: NChoice
    accuracy: Prediction | None
    accuracy_unavailable: str | None
    alternatives: list[dict]
    warnings: list[str]
    resolutions: list[dict] = field(default_factory=list)
    nearest_networks: list[dict] = field(default_factory=list)
    outside_regime: str | None = None  # why no accuracy is shown: the query is not the prior's

    fits = True

    def to_dict(self) -> dict:
        costs = self.costs
        accuracy_source = None if self.accuracy is None else self.accuracy.source
        latency = self.budgets.latency
        return {
            "fits": True,
            "board": {
                "id": self.board.id,
                "name": self.board.name,
                "path": self.board.path,
                "source": provenance.BOARD_PROFILE,
            },
            "config": self.config.to_dict(),
            "estimates": {
                "params": costs.params,
                "params_folded": costs.params_folded,
                "flash_bytes": costs.flash_bytes,
                "peak_ram_bytes": costs.peak_ram_bytes,
                "arena_bytes": costs.arena_bytes,
                "macs": costs.macs,
                "latency_ms": _latency(self.latency_ms),
                "latency_typical_error": None if latency is None else latency.typical_error,
                "latency_unavailable": self.budgets.latency_unavailable,
                "latency_note": self.board.latency_note(),
                "latency_extrapolation": None if latency is None else latency.extrapolation,
                "accuracy": None
                if self.accuracy is None
                else round(float(self.accuracy.accuracy), 3),
                "accuracy_std": None
                if self.accuracy is None
                else round(float(self.accuracy.std), 3),
                "accuracy_unavailable": self.accuracy_unavailable,
                "accuracy_extrapolated": (
                    None
                    if self.accuracy is None
                    else bool(getattr(self.accuracy, "extrapolated", False))
                ),
            },
            "budgets": self.budgets.to_dict(),
            "use_percent": self.budgets.use_percent(_figures(costs, self.latency_ms)),
            "binding": self.binding[0] if self.binding else None,
            "binding_all": self.binding,
            "n_rule": self.n_choice.to_dict()
            | ({"predicted_accuracy": {}} if self.outside_regime else {}),
            "prior": {
                "name": self.prior.name,
                "source": self.prior.source,
                "regime": dict(self.prior.regime),
                "has_curves": bool(self.prior.has_curves),
                "predicts_accuracy": bool(self.prior.predicts_accuracy),
                "parts": list(self.prior.parts),
            },
            "nearest_networks": self.nearest_networks,
            "alternatives": self.alternatives,
            "resolutions": self.resolutions,
            "warnings": self.warnings,
            "sources": {
                "config": f"solver: grid search over the {provenance.COST_MODEL}",
                "params": provenance.COST_MODEL,
                "flash_bytes": provenance.COST_MODEL,
                "peak_ram_bytes": provenance.COST_MODEL,
                "arena_bytes": ARENA_SOURCE,
                "macs": provenance.COST_MODEL,
                "latency_ms": None if latency is None else latency.source,
                "accuracy": accuracy_source,
                "budgets": dict(self.budgets.sources),
                "n_rule": f"prior {self.prior.name}",
                "nearest_networks": "each network's own row: literature (cited) or measured: "
                "training run, from every shipped prior with rows and the --prior given",
            },
        }


def recommend(
    board: Board,
    *,
    resolution: int | None = None,
    search_resolutions: list[int] | None = None,
    in_channels: int = 3,
    num_classes: int = 10,
    latency_ms: float | None = None,
    flash: int | str | None = None,
    ram: int | str | None = None,
    macs: int | str | None = None,
    prior: str | Prior | None = None,
    dataset: str | None = None,
) -> Recommendation | Infeasible:
    """The recommendation for `board`, its budgets overridden as `budgets_for` takes them, at
    one `resolution` (default 160) or the best of `search_resolutions`; `prior` is a Prior,
    a shipped prior's name or a path (default: the default prior)."""
    from advisor.scaling import load_prior

    if search_resolutions and resolution is not None:
        raise AdvisorError("give either --resolution or --search-resolution, not both")
    budgets = budgets_for(board, latency_ms=latency_ms, flash=flash, ram=ram, macs=macs)
    if prior is None or isinstance(prior, (str, os.PathLike)):
        prior = load_prior(prior)
    space = SearchSpace(
        resolution=DEFAULT_RESOLUTION if resolution is None else resolution,
        in_channels=in_channels,
        num_classes=num_classes,
        num_layers=tuple(int(n) for n in prior.candidate_ns),
    )
    if search_resolutions:
        return solve_resolutions(board, budgets, space, prior, search_resolutions, dataset)
    return solve(board, budgets, space, prior, dataset)


def solve(
    board: Board, budgets: Budgets, space: SearchSpace, prior: Prior, dataset: str | None = None
) -> Recommendation | Infeasible:
    """The recommendation for one input resolution, or what stands in the way."""
    warnings = list(prior.regime_mismatch(dataset=dataset, resolution=space.resolution))
    if budgets.latency is None:
        warnings.append(f"latency not judged: {budgets.latency_unavailable}")
    per_depth = {n: search_depth(space, budgets, n) for n in space.num_layers}
    best_rows = {
        n: row(found.candidates, int(rank_by_params(found.candidates)[0]))
        for n, found in per_depth.items()
        if found.candidates["params"].size
    }
    if not best_rows:
        return diagnose(board, budgets, space, warnings)
    reachable = {n: (best_rows[n].params if n in best_rows else None) for n in space.num_layers}
    n_choice = choose_num_layers(reachable, prior, budgets.flash_bytes)
    best = best_rows[n_choice.num_layers]
    config = PhiNetConfig(
        alpha=best.alpha,
        beta=best.beta,
        t0=best.t0,
        num_layers=best.num_layers,
        resolution=space.resolution,
        in_channels=space.in_channels,
        num_classes=space.num_classes,
    )
    costs, latency_ms = _confirmed_costs(config, budgets)
    outside = prior.not_covered(dataset, space.resolution)
    accuracy, unavailable = _accuracy(prior, config.num_layers, costs.params, outside)
    warnings += _extrapolation_warnings(config, prior, costs.params)
    if accuracy is not None and bool(getattr(accuracy, "extrapolated", False)):
        warnings.append(
            f"the predicted accuracy extrapolates the N={config.num_layers} curve beyond the "
            f"parameter counts it was fitted on ({accuracy.source})"
        )
    return Recommendation(
        board=board,
        budgets=budgets,
        space=space,
        prior=prior,
        config=config,
        costs=costs,
        latency_ms=latency_ms,
        binding=_binding(space, budgets, best),
        n_choice=n_choice,
        accuracy=accuracy,
        accuracy_unavailable=unavailable,
        alternatives=_alternatives(
            space, budgets, prior, best, per_depth, n_choice, show_accuracy=outside is None
        ),
        warnings=warnings,
        nearest_networks=_nearest_networks(prior, config, costs.params, dataset),
        outside_regime=outside,
    )


def solve_resolutions(
    board: Board,
    budgets: Budgets,
    space: SearchSpace,
    prior: Prior,
    resolutions: list[int],
    dataset: str | None = None,
) -> Recommendation | Infeasible:
    """Solve at each resolution; keep the one nearest the prior's regime resolution among
    those where a PhiNet fits (the prior does not model resolution, so its predictions are
    only valid there; nearer is less extrapolation), ties to the larger resolution."""
    results = [solve(board, budgets, space.with_resolution(r), prior, dataset) for r in resolutions]
    summary = [_resolution_summary(result) for result in results]
    fitting = [result for result in results if result.fits]
    regime_resolution = prior.regime.get("resolution") if prior.regime else None
    if fitting:
        target = regime_resolution or max(r.space.resolution for r in fitting)
        chosen = min(fitting, key=lambda r: (abs(r.space.resolution - target), -r.space.resolution))
        chosen.warnings.insert(
            0,
            f"resolution {chosen.space.resolution} chosen from "
            f"{list(resolutions)}: the fitting one nearest the prior's "
            f"regime resolution ({target}); the prior does not predict how "
            f"accuracy changes with resolution",
        )
    else:  # the smallest resolution needs least: report its shortfall
        chosen = min(results, key=lambda r: r.space.resolution)
    chosen.resolutions = summary
    return chosen


def _resolution_summary(result) -> dict:
    if not result.fits:
        return {"resolution": result.space.resolution, "fits": False, "over_budget": result.over}
    return {
        "resolution": result.space.resolution,
        "fits": True,
        "num_layers": result.config.num_layers,
        "alpha": result.config.alpha,
        "beta": result.config.beta,
        "t0": result.config.t0,
        "params": result.costs.params,
        "macs": result.costs.macs,
        "peak_ram_bytes": result.costs.peak_ram_bytes,
        "arena_bytes": result.costs.arena_bytes,
        "latency_ms": _latency(result.latency_ms),
        "binding": result.binding[0] if result.binding else None,
        "source": provenance.COST_MODEL,
    }


def _figures(report: CostReport, latency_ms: float) -> dict:
    """The budgeted figures of one network, keyed as the candidate table's columns."""
    return {**{name: getattr(report, name) for name in TOTALS}, "latency_ms": latency_ms}


def _confirmed_costs(config: PhiNetConfig, budgets: Budgets) -> tuple[CostReport, float]:
    """The cost model's per-network report for the chosen config and its estimated latency,
    checked against the budgets."""
    from advisor.cost import estimate

    report = estimate(config)
    latency_ms = float(budgets.latency_ms_of(report.work_totals()))
    if not budgets.fits(_figures(report, latency_ms)):
        raise RuntimeError(
            f"cost model disagrees with its vectorized totals on {config}: "
            f"flash {report.flash_bytes}, arena {report.arena_bytes}, MACs {report.macs} "
            f"latency {latency_ms} ms do not fit {budgets}"
        )
    return report, latency_ms


def _latency(value: float) -> float | None:
    """A latency for JSON: rounded, None when not estimated (NaN)."""
    return None if value != value else round(float(value), 3)


def _accuracy(prior, num_layers: int, params: int, outside: str | None):
    """The prediction to show, or None and why (`outside`: why the query lies outside the
    prior's regime)."""
    if outside:
        return None, f"{outside}; see the nearest measured networks"
    if not prior.predicts_accuracy:
        return None, (
            f"prior {prior.name} has no fitted accuracy curves for its regime; fit "
            f"one from trained networks (`advisor scaling`) to get a prediction"
        )
    prediction = prior.predict_accuracy(num_layers, params)
    if prediction is None:
        return None, (
            f"prior {prior.name} has no accuracy curve for N={num_layers} in its regime "
            f"(too few published or measured networks of that depth); see the nearest "
            f"measured networks"
        )
    return prediction, None


def _nearest_networks(prior, config: PhiNetConfig, params: int, dataset: str | None) -> list:
    """The measured networks nearest the recommendation, on the query's dataset (else the
    prior's)."""
    from advisor.scaling.evidence import nearest, networks_for

    query = (config.num_layers, params, config.resolution)
    found = nearest(networks_for(prior), *query, dataset or prior.regime.get("dataset"))
    return [network.to_dict(*query) for network in found]


def _binding(space: SearchSpace, budgets: Budgets, best: Candidate) -> list[str]:
    """Budgets the next alpha step would break, most exceeded first; ["search range"] when
    alpha is already the grid's largest."""
    alphas = np.asarray(space.alphas)
    index = int(np.searchsorted(alphas, best.alpha - 1e-9))
    if index + 1 >= len(alphas):
        return ["search range"]
    step = row(
        evaluate(
            space, best.num_layers, alphas[index + 1 : index + 2], best.beta, best.t0, budgets
        ),
        0,
    )
    ratios = {kind.name: getattr(step, kind.cost) / limit for kind, limit in budgets.active()}
    return sorted(
        (name for name, ratio in ratios.items() if ratio > 1), key=lambda name: -ratios[name]
    )


def _alternatives(
    space, budgets, prior, best, per_depth, n_choice, show_accuracy: bool
) -> list[dict]:
    """Cheaper options. With fitted curves they may use any N (accuracy compares across N);
    without, only the chosen N (parameter counts of different N do not compare)."""
    depths = list(per_depth) if prior.has_curves else [n_choice.num_layers]
    coarse = space.coarse()
    tables = [per_depth[n].candidates for n in depths]
    for n in depths:
        alphas = [alpha for alpha in coarse.alphas if alpha <= per_depth[n].widest_alpha]
        alpha, beta, t0 = (
            grid.ravel() for grid in np.meshgrid(alphas, coarse.betas, coarse.t0s, indexing="ij")
        )
        table = evaluate(space, n, alpha, beta, t0, budgets)
        fits = budgets.fits(table)
        tables.append({name: column[fits] for name, column in table.items()})
    table = concat(tables)

    def objective(num_layers: int, params: int):
        if not prior.has_curves:
            return float(params)
        prediction = prior.predict(num_layers, params)
        return None if prediction is None else float(prediction.accuracy)

    out = []
    for label, candidate, _score in pareto_alternatives(table, best, objective):
        accuracy = (
            prior.predict_accuracy(candidate.num_layers, candidate.params)
            if show_accuracy
            else None
        )
        out.append(
            {
                "trade": label,
                "config": {
                    name: getattr(candidate, name) for name in ("alpha", "beta", "t0", "num_layers")
                }
                | {
                    "resolution": space.resolution,
                    "in_channels": space.in_channels,
                    "num_classes": space.num_classes,
                },
                "params": candidate.params,
                "flash_bytes": candidate.flash_bytes,
                "peak_ram_bytes": candidate.peak_ram_bytes,
                "arena_bytes": candidate.arena_bytes,
                "macs": candidate.macs,
                "latency_ms": _latency(candidate.latency_ms),
                "accuracy": None if accuracy is None else round(float(accuracy.accuracy), 3),
                "accuracy_std": None if accuracy is None else round(float(accuracy.std), 3),
                "accuracy_extrapolated": None if accuracy is None else bool(accuracy.extrapolated),
                "sources": {
                    "costs": provenance.COST_MODEL,
                    "latency_ms": None if budgets.latency is None else budgets.latency.source,
                    "accuracy": None if accuracy is None else accuracy.source,
                },
            }
        )
    return out


def _extrapolation_warnings(config: PhiNetConfig, prior, params: int) -> list[str]:
    warnings = []
    outside = [
        f"{name}={getattr(config, name):g} (studied {low:g}-{high:g})"
        for name, (low, high) in STUDIED_RANGES.items()
        if not low <= getattr(config, name) <= high
    ]
    what = "its predicted accuracy extrapolates" if prior.has_curves else "the N rule extrapolates"
    if outside:
        warnings.append(
            f"the recommendation lies outside the study's sampled grid "
            f"({', '.join(outside)}): {what} from networks of other shapes"
        )
    low, high = prior.params_span
    if not low <= params <= high:
        warnings.append(
            f"{params:,} parameters lie outside the {low:,.0f}-{high:,.0f} parameters "
            f"prior '{prior.name}' segments: its N rule is extended from its "
            f"nearest interval"
        )
    return warnings
