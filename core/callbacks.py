"""Progress reporting out of the engine.

The engine never knows who listens: the CLI draws a progress bar, the worker writes rows to
Postgres, tests record calls. Every method has a do-nothing default, so a listener overrides
only what it needs.
"""

from __future__ import annotations

from core.spec import TrialResult


class BuildCallbacks:
    """Base listener. Subclass and override; the engine calls these in this order:

    on_build_start → (on_phase, on_log, on_trial_end)* → on_build_end.
    `should_stop` is polled between steps and inside long trials; return True to cancel.
    """

    def on_build_start(self, *, budget_seconds: float, plan: dict) -> None: ...

    def on_phase(self, phase: str, *, share_of_budget_used: float) -> None: ...

    def on_trial_end(self, trial: TrialResult, *, share_of_budget_used: float) -> None: ...

    def on_log(self, message: str) -> None: ...

    def on_build_end(self, *, status: str, summary: dict) -> None: ...

    def should_stop(self) -> bool:
        return False


class RecordingCallbacks(BuildCallbacks):
    """Keeps every event in a list; handy for tests and for replaying into a database."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    def on_build_start(self, *, budget_seconds: float, plan: dict) -> None:
        self.events.append(("build_start", {"budget_seconds": budget_seconds, "plan": plan}))

    def on_phase(self, phase: str, *, share_of_budget_used: float) -> None:
        self.events.append(("phase", {"phase": phase, "share": share_of_budget_used}))

    def on_trial_end(self, trial: TrialResult, *, share_of_budget_used: float) -> None:
        self.events.append(("trial_end", {"trial": trial, "share": share_of_budget_used}))

    def on_log(self, message: str) -> None:
        self.events.append(("log", {"message": message}))

    def on_build_end(self, *, status: str, summary: dict) -> None:
        self.events.append(("build_end", {"status": status, "summary": summary}))
