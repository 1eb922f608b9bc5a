"""The offline planner's task rules: from a brief and a data profile to a `TaskProposal`.

This is the entry (`propose_task`); the parts live in their own modules:

- `core.planning.brief`: the brief read as an outcome phrase, input phrases and an answer type;
- `core.planning.column_names`: column names as words (compounds, abbreviations, initials);
- `core.planning.target_scoring`: every column scored, the confidence and the runner-up;
- `core.planning.task_type`: task type, metric and positive class once the target is known;
- here: the exclusions (which `core.checks` and `validate.py` also use) and the proposal.

The brief is only ever read as words: whatever it says, it can only fail to match or match a
column. When no column matches, or two match about equally, the proposal says so, with how
sure it is and the candidates, instead of guessing.
"""

from __future__ import annotations

import numpy as np

from core.planning.brief import Brief, requests_in
from core.planning.target_scoring import (
    AMBIGUITY_RATIO,
    ASK_BELOW,
    MAX_CANDIDATES,
    MIN_TARGET_SCORE,
    Match,
    confidence,
    named_like_an_id,
    plausible_targets,
    rivals_of_named,
    score_columns,
    unusable_target,
)
from core.planning.task_type import (
    METRIC_WORDS,
    choose_metric,
    choose_positive_class,
    task_type_from_profile,
)
from core.spec import (
    ColumnProfile,
    ColumnRole,
    DataProfile,
    Exclusion,
    ExclusionReason,
    Finding,
    TargetCandidate,
    TaskProposal,
    TaskSpec,
    TaskType,
)

_EXCLUSION_BY_CHECK = {
    "identifier": ExclusionReason.IDENTIFIER,
    "constant": ExclusionReason.CONSTANT,
    "empty_column": ExclusionReason.EMPTY,
    "target_transform": ExclusionReason.LEAKAGE_SUSPECT,
    "single_feature_leakage": ExclusionReason.LEAKAGE_SUSPECT,
    "leakage_suspect": ExclusionReason.LEAKAGE_SUSPECT,
    "pair_leakage": ExclusionReason.LEAKAGE_SUSPECT,
}


# --------------------------------------------------------------------------- exclusions


def exclusions_for(
    profile: DataProfile, findings: list[Finding], target: str, restored: list[str] = ()
) -> list[Exclusion]:
    """Columns left out by default, each with a reason: check findings first, then roles.

    `restored`: leakage suspects the user put back; only a suspect can be put back (a
    certain leak, an identifier or a constant stays out)."""
    excluded: dict[str, Exclusion] = {}
    kept = kept_for_order(findings, target)
    for finding in findings:
        if not finding.excluded_by_default or finding.target not in (None, target):
            continue
        reason = _EXCLUSION_BY_CHECK.get(finding.check, ExclusionReason.PLANNER_CHOICE)
        for column in finding.columns:
            if finding.restorable and column in restored:
                continue
            if column != target and column not in excluded:
                excluded[column] = Exclusion(
                    column=column, reason=reason, detail=finding.message, grade=finding.grade
                )
    for col in profile.column_profiles:
        if col.name == target or col.name in excluded:
            continue
        if col.missing_share >= 1:
            excluded[col.name] = Exclusion(
                column=col.name, reason=ExclusionReason.EMPTY, detail="Every value is missing."
            )
        elif col.role is ColumnRole.CONSTANT:
            excluded[col.name] = Exclusion(
                column=col.name, reason=ExclusionReason.CONSTANT, detail="Same value on every row."
            )
        elif col.role is ColumnRole.IDENTIFIER and col.name not in kept:
            excluded[col.name] = Exclusion(
                column=col.name,
                reason=ExclusionReason.IDENTIFIER,
                detail="A different value on almost every row, like a name or an ID.",
            )
    for column, how in transforms_in_profile(profile, target):
        if column not in excluded:
            excluded[column] = Exclusion(
                column=column,
                reason=ExclusionReason.LEAKAGE_SUSPECT,
                detail=f"Its summary matches {how} of '{target}', so it is a copy of the target.",
            )
    return list(excluded.values())


