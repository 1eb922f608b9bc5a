"""The offline planner's written report, and the markdown pieces the model card reuses.

Every number comes from the engine's results in `context`; the rules here only choose which
numbers to show and which next steps to suggest. Any key may be missing: a section without
data says so instead of failing.
"""

from __future__ import annotations

from typing import Any

from core import metrics as metric_registry

TOP_FEATURES_SHOWN = 5
DOMINANT_FEATURE_SHARE = 0.5  # one column with half the importance is worth a leakage check
WIDE_INTERVAL_SHARE = 0.1  # an interval wider than this share of the value is imprecise
SMALL_TABLE_ROWS = 1000


def as_dict(value: Any) -> dict:
    """A pydantic model, dict or None as a plain dict."""
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return dict(value) if isinstance(value, dict) else {}


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _interval(ci: Any) -> tuple[float, float] | None:
    """Accept [low, high], (low, high) or {"low"/"lo", "high"/"hi"}."""
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and None not in ci:
        return float(ci[0]), float(ci[1])
    if isinstance(ci, dict):
        low, high = ci.get("low", ci.get("lo")), ci.get("high", ci.get("hi"))
        if low is not None and high is not None:
            return float(low), float(high)
    return None


def _greater_is_better(metric: str) -> bool | None:
    try:
        return metric_registry.greater_is_better(metric)
    except ValueError:  # unknown metric name: do not guess a direction
        return None


def main_metric(context: dict) -> str | None:
    spec = as_dict(context.get("spec"))
    metric = spec.get("metric") or context.get("metric")
    if metric:
        return str(metric)
    holdout = context.get("holdout_metrics") or {}
    return next(iter(holdout), None)


def beats_baseline(metric: str, model_value: Any, baseline_value: Any) -> bool | None:
    direction = _greater_is_better(metric)
    if direction is None or model_value is None or baseline_value is None:
        return None
    return model_value > baseline_value if direction else model_value < baseline_value


def metrics_table(holdout: dict | None, baseline: dict | None, intervals: dict | None, first: str | None = None) -> str:
    """Markdown table: metric, model, 95% interval, baseline (the main metric first)."""
    holdout, baseline, intervals = holdout or {}, baseline or {}, intervals or {}
    if not holdout:
        return "_No held-out metrics were recorded._"
    names = sorted(holdout, key=lambda n: (n != first, n))
    lines = ["| metric | model | 95% interval | naive baseline |", "|---|---|---|---|"]
    for name in names:
        ci = _interval(intervals.get(name))
        ci_text = f"{ci[0]:.4g} – {ci[1]:.4g}" if ci else "n/a"
        lines.append(f"| {name} | {_fmt(holdout.get(name))} | {ci_text} | {_fmt(baseline.get(name))} |")
    return "\n".join(lines)


def findings_lines(findings: Any) -> list[str]:
    out = []
    for finding in findings or []:
        item = as_dict(finding)
        severity = str(item.get("severity", "info"))
        columns = item.get("columns") or []
        where = f" ({', '.join(columns)})" if columns else ""
        out.append(f"- **{severity}**{where}: {item.get('message', '')}")
    return out


def top_features(explanation: dict | None, n: int = TOP_FEATURES_SHOWN) -> list[dict]:
    return list((explanation or {}).get("importance") or [])[:n]


def top_features_lines(explanation: dict | None, n: int = TOP_FEATURES_SHOWN) -> list[str]:
    items = top_features(explanation, n)
    if not items:
        return ["_No explanation was computed._"]
    space = (explanation or {}).get("space", "")
    unit = " (probability points)" if space == "probability" else ""
    lines = [f"{i}. `{item['column']}`: mean |SHAP| {item['mean_abs_shap']:.4g}{unit}" for i, item in enumerate(items, 1)]
    size = (explanation or {}).get("sample_size")
    if size:
        lines.append(f"\n_Computed on {size} rows._")
    return lines


def data_lines(context: dict) -> list[str]:
    spec = as_dict(context.get("spec"))
    profile = as_dict(context.get("profile"))
    rows = context.get("rows") or {}
    lines = []
    if profile.get("rows") is not None:
        lines.append(f"- Table: {profile['rows']} rows, {profile.get('columns', 'n/a')} columns.")
    if isinstance(rows, dict) and rows.get("train") is not None:
        lines.append(f"- Trained on {rows['train']} rows; measured on {rows.get('test', 'n/a')} held-out rows.")
    if spec.get("target"):
        metric = spec.get("metric") or main_metric(context)
        lines.append(f"- Target: `{spec['target']}` ({spec.get('task_type', 'n/a')})"
                     + (f", metric `{metric}`." if metric else "."))
    features = spec.get("feature_columns") or []
    if features:
        lines.append(f"- {len(features)} input column(s): " + ", ".join(f"`{c}`" for c in features[:20])
                     + (" …" if len(features) > 20 else ""))
    for excluded in spec.get("excluded") or []:
        detail = f": {excluded['detail'].rstrip('.')}" if excluded.get("detail") else ""
        lines.append(f"- Left out `{excluded['column']}` ({excluded['reason']}){detail}.")
    return lines or ["_No data summary was recorded._"]


