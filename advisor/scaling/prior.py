"""Priors: which N to use for a parameter budget and, when measured, how accurate it will be.

A prior is a JSON file (package data in advisor/scaling/priors/, or any path) with:
  name, kind ("published" | "measured"), source (text: where every number came from),
  regime {dataset, resolution, epochs, ...}, and either
  - intervals [{low, high (null = no upper end), n, source}] (+ optional curves), or
  - results: a results file (CSV / JSON lines / SQLite store, relative to the JSON) that is
    fitted on load with fit_prior,
  plus optional cv_rmse {model: {value, source}} and caveats [{text, source}].
The default prior is the first "measured" prior shipped (by file name), else the study's
published rule ("study-published").

Curves are the study's winner, the generalized hyperbolic acc = c - a / P^phi, one per N;
the uncertainty of a prediction is that N's cross-validated RMSE.

Priors combine by regime. A "literature" prior (published results, e.g. "phinet-published")
holds curves for the few N with enough published networks; they predict accuracy only, never
the N rule, which it takes from the prior named by "n_rule_from". A prior with "accuracy_from"
takes those curves for every N it has no curve of its own. Both must share one regime
(dataset, resolution, epochs within 10 %), and `parts` says which part came from where.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

from advisor.atomic import write_text_atomic
from advisor.errors import AdvisorError
from advisor.files import read_json
from advisor.provenance import LITERATURE, SCALING_LAW
from advisor.scaling import segmentation
from advisor.scaling.cv import TRAIN_FRACTION, fold_rmses, split_indices
from advisor.scaling.models import MODELS, fit_curve
from advisor.scaling.results import SQLITE_SUFFIXES, ResultsTable, load_results
from advisor.scaling.segmentation import Interval

FORMAT = "mcu-advisor prior v1"
PUBLISHED = "study-published"
CURVE_MODEL = "generalized_hyperbolic"
PRIOR_FOLDS = 100
RESULT_SUFFIXES = (".csv", ".jsonl", ".json", ".ndjson", *SQLITE_SUFFIXES)
EPOCHS_RTOL = 0.1  # epoch counts within 10 % count as the same schedule


@dataclass(frozen=True)
class Curve:
    """acc = c - a / P^phi for one N, fitted to networks with params in
    [params_low, params_high]."""

    n: int
    a: float
    phi: float
    c: float
    std: float  # percentage points: mean RMSE over cross-validation folds
    params_low: float
    params_high: float
    n_points: int
    source: str

    def accuracy(self, params) -> np.ndarray:
        params = np.asarray(params, dtype=float)
        return self.c - np.exp(math.log(self.a) - self.phi * np.log(params))

    def to_dict(self) -> dict:
        return {
            "model": CURVE_MODEL,
            "a": self.a,
            "phi": self.phi,
            "c": self.c,
            "std": self.std,
            "params_low": self.params_low,
            "params_high": self.params_high,
            "n_points": self.n_points,
            "source": self.source,
        }


@dataclass(frozen=True)
class Prediction:
    accuracy: float | np.ndarray  # top-1 %, clipped to [0, 100]
    std: float  # percentage points
    source: str
    extrapolated: bool | np.ndarray  # outside the params range this N was measured on


@dataclass(frozen=True)
class Prior:
    name: str
    source: str
    regime: dict
    intervals: list[Interval]
    curves: dict[int, Curve] = field(default_factory=dict)
    kind: str = "measured"
    cv_rmse: dict = field(default_factory=dict)  # model -> {"value": %, "source": text}
    caveats: list = field(default_factory=list)  # [{"text", "source"}]
    interval_sources: list = field(default_factory=list)  # one text per interval
    path: str = ""
    accuracy_curves: dict[int, Curve] = field(default_factory=dict)  # accuracy only, not N
    accuracy_from: str = ""  # the literature prior the accuracy curves come from
    parts: list = field(default_factory=list)  # [{"part", "from", "source"}]

    @property
    def has_curves(self) -> bool:
        return bool(self.curves)

    @property
    def candidate_ns(self) -> list[int]:
        return sorted({iv.n for iv in self.intervals} | set(self.curves))

    @property
    def params_span(self) -> tuple[float, float]:
        """The parameter counts its N intervals cover (high is inf for an open last one)."""
        return self.intervals[0].low, self.intervals[-1].high

    def best_n(self, params: float) -> int:
        """The N of the interval holding `params`; budgets outside the intervals take the
        nearest one (the first below, the last above)."""
        params = float(params)
        if not (math.isfinite(params) and params > 0):
            raise AdvisorError(f"params = {params!r}: give a positive parameter budget.")
        for interval in self.intervals:
            if params < interval.high:
                return interval.n
        return self.intervals[-1].n

    def predict(self, n: int, params) -> Prediction | None:
        """Accuracy of an N-layer PhiNet with `params` parameters (float or array), or None
        when this prior has no fitted curve of its own for N (a published rule never predicts
        accuracy; literature curves do not steer the N rule: see `predict_accuracy`)."""
        curve = self.curves.get(int(n))
        if curve is None:
            return None
        return _prediction(
            curve,
            params,
            f"{SCALING_LAW}: {self.name} (N={curve.n}, generalized hyperbolic fit; "
            f"+/- = cross-validated RMSE)",
        )

    def predict_accuracy(self, n: int, params) -> Prediction | None:
        """The accuracy to show a user: this prior's own curve for N, else the literature
        curve of the same regime for N, else None."""
        if int(n) in self.curves:
            return self.predict(n, params)
        curve = self.accuracy_curves.get(int(n))
        if curve is None:
            return None
        return _prediction(
            curve,
            params,
            f"predicted: literature prior ({self.accuracy_from}, N={curve.n}: {curve.source})",
        )

    @property
    def predicts_accuracy(self) -> bool:
        return bool(self.curves or self.accuracy_curves)

    def not_covered(self, dataset=None, resolution=None) -> str | None:
        """Why a query lies outside this prior's regime (so no accuracy may be predicted for
        it), or None. An unknown dataset is taken to be the prior's."""
        mine = self.regime
        other_resolution = (
            resolution is not None
            and mine.get("resolution")
            and int(resolution) != int(mine["resolution"])
        )
        if other_resolution:
            return (
                f"prior {self.name} covers {mine.get('dataset', 'its dataset')} at "
                f"{mine['resolution']}x{mine['resolution']} only: no accuracy is predicted "
                f"at {resolution}x{resolution}"
            )
        if (
            dataset is not None
            and mine.get("dataset")
            and regime_key(dataset) != regime_key(mine["dataset"])
        ):
            return (
                f"prior {self.name} covers {mine['dataset']} only: no accuracy is predicted "
                f"for {dataset}"
            )
        return None

    def regime_mismatch(self, dataset=None, resolution=None, epochs=None) -> list[str]:
        """Warnings for each way a query's regime differs from this prior's."""
        warnings = []
        mine = self.regime
        if (
            dataset is not None
            and mine.get("dataset")
            and regime_key(dataset) != regime_key(mine["dataset"])
        ):
            warnings.append(
                f"prior '{self.name}' was measured on {mine['dataset']}, not {dataset}: its "
                "accuracies and N thresholds may not transfer."
            )
        resolution_differs = resolution is not None and mine.get("resolution")
        if resolution_differs and int(resolution) != int(mine["resolution"]):
            note = f" ({mine['image_size_note']})" if mine.get("image_size_note") else ""
            matching = [
                name
                for name, regime in _shipped_regimes().items()
                if name != self.name and regime.get("resolution") == int(resolution)
            ]
            hint = (
                f" A prior measured at {resolution}x{resolution} ships: --prior "
                + " or --prior ".join(matching)
                + "."
                if matching
                else ""
            )
            warnings.append(
                f"prior '{self.name}' was measured at {mine['resolution']}x{mine['resolution']}"
                f"{note}, not {resolution}x{resolution}: the best N per budget may differ.{hint}"
            )
        if (
            epochs is not None
            and mine.get("epochs")
            and abs(float(epochs) - float(mine["epochs"])) > EPOCHS_RTOL * float(mine["epochs"])
        ):
            warnings.append(
                f"prior '{self.name}' was measured after {mine['epochs']} epochs, not "
                f"{epochs}: accuracies and the best N depend on the schedule."
            )
        if warnings:
            warnings += [f"{c['text']} (source: {c['source']})" for c in self.caveats]
        return warnings

    def to_dict(self) -> dict:
        sources = self.interval_sources or [""] * len(self.intervals)
        return {
            "format": FORMAT,
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "regime": self.regime,
            "intervals": [
                {
                    "low": iv.low,
                    "high": None if math.isinf(iv.high) else iv.high,
                    "n": iv.n,
                    "source": text,
                }
                for iv, text in zip(self.intervals, sources)
            ],
            "curves": {str(n): c.to_dict() for n, c in sorted(self.curves.items())},
            "cv_rmse": self.cv_rmse,
            "caveats": self.caveats,
            "accuracy_curves": {
                str(n): c.to_dict() for n, c in sorted(self.accuracy_curves.items())
            },
            "accuracy_from": self.accuracy_from,
            "parts": self.parts,
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2) + "\n")
        return path


