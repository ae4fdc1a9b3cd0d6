"""DataRobot's keyword names accepted beside scenarist's own (issue 18).

    get_service_stats = time_aliases(queries.get_service_stats)
    dep.get_service_stats(start_time=..., end_time=...)   # same as start=..., end=...

`keyword_aliases(native="alias", ...)` wraps a function so each alias is accepted as a keyword
for its native parameter; giving both (by keyword, or the native one by position) is a
TypeError naming both. The wrapper's signature shows the aliases as keyword-only parameters.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def keyword_aliases(**aliases: str) -> Callable[[F], F]:
    """A decorator accepting `alias=` for each `native=` of `aliases` (native → alias)."""

    def decorate(function: F) -> F:
        signature = inspect.signature(function)
        unknown = sorted(set(aliases) - set(signature.parameters))
        if unknown:
            raise TypeError(f"{function.__name__} has no parameter {', '.join(unknown)}")

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for native, alias in aliases.items():
                if alias not in kwargs:
                    continue
                if native in kwargs or native in signature.bind_partial(*args).arguments:
                    raise TypeError(f"{function.__name__}() got both {native}= and {alias}= "
                                    "(DataRobot's name for it); pass only one")
                kwargs[native] = kwargs.pop(alias)
            return function(*args, **kwargs)

        wrapper.__signature__ = _with_aliases(signature, aliases)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _with_aliases(signature: inspect.Signature, aliases: dict[str, str]) -> inspect.Signature:
    parameters = list(signature.parameters.values())
    variadic = [p for p in parameters if p.kind is inspect.Parameter.VAR_KEYWORD]
    named = [p for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD]
    extra = [inspect.Parameter(alias, inspect.Parameter.KEYWORD_ONLY, default=None,
                               annotation=signature.parameters[native].annotation)
             for native, alias in aliases.items()]
    return signature.replace(parameters=[*named, *extra, *variadic])


time_aliases = keyword_aliases(start="start_time", end="end_time")
drift_tracking_aliases = keyword_aliases(target_drift="target_drift_enabled",
                                         feature_drift="feature_drift_enabled")
