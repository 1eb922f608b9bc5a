"""How well a table fits a brief, before a dataset is picked: the planner's own target
resolution on the table's stored profile, plus the inputs the brief mentions.

Used to rank a team's library of datasets for a new brief. It reads only a `DataProfile`
(column names, kinds, top values), never the rows: about 30 ms a table on this machine
(`python -m bench.library_bench`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.planning.brief import STOPWORDS, WORD, Brief, stem
from core.planning.column_names import name_words
from core.planning.target_scoring import score_columns
from core.planning.task_rules import propose_task
from core.spec import DataProfile, Finding

# Below this, a table is not shown as a fit at all: nothing in it answers the brief.
MIN_FIT = 0.25
# A table where only the target's kind fits (a yes/no column for a yes/no question, a
# column named like a target), with none of its words in the brief, is at most this good.
KIND_ONLY_FIT = 0.3
# How much each input column the brief mentions adds, and at most.
INPUT_WEIGHT = 0.08
MAX_INPUT_BONUS = 0.24


@dataclass
class DatasetFit:
    """The fit of one table to a brief: 0..1, the column it would predict, and why, in words."""

    score: float
    target: str | None = None
    task_type: str | None = None
    reasons: list[str] = field(default_factory=list)


def _brief_stems(brief: str) -> set[str]:
    return {stem(w.lower()) for w in WORD.findall(brief) if w.lower() not in STOPWORDS and len(w) > 2}


def mentioned_inputs(brief: str, profile: DataProfile, target: str | None) -> list[str]:
    """Columns other than the target whose name words the brief uses."""
    said = _brief_stems(brief)
    found = []
    for col in profile.column_profiles:
        if col.name == target:
            continue
        words = {stem(w) for w in name_words(col.name) if len(w) > 2}
        if words & said:
            found.append(col.name)
    return found


def _target_reason(proposal, profile: DataProfile) -> str:
    spec = proposal.spec
    col = profile.column(spec.target)
    if spec.task_type == "regression":
        kind = "a numeric"
    elif col.unique_count == 2:
        values = "/".join(str(v) for v, _ in col.top_values[:2])
        kind = f"a two-valued ({values})" if values else "a two-valued"
    else:
        kind = f"a {col.unique_count}-class"
    return f"has {kind} '{spec.target}' column to predict"


def _how_it_fits(brief: str, profile: DataProfile, target: str) -> str:
    """'words' when the brief's words name the target; 'kind' when only its kind of answer
    or a target-like name does; 'meaning' when only the word vectors' likeness does: topic,
    not the same quantity ("electricity demand" is near 'wage'), too loose to offer a table."""
    match = next((m for m in score_columns(Brief.read(brief), profile) if m.column.name == target),
                 None)
    if match is None or match.generic:
        return "kind"
    return "meaning" if match.by_meaning else "words"


def dataset_fit(brief: str, profile: DataProfile, findings: list[Finding] = ()) -> DatasetFit:
    """Score `profile` against `brief`: the planner's confidence in the target it would pick
    there (0 when it would pick none), plus a little for each input the brief mentions."""
    proposal = propose_task(brief, profile, list(findings))
    if proposal.spec is None:
        # an unresolved proposal may still have a best candidate: a weak fit, never a strong one
        best = proposal.candidates[0] if proposal.candidates else None
        if best is None or not best.score:
            return DatasetFit(0.0)
        score = min(0.3, 0.1 * float(best.score))
        return DatasetFit(round(score, 3), best.column, None,
                          [f"might predict '{best.column}' (the brief is not clear for this table)"])
    target = proposal.spec.target
    fits_by = _how_it_fits(brief, profile, target)
    if fits_by == "meaning":
        return DatasetFit(0.0)
    inputs = mentioned_inputs(brief, profile, target)
    bonus = min(MAX_INPUT_BONUS, INPUT_WEIGHT * len(inputs))
    reasons = [_target_reason(proposal, profile)]
    if inputs:
        shown = ", ".join(f"'{c}'" for c in inputs[:4]) + (" …" if len(inputs) > 4 else "")
        reasons.append(f"holds inputs the brief mentions ({shown})")
    score = min(1.0, 0.8 * proposal.confidence + bonus)
    if fits_by == "kind":
        score = min(score, KIND_ONLY_FIT)
        reasons[0] += ", but none of the brief's words name it"
    return DatasetFit(round(score, 3), proposal.spec.target, str(proposal.spec.task_type), reasons)