def _prediction(curve: Curve, params, source: str) -> Prediction:
    values = np.asarray(params, dtype=float)
    if np.any(~np.isfinite(values)) or np.any(values <= 0):
        raise AdvisorError(f"params = {params!r}: give positive parameter counts.")
    accuracy = np.clip(curve.accuracy(values), 0.0, 100.0)
    outside = (values < curve.params_low) | (values > curve.params_high)
    if np.any(outside):
        source += (
            f"; extrapolated outside the measured {curve.params_low:,.0f}-"
            f"{curve.params_high:,.0f} params"
        )
    if values.ndim == 0:
        return Prediction(float(accuracy), curve.std, source, bool(outside))
    return Prediction(accuracy, curve.std, source, outside)


def priors_dir() -> Path:
    return Path(str(resources.files("advisor.scaling") / "priors"))


def available_priors() -> dict[str, Path]:
    """Shipped priors: name (file stem) -> path."""
    return {p.stem: p for p in sorted(priors_dir().glob("*.json"))}


def _shipped_regimes() -> dict[str, dict]:
    """name -> regime of every shipped prior (read from the files, no fitting)."""
    return {
        name: json.loads(path.read_text()).get("regime", {})
        for name, path in available_priors().items()
    }


def load_prior(name_or_path: str | Path | None = None, accuracy_scale: str = "auto") -> Prior:
    """None: the default prior; a shipped prior's name; a prior JSON path; or a results file
    (CSV, JSON lines, SQLite store) to fit a prior from (read with ``accuracy_scale``, see
    :func:`load_results`)."""
    if name_or_path is None:
        return _load_json(_default_prior_path())
    path = Path(name_or_path)
    if path.is_file():
        if path.suffix.lower() == ".json" and _is_prior_json(path):
            return _load_json(path)
        if path.suffix.lower() in RESULT_SUFFIXES or path.suffix.lower() == "":
            table = load_results(path, accuracy_scale)
            return fit_prior(table, name=path.stem, regime=None)
        raise AdvisorError(f"{path}: not a prior JSON or a results file (.csv, .jsonl, .db).")
    shipped = available_priors()
    if str(name_or_path) in shipped:
        return _load_json(shipped[str(name_or_path)])
    raise AdvisorError(
        f"no prior named or at {str(name_or_path)!r}. Shipped priors: {', '.join(shipped)}; "
        "or give a path to a prior JSON or a results file."
    )