def verdict(context: dict) -> str:
    """One sentence: how the model compares with the naive baseline on the main metric."""
    metric = main_metric(context)
    holdout = context.get("holdout_metrics") or {}
    baseline = context.get("baseline_metrics") or {}
    if not metric or holdout.get(metric) is None:
        return "No held-out score was recorded, so how good the model is is unknown."
    model_value, base_value = holdout.get(metric), baseline.get(metric)
    better = beats_baseline(metric, model_value, base_value)
    ci = _interval((context.get("confidence_intervals") or {}).get(metric))
    ci_text = f" (95% interval {ci[0]:.4g} – {ci[1]:.4g})" if ci else ""
    text = f"On held-out rows the model scores {metric} = {model_value:.4g}{ci_text}"
    if base_value is None:
        return text + "; no baseline was recorded."
    if better is None:
        return text + f" against {base_value:.4g} for the naive baseline."
    word = "better than" if better else "NOT better than"
    return text + f", {word} the naive baseline's {base_value:.4g}."


def suggestions(context: dict) -> list[str]:
    """Concrete next steps, chosen by rules from the results."""
    out = []
    metric = main_metric(context)
    holdout = context.get("holdout_metrics") or {}
    baseline = context.get("baseline_metrics") or {}
    if metric and beats_baseline(metric, holdout.get(metric), baseline.get(metric)) is False:
        out.append("The model does not beat the naive baseline: check that the target is the "
                   "column you meant and that the inputs can explain it; more rows or better "
                   "columns are needed before this model is useful.")
    ci = _interval((context.get("confidence_intervals") or {}).get(metric or ""))
    value = holdout.get(metric or "")
    if ci and value and abs(ci[1] - ci[0]) > WIDE_INTERVAL_SHARE * abs(value):
        out.append("The confidence interval is wide: the held-out set is small, so collect more "
                   "labelled rows before relying on the exact figure.")
    rows = as_dict(context.get("profile")).get("rows")
    if rows is not None and rows < SMALL_TABLE_ROWS:
        out.append(f"Only {rows} rows were available; models usually improve noticeably with more.")
    items = top_features(context.get("explanation"), n=1000)
    total = sum(i["mean_abs_shap"] for i in items)
    if items and total > 0 and items[0]["mean_abs_shap"] / total > DOMINANT_FEATURE_SHARE:
        out.append(f"`{items[0]['column']}` carries more than half of the model's importance: "
                   "make sure it is known at prediction time and is not a proxy for the target.")
    warnings = [as_dict(f) for f in context.get("findings") or [] if str(as_dict(f).get("severity")) == "warning"]
    if warnings:
        out.append(f"Review the {len(warnings)} data-check warning(s) above; fixing them at the "
                   "source usually helps more than tuning.")
    failed = [t for t in context.get("leaderboard") or [] if as_dict(t).get("status") == "failed"]
    if failed:
        out.append(f"{len(failed)} trial(s) failed; their errors are on the leaderboard.")
    leaderboard = context.get("leaderboard") or []
    if 0 < len(leaderboard) < 5:
        out.append("Few candidates were tried: a larger time budget lets the search refine more.")
    return out or ["No obvious weak spot: next, compare with a fresh sample of data over time."]


