"""Losses, penalties and penalty schedules."""
from .losses import LOSSES, Loss
from .penalties import PENALTIES, Penalty, PenaltyResult, build_penalty
from .schedules import SCHEDULES, Decision, Observation, Schedule, build_schedule

__all__ = ["LOSSES", "Loss", "PENALTIES", "Penalty", "PenaltyResult", "build_penalty",
           "SCHEDULES", "Schedule", "Observation", "Decision", "build_schedule"]