_TRANSFORMS = {
    "the log": np.log,
    "the base-10 log": np.log10,
    "log(1 + x)": np.log1p,
    "the square root": np.sqrt,
}
_TRANSFORM_TOLERANCE = 1e-3


def transforms_in_profile(profile: DataProfile, target: str) -> list[tuple[str, str]]:
    """Numeric columns whose summary is a transform of the target's: (column, which transform).

    Works from the profile alone, so the planner catches copies of the target even when the
    target-dependent checks have not run yet. Monotone transforms keep the median at the
    median; a rescaling also keeps the mean at the mean. Both are checked with the extremes.
    """
    try:
        y = profile.column(target)
    except KeyError:
        return []
    if y.role is not ColumnRole.NUMERIC or None in (y.min, y.max, y.median, y.mean):
        return []
    y_stats = np.array([y.min, y.max, y.median], dtype="float64")
    found = []
    for col in profile.column_profiles:
        if col.name == target or col.role is not ColumnRole.NUMERIC or col.median is None:
            continue
        if abs(col.missing_share - y.missing_share) > 0.01 or col.unique_count != y.unique_count:
            continue  # a transform keeps one value per target value
        x_stats = np.array([col.min, col.max, col.median], dtype="float64")
        how = _matching_transform(y_stats, x_stats) or _matching_rescale(y, col)
        if how:
            found.append((col.name, how))
    return found


def _matching_transform(y_stats: np.ndarray, x_stats: np.ndarray) -> str:
    scale = max(1.0, float(np.abs(x_stats).max()))
    with np.errstate(all="ignore"):
        for how, fn in _TRANSFORMS.items():
            mapped = fn(y_stats)
            if np.all(np.isfinite(mapped)) and np.all(
                np.abs(mapped - x_stats) <= _TRANSFORM_TOLERANCE * scale
            ):
                return how
    return ""


def _matching_rescale(y: ColumnProfile, x: ColumnProfile) -> str:
    if y.max == y.min or x.mean is None:
        return ""
    slope = (x.max - x.min) / (y.max - y.min)
    if slope == 0:
        return ""
    offset = x.min - slope * y.min
    scale = max(1.0, abs(x.max), abs(x.min))
    close = all(
        abs(slope * a + offset - b) <= _TRANSFORM_TOLERANCE * scale
        for a, b in ((y.median, x.median), (y.mean, x.mean))
    )
    return "a rescaled copy" if close else ""


def kept_for_order(findings: list[Finding], target: str) -> set[str]:
    """Identifiers whose numbers alone predict `target` (`core.checks._ordered_identifier`):
    used as features, not left out."""
    return {c for f in findings if f.check == "ordered_identifier" and f.target == target
            for c in f.columns}


def with_kept_identifiers(spec: TaskSpec, findings: list[Finding]) -> TaskSpec:
    """The spec with the identifiers kept for their order among its features (when only the
    default identifier exclusion left them out: a user's own exclusion stands)."""
    kept = {e.column for e in spec.excluded if e.reason is ExclusionReason.IDENTIFIER} & \
        kept_for_order(findings, spec.target)
    if not kept:
        return spec
    return spec.model_copy(update={
        "excluded": [e for e in spec.excluded if e.column not in kept],
        "feature_columns": [*spec.feature_columns, *sorted(kept - set(spec.feature_columns))]})


def spec_with_findings(spec: TaskSpec, profile: DataProfile, findings: list[Finding]) -> TaskSpec:
    """The spec with the exclusions that `findings` (e.g. target-dependent checks run after the
    target was chosen) add; those columns leave feature, text and datetime columns. An
    identifier the target checks keep for its order joins the features."""
    spec = with_kept_identifiers(spec, findings)
    known = {e.column: e for e in spec.excluded}
    added = []
    for exclusion in exclusions_for(profile, findings, spec.target, spec.restored):
        if exclusion.column not in known:
            known[exclusion.column] = exclusion
            added.append(exclusion)
    out = set(known)
    rationale = spec.rationale
    if added:
        shown = "; ".join(f"'{e.column}' ({e.reason.value})" for e in added)
        rationale = f"{rationale} The checks on the target also leave out: {shown}.".strip()
    return spec.model_copy(
        update={
            "rationale": rationale,
            "excluded": list(known.values()),
            "feature_columns": [c for c in spec.feature_columns if c not in out],
            "text_columns": [c for c in spec.text_columns if c not in out],
            "datetime_columns": [c for c in spec.datetime_columns if c not in out],
        }
    )


