"""The pre-training review: each graded column with its evidence and a use / leave-out switch."""

from __future__ import annotations

import streamlit as st

from .formatting import plain, val
from .plan_editor import plan_parts

_GRADE_ORDER = {"certain leak": 0, "suspect": 1, "strong but plausible": 2}


def _evidence_words(evidence: dict) -> str:
    numbers = []
    if "auc" in evidence:
        numbers.append(f"AUC {evidence['auc']:.3f}")
    if "agreement" in evidence:
        numbers.append(f"agreement {evidence['agreement']:.1%}")
    if "majority" in evidence:
        numbers.append(f"always guessing the commonest class agrees {evidence['majority']:.1%}")
    if "r2" in evidence:
        numbers.append(f"R² {evidence['r2']:.3f}")
    signs = evidence.get("signs") or []
    numbers.append(f"{len(signs)} sign(s) of a leak besides its power" if signs else
                   "no other sign of a leak")
    return "; ".join(numbers)


def review_section(plan: dict | None, *, key: str, disabled: bool = False) -> dict | None:
    """The pre-training review as one section of the plan: each graded column with its
    evidence and a use / leave-out switch. Returns the spec fields to change when a switch
    was flipped (restored suspects, columns the user leaves out), else None."""
    spec, _ = plan_parts(plan)
    graded = [f for f in (plan or {}).get("findings") or [] if val(f, "grade")]
    st.markdown("**Review before training**")
    validation = spec.get("validation") or {}
    for note in spec.get("review_notes") or []:  # names columns: data, shown as written
        st.caption(plain(note))
    if not graded:
        st.caption("No column predicts the target suspiciously well on its own.")
        return None
    features = list(spec.get("feature_columns") or [])
    excluded = {e["column"]: e for e in spec.get("excluded") or []}
    restored = list(spec.get("restored") or [])
    change = None
    for finding in sorted(graded, key=lambda f: _GRADE_ORDER.get(str(val(f, "grade")), 3)):
        grade = str(val(finding, "grade"))
        for column in val(finding, "columns") or []:
            used = column in features
            box = {"certain leak": st.error, "suspect": st.warning}.get(grade, st.info)
            state = " · put back by you" if column in restored else ""
            box(f"**{plain(column)}** · {grade}{state}  \n{plain(val(finding, 'message', ''))}"
                f"  \n*Evidence:* {plain(_evidence_words(val(finding, 'evidence') or {}))}")
            wanted = st.toggle(
                f"Use '{plain(column)}' as an input",
                value=used,
                key=f"{key}-review-{column}",
                disabled=disabled or grade == "certain leak",
                help=("A certain leak always stays out." if grade == "certain leak" else
                      "Put it back only if its value is known when you predict."),
            )
            if wanted != used and change is None:
                change = _review_change(spec, column, wanted, grade, features, excluded, restored)
    if validation.get("kind") in ("group", "time"):
        st.caption(f"Held-out rows and folds: {validation['kind']} split on "
                   f"'{plain(validation.get('column'))}'.")
    return change


def _review_change(spec: dict, column: str, wanted: bool, grade: str, features: list,
                   excluded: dict, restored: list) -> dict:
    if wanted:
        return {
            "restored": [*restored, column] if grade == "suspect" else restored,
            "feature_columns": [*features, column],
            "excluded": [e for c, e in excluded.items() if c != column],
        }
    return {
        "restored": [c for c in restored if c != column],
        "feature_columns": [c for c in features if c != column],
        "excluded": [*excluded.values(), {"column": column, "reason": "left out by the user",
                                          "detail": "Left out in the review."}],
    }