def fit_prior(
    results: ResultsTable | str | Path,
    name: str,
    regime: dict | None = None,
    folds: int = PRIOR_FOLDS,
    seed: int = 0,
) -> Prior:
    """Fit a generalized hyperbolic per N, its cross-validated RMSE as the uncertainty, and the
    study's smoothed segmentation of the fitted curves, into a measured prior."""
    table = results if isinstance(results, ResultsTable) else load_results(results)
    measured = table.regime()
    for key, value in (regime or {}).items():
        if key in measured and regime_key(value) != regime_key(measured[key]):
            raise AdvisorError(
                f"regime says {key} = {value!r} but {table.path} has {measured[key]!r}. "
                "Describe the regime the networks were trained in."
            )
    regime = {**measured, **(regime or {})}
    rng = np.random.default_rng(seed)
    minimum = math.ceil((len(MODELS[CURVE_MODEL].theta_names) + 1) / TRAIN_FRACTION)
    curves, fits, skipped = {}, {}, []
    for n, (params, accuracy) in table.by_n().items():
        if len(params) < minimum:
            skipped.append(f"N={n}: {len(params)} networks (need {minimum})")
            continue
        fit = fit_curve(CURVE_MODEL, params, accuracy)
        if not fit.ok:
            skipped.append(f"N={n}: fit failed ({fit.reason})")
            continue
        rmse, _ = fold_rmses(CURVE_MODEL, params, accuracy, split_indices(len(params), folds, rng))
        if not np.isfinite(rmse).any():
            skipped.append(f"N={n}: every cross-validation fold failed")
            continue
        fits[n] = fit
        curves[n] = Curve(
            n,
            fit.coefficients["a"],
            fit.coefficients["phi"],
            fit.coefficients["c"],
            float(np.nanmean(rmse)),
            float(params.min()),
            float(params.max()),
            len(params),
            f"fit to {len(params)} networks of {table.path}; std = mean RMSE of "
            f"{int(np.isfinite(rmse).sum())} of {folds} random 70/30 folds (seed {seed})",
        )
    if not curves:
        raise AdvisorError(
            f"{table.path}: no N could be fitted ({'; '.join(skipped)}). Add networks."
        )
    low, high = float(table.params.min()), float(table.params.max())
    intervals = segmentation.smooth(segmentation.segment_fits(fits, low, high))
    how = (
        f"segmentation of the fitted curves over {low:,.0f}-{high:,.0f} params "
        f"({segmentation.BUDGETS} log-spaced budgets, smoothing < "
        f"{segmentation.MIN_WIDTH_DECADES} decades), {table.path}"
    )
    source = (
        f"Measured: generalized hyperbolic fits per N to {len(table)} trained networks in "
        f"{table.path} (regime: {_regime_text(regime)}); uncertainty = cross-validated RMSE; "
        f"N intervals from the study's segmentation of the fitted curves."
    )
    if skipped:
        source += " Left out: " + "; ".join(skipped) + "."
    return Prior(
        name,
        source,
        regime,
        intervals,
        curves,
        kind="measured",
        interval_sources=[how] * len(intervals),
        path=str(table.path),
    )


