"""Request and response bodies of the service (they make its OpenAPI schema)."""

from __future__ import annotations

import typing

import pydantic
from pydantic import Field

from streamml.learners import FeatureIndex

__all__ = [
    "ClusterInfo",
    "DriftEventOut",
    "ErrorOut",
    "Features",
    "LearnIn",
    "LearnOut",
    "ModelOut",
    "PredictIn",
    "PredictOut",
    "QualityOut",
    "StatusOut",
]

#: Longest id, feature name, label name or string feature value.
MAX_NAME = 256
MAX_TEXT = 1024


Name = typing.Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
#: A label: a name without NUL characters (many tools take one for the end of a string).
Label = typing.Annotated[str, Field(min_length=1, max_length=MAX_NAME, pattern=r"^[^\x00]*$")]
#: A feature value (validated natively, without Python callbacks: this is the hot path).
FeatureValue = (
    typing.Annotated[float, Field(strict=True, allow_inf_nan=False)]
    | typing.Annotated[str, Field(max_length=MAX_TEXT)]
)
Features = typing.Annotated[
    dict[Name, FeatureValue],
    Field(
        min_length=1,
        description="Feature name -> finite number or string (a categorical value).",
        examples=[{"x1": 0.5, "x2": -1.25, "colour": "red"}],
    ),
]
Labels = typing.Annotated[
    list[Label],
    Field(
        description="The labels that are ON for this instance (the others are OFF); may be empty.",
        examples=[["sports", "europe"]],
    ),
]


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


def check_columns(features: dict | None) -> None:
    """A string value is a one-hot column (`FeatureIndex.nominal_column`): refuse an instance
    that also gives that column as a number."""
    if features:
        for name, value in features.items():
            if type(value) is str:
                column = FeatureIndex.nominal_column(name, value)
                if column in features:
                    raise ValueError(
                        f"feature {name!r} = {value!r} is the column '{column}', "
                        "which is also given as a number"
                    )


class PredictIn(_Strict):
    """An instance to predict; its features are kept under `id` until its labels arrive."""

    features: Features
    id: Name = Field(  # optional, but not null
        default=None,
        description="Your id for the instance (generated when absent); send the labels later "
        "with it to `/v1/learn`.",
        json_schema_extra=_no_default,
    )

    @pydantic.model_validator(mode="after")
    def _columns(self):
        check_columns(self.features)
        return self


class PredictOut(pydantic.BaseModel):
    """The prediction for one instance."""

    id: str = Field(description="The id to send the labels with.")
    labels: list[str] = Field(description="The predicted labels (ON).")
    probabilities: dict[str, float] = Field(description="Label -> probability of being ON.")


class LearnIn(_Strict):
    """Labels for an earlier prediction (`id`), or a complete instance (`features`)."""

    model_config = pydantic.ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["id"]}, {"required": ["features"]}]},
    )

    id: Name = Field(  # optional, but not null
        default=None,
        description="The id of an earlier prediction. With `features` too, it only names the "
        "instance (a repeated id is recognised as a duplicate).",
        json_schema_extra=_no_default,
    )
    features: Features = Field(default=None, json_schema_extra=_no_default)
    labels: Labels

    @pydantic.model_validator(mode="after")
    def _id_or_features(self):
        if self.id is None and self.features is None:
            raise ValueError("give 'id' (labels for an earlier prediction) or 'features'")
        check_columns(self.features)
        return self


class LearnOut(pydantic.BaseModel):
    """The acknowledgement of a durable learn event."""

    id: str | None = Field(description="The instance id, if any.")
    event_id: int = Field(description="Position of the event in the durable log.")
    duplicate: bool = Field(
        description="True when this id had already been learned with the same labels (nothing "
        "new was written)."
    )
    scored: bool = Field(
        description="True when a stored prediction was scored against these labels."
    )


class ErrorOut(pydantic.BaseModel):
    """An error: `detail` is a message, or a list of {loc, msg, type} for invalid fields."""

    detail: str | list[dict[str, typing.Any]]


class StatusOut(pydantic.BaseModel):
    """Liveness or readiness."""

    status: str
    reason: str | None = None


class ClusterInfo(pydantic.BaseModel):
    """One cluster of the model's label partition."""

    labels: list[str]
    slot: int | None = Field(
        description="Its `slot` label in the per-cluster metrics (None beyond the slots)."
    )
    error: float | None = Field(description="Recent Hamming loss of the cluster, if known.")
    n: int | None = Field(description="Instances the cluster has learned, if known.")


class DriftEventOut(pydantic.BaseModel):
    """A drift event recorded by the model."""

    index: int
    level: str
    labels: list[str]
    detector: str


class QualityOut(pydantic.BaseModel):
    """Online quality over the recent window of labelled predictions."""

    window: int = Field(description="Labelled predictions in the window.")
    subset_accuracy: float | None
    hamming_loss: float | None
    micro_f1: float | None
    label_cardinality: float | None = Field(
        description="Mean number of ON labels of the recently learned instances."
    )


class ModelOut(pydantic.BaseModel):
    """What the service's model is and has learned."""

    model: str
    n_learned: int
    n_learn_failures: int = Field(
        description="Logged events the model raised an error on (skipped; see the logs)."
    )
    last_event_id: int = Field(description="Every logged event up to this one is learned.")
    labels: list[str] = Field(description="The label space, in order of appearance.")
    partition: list[ClusterInfo] | None = Field(
        description="The label clusters, for models that partition the labels."
    )
    n_restructurings: int | None
    drift_event_counts: dict[str, int]
    drift_events: list[DriftEventOut] = Field(description="The most recent drift events.")
    pending_predictions: int
    quality: QualityOut
    snapshot_event_id: int | None = Field(description="Last event in the newest snapshot.")