# --------------------------------------------------------------------------- the proposal


def propose_task(brief: str, profile: DataProfile, findings: list[Finding]) -> TaskProposal:
    """Target, task type, metric, positive class and exclusions for `brief`, with how sure
    the planner is and the runner-up; or, below `ASK_BELOW`, the question and the candidates."""
    words = Brief.read(brief)
    if not words.text:
        return _unresolved(
            "The brief is empty. Say in a sentence what to predict, for example "
            "'Predict which customers will cancel'.",
            plausible_targets(profile),
        )
    matches = score_columns(words, profile)
    named = [m for m in matches if m.named]
    chosen = named[0] if len(named) == 1 else matches[0] if matches and not named else None
    rivals = rivals_of_named(words, chosen.column.name, profile) if chosen else []
    if rivals:  # "predict income or balance", "Balance but not Balance": contradictory
        named = [chosen, *[m for m in matches if m.column.name in rivals and m is not chosen]]
        named = named if len(named) > 1 else named * 2
    if len(named) > 1:
        named = list({m.column.name: m for m in named}.values())
        shown = ", ".join(f"'{m.column.name}'" for m in named)
        question = (
            f"The brief names more than one column to predict ({shown}). Say which one."
            if len(named) > 1
            else f"The brief both asks for {shown} and rules it out. Say what to predict."
        )
        options = _candidates(named) + plausible_targets(profile)[:2]
        return _unresolved(question, list({c.column: c for c in options}.values()))
    two = _two_requests(words, profile)
    if two:
        shown = ", ".join(f"'{m.column.name}'" for m in two)
        return _unresolved(
            f"The brief asks for two things ({shown}); a model predicts one. Say which one.",
            _candidates(two),
        )
    best = matches[0] if matches else None
    runner_up = matches[1] if len(matches) > 1 else None
    sure = confidence(best, runner_up) if best is not None else 0.0
    if words.hedged:
        sure = min(sure, ASK_BELOW / 2)
    unusable = _unusable_named(best, named, matches)
    if unusable:
        return TaskProposal(
            spec=None, message=unusable, candidates=plausible_targets(profile), confidence=sure
        )
    if best is None or best.score < MIN_TARGET_SCORE:
        return _unresolved(
            "No column matches what the brief asks to predict. Name the column to predict, "
            "or pick one of the candidates.",
            _with_plausible(_weak_matches(matches), profile),
            sure,
        )
    if sure < ASK_BELOW:
        rivals = [best, *[m for m in matches[1:] if m.score >= _rival_score(best)]]
        if len(rivals) == 1:  # one column, on too little evidence: offer the next ones too
            return _unresolved(
                f"The brief points at '{best.column.name}' only loosely ({best.reasons[0]}). "
                "Say which column to predict.",
                _with_plausible([best, *_weak_matches(matches[1:])], profile),
                sure,
            )
        shown = ", ".join(f"'{m.column.name}'" for m in rivals)
        return _unresolved(
            f"The brief matches more than one column about equally ({shown}). "
            "Say which one to predict.",
            _candidates(rivals),
            sure,
        )
    proposal = _proposal_for(best, words, profile, findings)
    return proposal.model_copy(
        update={
            "confidence": sure,
            "runner_up": runner_up.candidate() if runner_up is not None else None,
        }
    )


def _two_requests(words: Brief, profile: DataProfile) -> list[Match]:
    """The best columns of two requests in one brief, when they differ; [] otherwise."""
    parts = requests_in(words.text)
    if len(parts) < 2:
        return []
    bests = []
    for part in parts:
        matches = score_columns(Brief.read(part), profile)
        if not matches or matches[0].score < MIN_TARGET_SCORE:
            return []
        bests.append(matches[0])
    return bests if bests[0].column.name != bests[1].column.name else []


def _rival_score(best: Match) -> float:
    return AMBIGUITY_RATIO * best.score