def _default_prior_path() -> Path:
    shipped = available_priors()
    for path in shipped.values():
        if json.loads(path.read_text()).get("kind") == "measured":
            return path
    return shipped[PUBLISHED]


def _is_prior_json(path: Path) -> bool:
    try:
        return json.loads(path.read_bytes().decode("utf-8-sig")).get("format") == FORMAT
    except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
        return False


def _load_json(path: Path, combine: bool = True) -> Prior:
    """Read a prior file; with `combine`, also the prior it names for its accuracy
    ("accuracy_from")."""
    data = read_json(path, "prior file")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AdvisorError(f'{path}: not a prior file (expected "format": "{FORMAT}").')
    for key in ("name", "source", "regime"):
        if key not in data:
            raise AdvisorError(f"{path}: prior has no '{key}'. Add it (see advisor.scaling.prior).")
    extras = {"cv_rmse": data.get("cv_rmse", {}), "caveats": data.get("caveats", [])}
    if data.get("kind") == LITERATURE:
        return _literature(path, data, extras)
    if data.get("results"):
        results = (path.parent / data["results"]).resolve()
        fitted = fit_prior(results, data["name"], data["regime"])
        prior = Prior(
            fitted.name,
            f"{data['source']} {fitted.source}",
            fitted.regime,
            fitted.intervals,
            fitted.curves,
            kind=data.get("kind", "measured"),
            interval_sources=fitted.interval_sources,
            path=str(path),
            **extras,
        )
        return _with_accuracy_from(prior, data, path) if combine else prior
    if not data.get("intervals"):
        raise AdvisorError(f"{path}: prior has neither 'intervals' nor 'results'. Give one.")
    intervals, texts = [], []
    for row in data["intervals"]:
        high = math.inf if row.get("high") is None else float(row["high"])
        intervals.append(Interval(float(row.get("low") or 0.0), high, int(row["n"])))
        texts.append(row.get("source", ""))
    if any(a.high != b.low for a, b in itertools.pairwise(intervals)):
        raise AdvisorError(f"{path}: intervals must be sorted and contiguous (high == next low).")
    prior = Prior(
        data["name"],
        data["source"],
        data["regime"],
        intervals,
        _curves(path, data),
        kind=data.get("kind", "measured"),
        interval_sources=texts,
        path=str(path),
        **extras,
    )
    return _with_accuracy_from(prior, data, path) if combine else prior


