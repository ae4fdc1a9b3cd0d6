"""Mergeable per-column profiles and drift computed from them (pure: no store, no Prefect)."""

from scenarist.profiles.profile import (
    BatchProfile,
    CategoryCounts,
    merge_profiles,
    profile_batches,
    profile_frame,
    rank_error,
)
from scenarist.profiles.window import ProfileDrift, window_drift

__all__ = [
    "BatchProfile",
    "CategoryCounts",
    "ProfileDrift",
    "merge_profiles",
    "profile_batches",
    "profile_frame",
    "rank_error",
    "window_drift",
]
