"""Check specs: what to check, as frozen pydantic models selected by their `type` key.

    numeric_range     the metric lies within soft (WARNING) and hard (ERROR) bounds
    value_in_set      the metric is one of a list of values
    relative_change   the metric moved at most a fraction since the store's previous evaluation
    python            a function `module:function` decides

`type` may be omitted: it defaults to `numeric_range`, so `{store: the_MES, metric: data_drift,
soft_max: 0.45}` keeps working. `CheckSpec` is the union the project file validates against; an
unknown `type` is rejected with the list of valid types, and errors keep the key path of the
check (`checks.<name>.<key>`), not the union branch pydantic tried.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

DEFAULT_TYPE = "numeric_range"
_FUNCTION_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def is_function_reference(value: Any) -> bool:
    """Whether `value` reads "module:function" (e.g. "checks.drift:no_new_categories")."""
    return isinstance(value, str) and bool(_FUNCTION_REF.match(value))


class _CheckSpecBase(BaseModel):
    """Keys every check has: the store whose latest evaluation it reads, and the metric."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store: str = Field(description="Evaluation store whose latest evaluation is checked.")
    metric: str = Field(description="Metric name, e.g. data_drift, auc.")
    feature: str | None = Field(None, description="Feature of a per-feature metric, e.g. psi.")
    segment: str | None = Field(
        None, description='Unset: all rows. "all": one result per segment of the store '
        '(segment_by); "device=mobile": that segment only.')
    shadow: bool = Field(
        False, description="Evaluated and recorded on every run beside its live counterpart "
        "(same store, metric, feature, segment), but never changes a step outcome, a gate or "
        "alert state; compare them with `scenarist checks shadow-report`.")

    def bounds(self) -> dict[str, Any]:
        """What the metric is compared against, as stored with each result."""
        return {}


class NumericRangeCheckSpec(_CheckSpecBase):
    """The metric lies in a range: outside a soft bound → WARNING, a hard bound → ERROR."""

    type: Literal["numeric_range"] = Field("numeric_range", description="Check type.")
    soft_min: float | None = Field(None, description="Below it: WARNING.")
    soft_max: float | None = Field(None, description="Above it: WARNING.")
    hard_min: float | None = Field(None, description="Below it: ERROR.")
    hard_max: float | None = Field(None, description="Above it: ERROR.")

    @model_validator(mode="after")
    def _bounds(self) -> NumericRangeCheckSpec:
        bounds = self.bounds()
        if not bounds:
            raise ValueError("a numeric range needs at least one of soft_min, soft_max, "
                             "hard_min, hard_max")
        given = list(bounds.items())  # in the order hard_min, soft_min, soft_max, hard_max
        for (low_name, low), (high_name, high) in zip(given, given[1:], strict=False):
            if low > high:
                raise ValueError(f"{low_name} ({low:g}) must not exceed {high_name} ({high:g}); "
                                 "bounds go hard_min <= soft_min <= soft_max <= hard_max")
        return self

    def bounds(self) -> dict[str, Any]:
        names = ("hard_min", "soft_min", "soft_max", "hard_max")
        return {k: getattr(self, k) for k in names if getattr(self, k) is not None}


class ValueInSetCheckSpec(_CheckSpecBase):
    """The metric is one of `values`; any other value gives `outcome_if_not_in`."""

    type: Literal["value_in_set"] = Field(description="Check type.")
    values: list[float | str | bool] = Field(
        min_length=1, description="Accepted values, e.g. [0, 1]; numbers compare by value."
    )
    outcome_if_not_in: Literal["WARNING", "ERROR"] = Field(
        "ERROR", description="Outcome when the value is not in `values`."
    )

    def bounds(self) -> dict[str, Any]:
        return {"values": list(self.values), "outcome_if_not_in": self.outcome_if_not_in}


class RelativeChangeCheckSpec(_CheckSpecBase):
    """The metric changed at most a fraction since the store's previous evaluation.

    change = (value − previous) / |previous|; e.g. `direction: decrease, soft_max_change: 0.05,
    hard_max_change: 0.10`: AUC may drop 5% before WARNING, 10% before ERROR (inclusive-OK).
    """

    type: Literal["relative_change"] = Field(description="Check type.")
    direction: Literal["decrease", "increase", "both"] = Field(
        "both", description="Which moves count: decrease, increase or both."
    )
    soft_max_change: float | None = Field(
        None, ge=0, description="Largest change (a fraction: 0.05 = 5%) before WARNING."
    )
    hard_max_change: float | None = Field(
        None, ge=0, description="Largest change (a fraction: 0.10 = 10%) before ERROR."
    )

    @model_validator(mode="after")
    def _limits(self) -> RelativeChangeCheckSpec:
        soft, hard = self.soft_max_change, self.hard_max_change
        if soft is None and hard is None:
            raise ValueError("a relative change needs soft_max_change, hard_max_change or both")
        if soft is not None and hard is not None and soft > hard:
            raise ValueError(f"soft_max_change ({soft:g}) must not exceed hard_max_change "
                             f"({hard:g})")
        return self

    def bounds(self) -> dict[str, Any]:
        limits = {"soft_max_change": self.soft_max_change, "hard_max_change": self.hard_max_change}
        return {"direction": self.direction, **{k: v for k, v in limits.items() if v is not None}}