def _unusable_named(best: Match | None, named: list[Match], matches: list[Match]) -> str:
    """The brief names (or clearly means) a column that cannot be a target: say why."""
    if named:
        return unusable_target(named[0].column) or named_like_an_id(named[0].column)
    top = max(matches, key=lambda m: m.unpenalised, default=None)
    if top is None or not unusable_target(top.column) or top.unpenalised < MIN_TARGET_SCORE:
        return ""
    if best is None or best.score < MIN_TARGET_SCORE or best is top:
        return unusable_target(top.column)
    return ""


def _weak_matches(matches: list[Match]) -> list[Match]:
    return [m for m in matches if m.score >= MIN_TARGET_SCORE * 0.5]


def _with_plausible(matches: list[Match], profile: DataProfile) -> list[TargetCandidate]:
    """The matches as candidates, then columns a user would likely predict, so that the
    question always offers a choice."""
    options = _candidates(matches) + plausible_targets(profile)
    return list({c.column: c for c in options}.values())[:MAX_CANDIDATES]


def _candidates(matches: list[Match]) -> list[TargetCandidate]:
    return [m.candidate() for m in matches[:MAX_CANDIDATES]]


def _unresolved(message: str, candidates: list[TargetCandidate], sure: float = 0.0) -> TaskProposal:
    return TaskProposal(
        spec=None,
        ambiguous=True,
        message=message,
        candidates=candidates,
        confidence=min(sure, ASK_BELOW - 0.01) if sure else 0.0,
        runner_up=candidates[1] if len(candidates) > 1 else None,
    )


def _proposal_for(
    best: Match, words: Brief, profile: DataProfile, findings: list[Finding]
) -> TaskProposal:
    target = best.column
    problem = unusable_target(target)
    if problem:
        return TaskProposal(
            spec=None, ambiguous=False, message=problem, candidates=_candidates([best])
        )
    task_type = task_type_from_profile(target, words.text)
    metric, metric_why = choose_metric(words.text, task_type)
    positive, positive_why = (None, "")
    if task_type is TaskType.BINARY:
        positive, positive_why = choose_positive_class(target, words)
    excluded = exclusions_for(profile, findings, target.name)
    out = {e.column for e in excluded} | {target.name}
    features = [c for c in profile.column_profiles if c.name not in out]
    spec = TaskSpec(
        target=target.name,
        task_type=task_type,
        metric=metric,
        positive_class=positive,
        feature_columns=[c.name for c in features],
        excluded=excluded,
        text_columns=[c.name for c in features if c.role is ColumnRole.TEXT],
        datetime_columns=[c.name for c in features if c.role is ColumnRole.DATETIME],
    )
    spec.rationale = _rationale(spec, best.reasons, target, metric_why, positive_why)
    message = (
        ""
        if spec.feature_columns
        else (
            "Every other column is left out, so there is nothing to learn from; put a column back "
            "or upload more columns."
        )
    )
    return TaskProposal(spec=spec, message=message, candidates=_candidates([best]))


def _rationale(
    spec: TaskSpec, reasons: list[str], target: ColumnProfile, metric_why: str, positive_why: str
) -> str:
    parts = [f"Target '{spec.target}': {'; '.join(reasons)}."]
    if spec.task_type is TaskType.REGRESSION:
        parts.append(
            f"Task: regression, because '{spec.target}' holds numbers ({target.unique_count:,} distinct values)."
        )
    else:
        shown = ", ".join(f"'{v}'" for v, _ in target.top_values[:5])
        parts.append(
            f"Task: {spec.task_type.value} classification, because '{spec.target}' has "
            f"{target.unique_count} distinct values ({shown}{', ...' if target.unique_count > 5 else ''})."
        )
    parts.append(f"Metric: {METRIC_WORDS.get(spec.metric, spec.metric)}, {metric_why}.")
    if spec.positive_class is not None:
        parts.append(f"Positive class: '{spec.positive_class}', because {positive_why}.")
    if spec.excluded:
        shown = "; ".join(f"'{e.column}' ({e.reason.value})" for e in spec.excluded[:10])
        more = f" and {len(spec.excluded) - 10} more" if len(spec.excluded) > 10 else ""
        parts.append(f"Left out: {shown}{more}.")
    return " ".join(parts)