def reliability_lines(reliability: dict | None) -> list[str]:
    """How sure each prediction is, in words: the intervals' or sets' promise beside what the
    held-out rows showed, and whether the probabilities needed calibrating."""
    reliability = reliability or {}
    conformal, holdout = reliability.get("conformal") or {}, reliability.get("holdout") or {}
    lines = []
    shown = holdout.get("coverage") or {}
    default = shown.get(f"{reliability.get('coverage_default', 0.9):.2f}")
    if conformal and default:
        level = f"{default['promised']:.0%}"
        if conformal.get("kind") == "interval":
            lines.append(f"- Each prediction comes with a {level} interval (`lower`, `upper`, "
                         f"±{default['quantile']:.4g}); {level} intervals covered "
                         f"{default['covered']:.1%} of {holdout.get('rows', 'the')} held-out rows.")
        else:
            lines.append(f"- Each prediction comes with a {level} prediction set (`set`); {level} sets "
                         f"held the true class for {default['covered']:.1%} of "
                         f"{holdout.get('rows', 'the')} held-out rows, with "
                         f"{default['mean_set_size']:.2f} classes on average "
                         f"({default['single_class_share']:.0%} of the sets are a single class).")
        lines.append(f"- Calibrated on {conformal.get('rows')} rows the models never trained on "
                     f"({conformal.get('method')}); other coverages from "
                     f"{conformal['levels'][0]:.0%} to {conformal['levels'][-1]:.0%} are available.")
    calibration, calibrator = holdout.get("calibration"), reliability.get("calibrator") or {}
    if calibration:
        before, after = calibration["before"], calibration["after"]
        if calibrator.get("kind", "none") == "none":
            lines.append(f"- Probabilities are used as the model gives them (held-out expected "
                         f"calibration error {before['ece']:.3f}, log loss {before['log_loss']:.4f}): "
                         f"{calibrator.get('why', 'no calibrator helped on validation rows')}.")
        else:
            lines.append(f"- Probabilities are recalibrated ({calibrator['kind']}, chosen on "
                         f"out-of-fold rows): held-out log loss {before['log_loss']:.4f} → "
                         f"{after['log_loss']:.4f}, expected calibration error {before['ece']:.3f} → "
                         f"{after['ece']:.3f}."
                         + (" The class predicted is decided on the recalibrated probabilities, "
                            "and the held-out metrics are theirs."
                            if holdout.get("metrics_after_calibrator") else ""))
    if reliability.get("drift") or reliability.get("drift_columns"):
        lines.append("- Batch predictions compare each file with the training data (ranges, unseen "
                     "categories, missing values, distributions) and say when it looks different.")
    return lines
def failure_lines(failures: dict | None) -> list[str]:
    """Where the model fails on held-out rows and how it copes with messy input, in words,
    with the fixes the stress test suggests (see `core.trust`)."""
    from core.trust.failures import failure_sentences
    from core.trust.stress import stress_sentences, stress_suggestions

    if not failures:
        return ["_No failure analysis was recorded._"]
    stress = failures.get("stress") or {}
    lines = [f"- {s}" for s in failure_sentences(failures) + stress_sentences(stress)]
    fixes = stress.get("suggestions") or (stress_suggestions(stress) if stress else [])
    if fixes:
        lines += ["", "Fixes the stress test suggests:", "", *[f"- {s}" for s in fixes]]
    return lines or ["_The failure analysis found nothing to report._"]


def floor_lines(ensemble: dict | None) -> list[str]:
    """Why the first candidates' choice shipped though a refinement validated better."""
    floor = as_dict(as_dict(ensemble).get("floor"))
    if not floor.get("kept"):
        return []
    share = float(floor.get("confidence", 0))
    first = "the plan's first candidates (with the offline plan, each model's proven defaults)"
    if float(floor.get("refined_score") or 0) <= float(floor.get("floor_score") or 0):
        return [(f"The choice among {first} validated better than the one with refinements, "
                 "so it ships.")]
    return [(f"A refinement validated better, but beat {first} on only {share:.0%} of bootstrap "
             "samples of the validation rows: a win that small is likely chance, so the first "
             "candidates' choice ships.")]


def template_report(context: dict) -> str:
    """Markdown report: what was built, how good it is, what the checks found, next steps."""
    context = context or {}
    spec = as_dict(context.get("spec"))
    target = spec.get("target") or context.get("target") or "the target"
    brief = str(context.get("brief") or "").strip()
    leaderboard = [as_dict(t) for t in context.get("leaderboard") or []]
    ok = [t for t in leaderboard if t.get("status") == "ok"]
    best = max(ok, key=lambda t: t.get("score") if t.get("score") is not None else float("-inf"), default=None)
    parts = [f"# Model for `{target}`", ""]
    if brief:
        parts += [f"> {brief}", ""]
    parts += ["## What was built", ""]
    built = f"A {spec.get('task_type', '')} model predicting `{target}`".replace("A  ", "A ")
    if best:
        built += f"; the best single candidate was `{best.get('estimator')}`"
    if leaderboard:
        built += f", out of {len(leaderboard)} trial(s)"
    parts += [built + ".", *floor_lines(context.get("ensemble")), ""]
    parts += ["## How good it is", "", verdict(context), "",
              metrics_table(context.get("holdout_metrics"), context.get("baseline_metrics"),
                            context.get("confidence_intervals"), main_metric(context)), ""]
    parts += ["## Data", "", *data_lines(context), ""]
    findings = findings_lines(context.get("findings"))
    parts += ["## Data checks", "", *(findings or ["No data check raised a concern."]), ""]
    parts += ["## What drives the predictions", "", *top_features_lines(context.get("explanation")), ""]
    sure = reliability_lines(context.get("reliability"))
    if sure:
        parts += ["## How sure each prediction is", "", *sure, ""]
    if context.get("failures"):
        parts += ["## Where it fails", "", *failure_lines(context.get("failures")), ""]
    parts += ["## Suggested next steps", "", *[f"- {s}" for s in suggestions(context)], ""]
    return "\n".join(parts)
