"""Deepchecks' `deepchecks_client`, mirrored over scenarist deployments: change one import.

    from scenarist.compat.deepchecks import DeepchecksClient   # was: from deepchecks_client …
    dc_client = DeepchecksClient(host=None)                    # the local store
    model = dc_client.get_or_create_model("fraud", task_type="binary")
    version = model.version("v1", reference_dataset=train_df, reference_predictions=p,
                            reference_probas=pp, model_classes=[0, 1])
    version.log_batch(sample_ids=ids, data=df, timestamps=ts, predictions=p,
                      prediction_probas=pp, samples_per_send=10_000)
    version.send()
    model.log_batch_labels(ids, labels); model.send()

Mirrored (deepchecks_client 0.x: DeepchecksClient, DeepchecksModelClient,
DeepchecksModelVersionClient, as in its "Sending Tabular Production Data" guide):
`DeepchecksClient(host, token)`, `get_or_create_model(name, task_type=, description=,
alerts_delay_labels_ratio=, alerts_delay_seconds=)`, `get_model_version(model_name,
version_name)`, `model.version(name, schema=, feature_importance=, reference_dataset=,
reference_predictions=, reference_probas=, model_classes=)`, `version.log_batch(...)`,
`version.log_sample(...)`, `version.update_sample(sample_id, label=)`, `version.send()`,
`model.log_label(sample_id, label)`, `model.log_batch_labels(sample_ids, labels)`,
`model.send()`.

A model version is one scenarist deployment labelled "<model> / <version>"; its model is
declared from the reference (features, target = the Dataset's `label_name` or a "label"
column, classes) and its outputs on the reference are the `reference_predictions` /
`reference_probas` given. Rows are buffered and sent by `send()` (and whenever
`samples_per_send` rows are waiting); labels are buffered by the model client and sent by its
`send()`, after any rows still waiting, to every version of the model (a sample id is known to
one of them). A label whose sample id no version knows is an error, not dropped. The
alert delay (`alerts_delay_seconds`, `alerts_delay_labels_ratio`) becomes the deployment's
alert delay settings. `host`: None or a database URL (in process) or `http(s)://…` (a
`scenarist serve`, `token` an API key with the ingest and read scopes); over HTTP, versions
are created in process first and named by `deployment_id=` (the server looks nothing up by
name).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarist.compat.backends import Http, Local, NotSupported, connect
from scenarist.deployments import Deployment, DeploymentListFilters
from scenarist.errors import ConfigError, InputDataError, NotFoundError

log = logging.getLogger(__name__)
TASK_TYPES = ("binary", "multiclass", "regression")
SAMPLES_PER_SEND = 10_000


class DeepchecksClient:
    """The entry point: `host` None / a database URL (in process) or `http(s)://…`."""

    def __init__(self, host: str | None = None, token: str | None = None, **_: Any):
        self.host = host
        self.backend = connect(host, token)
        self._models: dict[str, DeepchecksModelClient] = {}

    def get_or_create_model(self, name: str, task_type: Any = None,
                            description: str | None = None, create_defaults: bool = True,
                            alerts_delay_labels_ratio: float = 1.0,
                            alerts_delay_seconds: int = 3 * 24 * 3600, **_: Any
                            ) -> DeepchecksModelClient:
        kind = getattr(task_type, "value", task_type)
        if kind is not None and kind not in TASK_TYPES:
            raise NotSupported(f"task_type {kind!r}: scenarist monitors tabular "
                               f"{', '.join(TASK_TYPES)} models")
        known = self._models.get(name)
        if known is not None and (kind is None or kind == known.task_type):
            return known
        self._models[name] = DeepchecksModelClient(self, name, kind, description,
                                                   alerts_delay_seconds,
                                                   alerts_delay_labels_ratio)
        return self._models[name]

    def get_model_version(self, model_name: str, version_name: str, *,
                          deployment_id: str | None = None) -> DeepchecksModelVersionClient:
        model = self.get_or_create_model(model_name)
        return model.version(version_name, deployment_id=deployment_id)

    def delete_model(self, model_name: str) -> None:
        raise NotSupported("deleting keeps nothing to undo; delete each version's deployment "
                           "with scenarist.Deployment.get(id).delete()")


class DeepchecksModelClient:
    """One model: its versions (deployments) and the labels waiting to be sent."""

    def __init__(self, client: DeepchecksClient, name: str, task_type: str | None,
                 description: str | None, delay_seconds: int, labels_ratio: float):
        self.client = client
        self.name = name
        self.task_type = task_type
        self.description = description
        self._delay = (delay_seconds, labels_ratio)
        self._versions: dict[str, DeepchecksModelVersionClient] = {}
        self._labels: tuple[list[Any], list[Any]] = ([], [])

    def _label(self, version_name: str) -> str:
        return f"{self.name} / {version_name}"

    def version(self, name: str, schema: Any = None, feature_importance: Any = None,
                reference_dataset: Any = None, reference_predictions: Any = None,
                reference_probas: Any = None, model_classes: Sequence[Any] | None = None,
                *, deployment_id: str | None = None, **_: Any
                ) -> DeepchecksModelVersionClient:
        """The version `name`, created (in process) when it does not exist yet."""
        if name in self._versions:
            return self._versions[name]
        backend = self.client.backend
        if deployment_id is None and isinstance(backend, Http):
            raise NotSupported("scenarist serve looks no deployment up by name: create the "
                               "version in process (DeepchecksClient() on the store), then pass "
                               "its deployment_id= here")
        if deployment_id is None:
            found = self._find(backend, name)
            deployment_id = found.id if found is not None else self._create(
                backend, name, schema, feature_importance, reference_dataset,
                reference_predictions, reference_probas, model_classes)
        else:
            backend.deployment(deployment_id)  # exists, and the key may read it
        self._versions[name] = DeepchecksModelVersionClient(self, name, deployment_id)
        return self._versions[name]

    def _find(self, backend: Local, name: str) -> Deployment | None:
        label = self._label(name)
        for deployment in Deployment.list(DeploymentListFilters(label=label), url=backend.url):
            if deployment.label == label:
                return deployment
        return None

    def _create(self, backend: Local, name: str, schema: Any, importance: Any,
                reference: Any, predictions: Any, probas: Any, classes: Any) -> str:
        from scenarist.compat.deepchecks_reference import declared_model

        if self.task_type is None:
            raise ConfigError(f"model {self.name!r} has no version {name!r} yet; create it "
                              "with get_or_create_model(name, task_type='binary'|'multiclass'|"
                              "'regression')")
        model, frame = declared_model(self.name, self.task_type, schema, importance, reference,
                                      predictions, probas, classes)
        deployment = Deployment.create(model, self._label(name), description=self.description,
                                       reference=frame, url=backend.url)
        deployment.update_alert_delay_settings(delay_seconds=self._delay[0],
                                               labels_ratio=self._delay[1])
        return deployment.id

    def log_label(self, sample_id: Any, label: Any) -> None:
        self.log_batch_labels([sample_id], [label])

    def log_batch_labels(self, sample_ids: Sequence[Any], labels: Sequence[Any]) -> None:
        ids, values = list(sample_ids), list(labels)
        if len(ids) != len(values):
            raise InputDataError(f"log_batch_labels got {len(ids)} sample ids and "
                                 f"{len(values)} labels")
        self._labels[0].extend(ids)
        self._labels[1].extend(values)

    def send(self) -> None:
        """Send rows still waiting in the versions, then the labels, to every version."""
        for version in self._versions.values():
            version.send()
        ids, values = self._labels
        if not ids:
            return
        targets = self._targets()
        pairs = [(i, v) for i, v in zip(ids, values, strict=True) if v is not None]
        unknown: set[str] | None = None
        for deployment_id in targets:
            _stored, missing = self.client.backend.log_labels(
                deployment_id, [i for i, _ in pairs], [v for _, v in pairs])
            unknown = set(missing) if unknown is None else unknown & set(missing)
        self._labels = ([], [])
        if unknown:
            raise NotFoundError(f"no version of model {self.name!r} has sample id(s) "
                                f"{sorted(unknown)[:10]}; log their predictions first")

    def _targets(self) -> list[str]:
        backend = self.client.backend
        ids = {v.deployment_id for v in self._versions.values()}
        if isinstance(backend, Local):
            prefix = self._label("")
            ids |= {d.id for d in Deployment.list(DeploymentListFilters(label=prefix),
                                                  url=backend.url)
                    if d.label.startswith(prefix)}
        if not ids:
            how = ("name its versions first: get_model_version(model, version, deployment_id="
                   "...)" if isinstance(backend, Http) else "create one with model.version("
                   "name, ...)")
            raise NotFoundError(f"model {self.name!r} has no version to label; {how}")
        return sorted(ids)


class DeepchecksModelVersionClient:
    """One model version = one deployment; rows wait in a buffer until `send()`."""

    def __init__(self, model: DeepchecksModelClient, name: str, deployment_id: str):
        self.model = model
        self.name = name
        self.deployment_id = deployment_id
        self._chunks: list[dict[str, Any]] = []

    @property
    def pending(self) -> int:
        return sum(len(c["ids"]) for c in self._chunks)

    def log_batch(self, sample_ids: Sequence[Any], data: pd.DataFrame | None = None,
                  timestamps: Sequence[Any] | None = None, predictions: Any = None,
                  prediction_probas: Any = None, labels: Sequence[Any] | None = None,
                  samples_per_send: int = SAMPLES_PER_SEND) -> None:
        ids = [str(i) for i in sample_ids]
        if samples_per_send < 1:
            raise InputDataError("samples_per_send must be at least 1")
        if data is None or predictions is None:
            raise NotSupported("scenarist logs a prediction with its features: pass data= and "
                               "predictions=; send late labels with model.log_batch_labels()")
        frame = pd.DataFrame(data).reset_index(drop=True)
        stamps = ([time.time()] * len(ids) if timestamps is None else list(timestamps))
        values = list(np.asarray(predictions).tolist())
        if not len(ids) == len(frame) == len(stamps) == len(values):
            raise InputDataError(f"log_batch got {len(ids)} sample ids, {len(frame)} data rows, "
                                 f"{len(stamps)} timestamps and {len(values)} predictions")
        probas = None if prediction_probas is None else np.asarray(prediction_probas)
        self._chunks.append({"ids": ids, "frame": frame, "ts": stamps, "pred": values,
                             "proba": probas, "labels": None if labels is None
                             else list(labels)})
        while self.pending >= samples_per_send:
            self._send(samples_per_send)

    def log_sample(self, sample_id: Any, timestamp: Any = None, values: dict | None = None,
                   prediction: Any = None, prediction_proba: Any = None, label: Any = None,
                   data: dict | None = None) -> None:
        row = values if values is not None else data
        if row is None:
            raise NotSupported("log_sample needs values= (the features) and prediction=")
        self.log_batch([sample_id], pd.DataFrame([dict(row)]),
                       None if timestamp is None else [timestamp], [prediction],
                       None if prediction_proba is None else [list(prediction_proba)],
                       None if label is None else [label])

    def update_sample(self, sample_id: Any, label: Any = None, **_: Any) -> None:
        self.send()
        self.model.client.backend.log_labels(self.deployment_id, [str(sample_id)], [label])

    def send(self) -> None:
        """Send every waiting row (and the labels given with them)."""
        while self._chunks:
            self._send(self.pending)

    def _send(self, size: int) -> None:
        """Send the first `size` waiting rows as one call."""
        taken, left, count = [], [], 0
        for chunk in self._chunks:
            room = size - count
            if room <= 0:
                left.append(chunk)
            elif len(chunk["ids"]) <= room:
                taken.append(chunk)
                count += len(chunk["ids"])
            else:
                taken.append(_slice(chunk, 0, room))
                left.append(_slice(chunk, room, len(chunk["ids"])))
                count = size
        merged = _merge(taken)
        backend = self.model.client.backend
        rows = backend.log_batch(self.deployment_id, merged["frame"], merged["ids"],
                                 merged["ts"], merged["pred"], merged["proba"])
        self._chunks = left
        log.info("%d new samples sent to deployment %s", rows, self.deployment_id)
        labelled = [(i, v) for i, v in zip(merged["ids"], merged["labels"], strict=True)
                    if v is not None]
        if labelled:
            backend.log_labels(self.deployment_id, [i for i, _ in labelled],
                               [v for _, v in labelled])


def _slice(chunk: dict[str, Any], start: int, stop: int) -> dict[str, Any]:
    return {"ids": chunk["ids"][start:stop], "frame": chunk["frame"].iloc[start:stop],
            "ts": chunk["ts"][start:stop], "pred": chunk["pred"][start:stop],
            "proba": None if chunk["proba"] is None else chunk["proba"][start:stop],
            "labels": None if chunk["labels"] is None else chunk["labels"][start:stop]}


def _merge(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    probas = [c["proba"] for c in chunks]
    return {"ids": [i for c in chunks for i in c["ids"]],
            "frame": pd.concat([c["frame"] for c in chunks], ignore_index=True),
            "ts": [t for c in chunks for t in c["ts"]],
            "pred": [p for c in chunks for p in c["pred"]],
            "proba": None if any(p is None for p in probas) else np.concatenate(probas),
            "labels": [v for c in chunks for v in (c["labels"] or [None] * len(c["ids"]))]}


__all__ = ["DeepchecksClient", "DeepchecksModelClient", "DeepchecksModelVersionClient",
           "NotSupported"]
