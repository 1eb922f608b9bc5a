"""Errors the engine raises for the user. Each message says what is wrong and what to do."""


class BriefmlError(ValueError):
    """Base class: a problem with the user's input, worded for the user."""


class DataError(BriefmlError):
    """The table cannot be read or cannot be trained on as it is."""


class PlanError(BriefmlError):
    """A brief or a plan cannot be turned into a valid task or search."""


class BundleError(BriefmlError):
    """A bundle is damaged, tampered with or from an incompatible version."""


class TargetUnclearError(PlanError):
    """The brief does not say clearly what to predict; `candidates` are the columns to pick from."""

    def __init__(self, message: str, question: str = "", candidates: list[str] | None = None):
        super().__init__(message)
        self.question = question or message
        self.candidates = list(candidates or [])


def invalid_plan(exc) -> PlanError:
    """A pydantic ValidationError about a plan (edited by a user or an LLM) as one sentence
    naming each wrong field."""
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return PlanError(f"The plan is not valid: {problems}. Fix these fields and save again.")