def _literature(path: Path, data: dict, extras: dict) -> Prior:
    """A literature prior: its curves predict accuracy only; its N rule is the one of the
    prior of the same regime it names ("n_rule_from")."""
    if not data.get("n_rule_from"):
        raise AdvisorError(
            f"{path}: a literature prior picks no N itself; name the prior of the same "
            'regime whose N rule it uses ("n_rule_from").'
        )
    rule = _same_regime(data, data["n_rule_from"], path)
    prior = Prior(
        data["name"],
        data["source"],
        data["regime"],
        rule.intervals,
        kind=LITERATURE,
        interval_sources=rule.interval_sources,
        path=str(path),
        accuracy_curves=_curves(path, data),
        accuracy_from=data["name"],
        **extras,
    )
    return replace(prior, parts=_parts(rule, prior))


def _with_accuracy_from(prior: Prior, data: dict, path: Path) -> Prior:
    """`prior` with the accuracy curves of the literature prior it names, for every N it has
    no curve of its own."""
    if not data.get("accuracy_from"):
        return prior
    literature = _same_regime(data, data["accuracy_from"], path)
    prior = replace(
        prior,
        accuracy_curves={
            n: curve for n, curve in literature.accuracy_curves.items() if n not in prior.curves
        },
        accuracy_from=literature.name,
    )
    return replace(prior, parts=_parts(prior, prior))


def _curves(path: Path, data: dict) -> dict[int, Curve]:
    curves = {}
    for key, row in (data.get("curves") or {}).items():
        if row.get("model", CURVE_MODEL) != CURVE_MODEL:
            raise AdvisorError(f"{path}: curve N={key} is {row['model']!r}; only {CURVE_MODEL}.")
        curves[int(key)] = Curve(
            int(key),
            float(row["a"]),
            float(row["phi"]),
            float(row["c"]),
            float(row["std"]),
            float(row["params_low"]),
            float(row["params_high"]),
            int(row["n_points"]),
            row.get("source", ""),
        )
    return curves


def _same_regime(data: dict, name: str, path: Path) -> Prior:
    """The shipped prior `name`, loaded alone, after checking it shares `data`'s regime."""
    shipped = available_priors()
    if name not in shipped:
        raise AdvisorError(f"{path}: names prior {name!r}, which is not shipped.")
    other = _load_json(shipped[name], combine=False)
    regime = data["regime"]
    differences = other.regime_mismatch(
        regime.get("dataset"), regime.get("resolution"), regime.get("epochs")
    )
    if differences:
        raise AdvisorError(
            f"{path}: priors combine only within one regime, and {name} differs: "
            + " ".join(differences)
        )
    return other


def _parts(rule: Prior, accuracy: Prior) -> list[dict]:
    """Which part of a combined prior comes from which prior."""
    regime = _regime_text(rule.regime)
    parts: list[dict[str, str | None]] = [
        {
            "part": "N rule (best N per parameter budget)",
            "from": rule.name,
            "source": f"{rule.kind} prior, {regime}",
        }
    ]
    for n in sorted(set(rule.candidate_ns) | set(accuracy.curves) | set(accuracy.accuracy_curves)):
        if n in accuracy.curves:
            parts.append(
                {
                    "part": f"accuracy N={n}",
                    "from": accuracy.name,
                    "source": accuracy.curves[n].source,
                }
            )
        elif n in accuracy.accuracy_curves:
            parts.append(
                {
                    "part": f"accuracy N={n}",
                    "from": accuracy.accuracy_from,
                    "source": f"{LITERATURE}: {accuracy.accuracy_curves[n].source}",
                }
            )
        else:
            parts.append(
                {
                    "part": f"accuracy N={n}",
                    "from": None,
                    "source": "no curve in this regime: no prediction (nearest measured "
                    "networks instead)",
                }
            )
    return parts


def regime_key(value) -> str:
    """A regime value compared loosely: "CIFAR-10" == "cifar10", 160 == "160.0"."""
    return re.sub(r"[^a-z0-9.]", "", str(value).lower()).removesuffix(".0")


def _regime_text(regime: dict) -> str:
    return ", ".join(f"{k} {regime[k]}" for k in ("dataset", "resolution", "epochs") if k in regime)
