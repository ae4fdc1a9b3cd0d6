"""Outcomes: what a check says about a metric, and what a step or scenario run ended with.

    Outcome        OK < EMPTY < WARNING < ERROR        a check's verdict (DESIGN.md §5)
    StepOutcome    SUCCESS < WARNING < FAILED < ABORTED a step's or a scenario's result

Both are ordered string enums: `worst(...)` returns the most severe member (the scenario outcome
is the worst step outcome; a run_checks step maps its checks' worst outcome with
`StepOutcome.from_checks`). EMPTY (the metric has no value) is distinct from ERROR (a hard bound
was crossed): it ranks above OK so it is never mistaken for a pass, below WARNING so it never
fails a run on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Self


class _Ordered(StrEnum):
    """A string enum whose members are ordered by their position in the class body."""

    @property
    def rank(self) -> int:
        return type(self)._member_names_.index(self._name_)  # no list of members per call

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank >= other.rank

    @classmethod
    def worst(cls, outcomes: Iterable[Self], default: Self | None = None) -> Self:
        """The most severe of `outcomes`; `default` (else the mildest member) when empty."""
        members = list(outcomes)
        if not members:
            return default if default is not None else next(iter(cls))
        return max(members, key=lambda m: m.rank)


class Outcome(_Ordered):
    """A check's verdict."""

    OK = "OK"
    EMPTY = "EMPTY"  # the metric has no value for this evaluation
    WARNING = "WARNING"  # a soft bound was crossed
    ERROR = "ERROR"  # a hard bound was crossed


class StepOutcome(_Ordered):
    """A step's (and, as the worst of its steps, a scenario's) result."""

    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    ABORTED = "ABORTED"

    @classmethod
    def from_checks(cls, outcomes: Iterable[Outcome]) -> StepOutcome:
        """A run_checks step: any ERROR → FAILED; else any WARNING → WARNING; else SUCCESS."""
        worst = Outcome.worst(outcomes)
        if worst is Outcome.ERROR:
            return cls.FAILED
        if worst is Outcome.WARNING:
            return cls.WARNING
        return cls.SUCCESS