class PythonCheckSpec(_CheckSpecBase):
    """A function decides: `function(evaluation, previous, params)` returns an Outcome, an
    outcome string, or an (outcome, message) tuple. Modules import from the project folder."""

    type: Literal["python"] = Field(description="Check type.")
    metric: str | None = Field(  # type: ignore[assignment]
        None, description="Metric shown with the result (optional; the function reads any)."
    )
    function: str = Field(description='The function as "module:function", e.g. '
                          '"checks.drift:no_new_categories".')
    params: dict[str, Any] = Field(
        default_factory=dict, description="Keyword values passed to the function as `params`."
    )

    @field_validator("function")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not is_function_reference(value):
            raise ValueError(f'function {value!r} is not "module:function", '
                             'e.g. "checks.drift:no_new_categories"')
        return value

    def bounds(self) -> dict[str, Any]:
        return {"function": self.function, **({"params": self.params} if self.params else {})}


SPEC_TYPES: dict[str, type[_CheckSpecBase]] = {
    "numeric_range": NumericRangeCheckSpec,
    "value_in_set": ValueInSetCheckSpec,
    "relative_change": RelativeChangeCheckSpec,
    "python": PythonCheckSpec,
}
"""Every check type by its `type` name."""

AnyCheckSpec = NumericRangeCheckSpec | ValueInSetCheckSpec | RelativeChangeCheckSpec | \
    PythonCheckSpec


def _tag(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return value.get("type", DEFAULT_TYPE)
    return getattr(value, "type", None)


def _clean_errors(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Validate through the union; report an unknown type with the valid ones, and drop the
    union branch pydantic adds to error locations (so they read `checks.<name>.<key>`)."""
    tag = _tag(value)
    if isinstance(value, Mapping) and tag not in SPEC_TYPES:
        raise _error("unknown_type", ("type",), tag,
                     f"unknown check type {tag!r}; valid types: {', '.join(SPEC_TYPES)}")
    if not isinstance(value, Mapping | _CheckSpecBase):
        raise _error("not_a_mapping", (), value, "a check is a mapping such as {store: the_MES, "
                     f"metric: data_drift, soft_max: 0.45}}; got {value!r}")
    try:
        return handler(value)
    except ValidationError as exc:
        details = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            if loc and loc[0] == tag:
                loc = loc[1:]
            if error["type"] == "extra_forbidden" and loc:
                valid = ", ".join(SPEC_TYPES[str(tag)].model_fields)
                details.append(_detail(loc, error["input"],
                                       f"unknown key {loc[-1]!r}; valid keys: {valid}"))
            elif error["type"] == "value_error":
                details.append(_detail(loc, error["input"],
                                       error["msg"].removeprefix("Value error, ")))
            else:
                details.append({"type": error["type"], "loc": loc, "input": error["input"],
                                "ctx": error.get("ctx", {})})
        raise ValidationError.from_exception_data(exc.title, details) from None


def _detail(loc: tuple[Any, ...], value: Any, message: str) -> dict[str, Any]:
    return {"type": "value_error", "loc": loc, "input": value, "ctx": {"error": message}}


def _error(_kind: str, loc: tuple[Any, ...], value: Any, message: str) -> ValidationError:
    return ValidationError.from_exception_data("CheckSpec", [_detail(loc, value, message)])


CheckSpec = Annotated[
    Union[  # noqa: UP007 - Annotated tags need the explicit Union
        Annotated[NumericRangeCheckSpec, Tag("numeric_range")],
        Annotated[ValueInSetCheckSpec, Tag("value_in_set")],
        Annotated[RelativeChangeCheckSpec, Tag("relative_change")],
        Annotated[PythonCheckSpec, Tag("python")],
    ],
    Discriminator(_tag),
    WrapValidator(_clean_errors),
]
"""A check of any type, selected by its `type` key (default numeric_range)."""
