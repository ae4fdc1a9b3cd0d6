"""log_batch / log_sample / log_errors: what is stored, and every rejection writes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from deployment_helpers import DAY, FEATURES, T0, log_rows, stored

from scenarist.deployments import Deployment
from scenarist.errors import ConfigError, InputDataError, NotFoundError


def test_log_batch_stores_rows_rollups_and_features(fraud_deployment, fraud_model, quarters):
    frame = quarters["2017Q2"].iloc[:200]
    result, ids, pred, proba = log_rows(fraud_deployment, fraud_model, frame, request_ms=40.0,
                                        chunk_size=64)
    assert result.rows == 200 and result.first_time == T0
    counts = stored(fraud_deployment)
    assert counts["scenarist_predictions"] == 200
    assert counts["scenarist_deployment_hourly"] == 4  # 200 minutes span hours 0..3
    # a call of at most INLINE_ROWS rows writes no file: one record per hour holds its rows
    records = fraud_deployment.files.listed(0, 2 ** 31 - 1, None, data=True)
    assert len(records) == 4 and all(r.path == "" and r.data for r in records)
    assert counts["files"] == 0
    table = fraud_deployment.files.read(0, 2 ** 31 - 1, None)
    assert sorted(table["sample_id"]) == sorted(ids)
    assert set(FEATURES) <= set(table.columns)
    stats = fraud_deployment.get_service_stats(*DAY)
    assert (stats.total_predictions, stats.total_requests, stats.mean_request_ms) == (200, 1,
                                                                                      40.0)


def test_log_sample_and_errors_count_as_requests(fraud_deployment, quarters):
    row = quarters["2017Q2"].iloc[0]
    for i, ms in enumerate((10.0, 20.0, 2_000.0)):
        fraud_deployment.log_sample(f"one-{i}", T0 + pd.Timedelta(minutes=i),
                                    row[list(FEATURES)].to_dict(), 1, 0.9, request_ms=ms)
    fraud_deployment.log_errors([T0.timestamp() + 300, T0.timestamp() + 400], request_ms=5.0)
    stats = fraud_deployment.get_service_stats(*DAY)
    assert stats.total_predictions == 3 and stats.total_requests == 5
    assert stats.errors == 2 and stats.error_rate == pytest.approx(0.4)
    assert stats.slow_requests == 1  # 2 s > the default 1 s
    assert stats.mean_request_ms == pytest.approx((10 + 20 + 2000 + 5 + 5) / 5)
    assert stats.median_request_ms == pytest.approx(10, rel=0.1)  # histogram bins: ±9%
    assert stats.p90_request_ms > 1_500


def _assert_rejected(dep: Deployment, before: dict[str, int], error, match: str, call):
    with pytest.raises(error, match=match):
        call()
    assert stored(dep) == before, "a rejected call must write nothing"


def test_every_rejection_writes_nothing(fraud_deployment, fraud_model, quarters):
    dep = fraud_deployment
    frame = quarters["2017Q2"].iloc[:20].reset_index(drop=True)
    pred, proba = fraud_model.predict(frame)
    data = frame[list(FEATURES)]
    ids = [f"r{i}" for i in range(20)]
    stamps = T0.timestamp() + np.arange(20) * 60.0
    log_rows(dep, fraud_model, frame.iloc[:5], prefix="first")  # ends at T0 + 4 min
    before = stored(dep)

    def call(**changes):
        args = {"sample_ids": ids, "timestamps": stamps + 3600, "data": data,
                "predictions": pred, "prediction_probas": proba, **changes}
        return lambda: dep.log_batch(**args)

    _assert_rejected(dep, before, InputDataError,
                     r"repeats ids within the call: 'r1' \(rows 0, 1\);",
                     call(sample_ids=["r1"] * 2 + ids[2:]))
    _assert_rejected(dep, before, InputDataError, r"\['first0'\] were logged before",
                     call(sample_ids=["first0"] + ids[1:]))
    _assert_rejected(dep, before, InputDataError, r"must not go back.*'r0', 'r1'",
                     call(timestamps=stamps - 3600))
    _assert_rejected(dep, before, InputDataError, r"missing feature\(s\) \['card_age'\]",
                     call(data=data.drop(columns="card_age")))
    _assert_rejected(dep, before, InputDataError, r"extra column\(s\) \['surprise'\]",
                     call(data=data.assign(surprise=1)))
    _assert_rejected(dep, before, InputDataError, r"mistyped column\(s\) card_age \(string, "
                     r"expected number\)", call(data=data.assign(card_age="old")))
    _assert_rejected(dep, before, InputDataError, r"1 row\(s\) with sample ids \['r3'\] "
                     r"predict a value that is not a class", call(predictions=np.where(
                         np.arange(20) == 3, 7, pred)))
    _assert_rejected(dep, before, InputDataError, r"prediction_probas has shape \(20, 3\)",
                     call(prediction_probas=np.ones((20, 3)) / 3))
    _assert_rejected(dep, before, InputDataError, r"probabilities in \[0, 1\]",
                     call(prediction_probas=proba + 1))
    _assert_rejected(dep, before, InputDataError, "20 sample ids but 19 timestamps",
                     call(timestamps=stamps[:19]))
    _assert_rejected(dep, before, InputDataError, "missing id", call(sample_ids=[None] + ids[1:]))
    _assert_rejected(dep, before, InputDataError, "request_ms must be", call(request_ms=-1))
    _assert_rejected(dep, before, NotFoundError, "no monitoring batch 'nope'",
                     call(batch_id="nope"))
    batch = dep.create_batch("closed")
    batch.lock()
    _assert_rejected(dep, before, InputDataError, "'closed' is locked",
                     call(batch_id=batch.id))
    dep.update_association_id_settings(column_names=["txn"],
                                       required_in_prediction_requests=True)
    _assert_rejected(dep, before, InputDataError, r"association id column\(s\) \['txn'\] are "
                     "required", call())
    txn = pd.Series([f"t{i}" for i in range(20)]).where(np.arange(20) != 4)
    _assert_rejected(dep, before, InputDataError, r"\['r4'\] have no association id",
                     call(data=data.assign(txn=txn)))
    dep.delete()
    _assert_rejected(dep, before, ConfigError, "is deleted", call())


def test_timestamps_may_repeat_and_accept_datetimes(fraud_deployment, fraud_model, quarters):
    frame = quarters["2017Q2"].iloc[:4]
    pred, proba = fraud_model.predict(frame)
    data = frame[list(FEATURES)]
    same = [T0.to_pydatetime()] * 4
    fraud_deployment.log_batch(["a", "b", "c", "d"], same, data, pred, proba)
    fraud_deployment.log_batch(["e", "f", "g", "h"], ["2024-05-01T00:00:00Z"] * 4, data, pred,
                               proba)  # equal to the latest: non-decreasing is enough
    assert fraud_deployment.get_service_stats(*DAY).total_predictions == 8


def test_prediction_warnings_from_reference_quantiles(fraud_deployment, fraud_model, quarters):
    fraud_deployment.update_prediction_warning_settings(enabled=True, lower_quantile=0.1,
                                                        upper_quantile=0.9)
    frame = quarters["2017Q4"].iloc[:300]
    result, _ids, _pred, proba = log_rows(fraud_deployment, fraud_model, frame)
    from scenarist.deployments.ingest import warning_bounds

    lower, upper = warning_bounds(fraud_deployment)
    _, ref_proba = fraud_model.predict(quarters["2017Q1"])
    assert lower == pytest.approx(np.quantile(ref_proba, 0.1))
    assert upper == pytest.approx(np.quantile(ref_proba, 0.9))
    expected = int(((proba < lower) | (proba > upper)).sum())
    assert result.warnings == expected > 0
    table = fraud_deployment.get_prediction_warnings("PT6H", *DAY)
    assert table["warnings"].sum() == expected and table["predictions"].sum() == 300
    assert table["warning_rate"].iloc[0] == pytest.approx(
        table["warnings"].iloc[0] / table["predictions"].iloc[0])


def test_data_collection_off_keeps_no_features(fraud_deployment, fraud_model, quarters):
    fraud_deployment.update_predictions_data_collection_settings(enabled=False)
    log_rows(fraud_deployment, fraud_model, quarters["2017Q2"].iloc[:10])
    counts = stored(fraud_deployment)
    assert counts["files"] == 0 and counts["scenarist_deployment_files"] == 0
    assert fraud_deployment.get_service_stats(*DAY).total_predictions == 10
    with pytest.raises(NotFoundError, match="no feature data"):
        fraud_deployment.get_feature_drift(*DAY)


def test_repeated_ids_are_named_with_their_rows(fraud_deployment, fraud_model, quarters):
    frame = quarters["2017Q2"].iloc[:8]
    pred, proba = fraud_model.predict(frame)
    ids = ["a", "b", "c", "a", "d", "e", "f", "b"]
    stamps = T0.timestamp() + np.arange(8) * 60.0
    with pytest.raises(InputDataError) as raised:
        fraud_deployment.log_batch(ids, stamps, frame[list(FEATURES)], pred, proba)
    message = str(raised.value)
    assert "sample_ids repeats ids within the call: 'a' (rows 0, 3), 'b' (rows 1, 7); " \
           "each id may appear once" in message, message
    assert stored(fraud_deployment)["scenarist_predictions"] == 0


def test_an_all_null_numeric_feature_is_logged_and_monitored(fraud_deployment, fraud_model,
                                                             quarters, tmp_path):
    """JSON rows with `"card_age": null` in every row give an object column of None: it is a
    numeric feature with no values, not a string column (issue 16 item 6)."""
    frame = quarters["2017Q2"].iloc[:6].reset_index(drop=True)
    records = frame[list(FEATURES)].to_dict(orient="records")
    nulls = pd.DataFrame.from_records([{**r, "card_age": None} for r in records[:3]])
    assert nulls["card_age"].dtype == object and nulls["card_age"].isna().all()
    pred, proba = fraud_model.predict(frame)
    stamps = T0.timestamp() + np.arange(6) * 60.0
    fraud_deployment.log_batch(["n0", "n1", "n2"], stamps[:3], nulls, pred[:3], proba[:3])
    fraud_deployment.log_batch(["v0", "v1", "v2"], stamps[3:], frame[list(FEATURES)].iloc[3:],
                               pred[3:], proba[3:])
    exported = pd.read_parquet(fraud_deployment.export(tmp_path / "rows.parquet", *DAY))
    assert exported["sample_id"].tolist() == ["n0", "n1", "n2", "v0", "v1", "v2"]
    assert exported["card_age"].dtype == np.float64
    assert exported["card_age"].isna().tolist() == [True] * 3 + [False] * 3
    drift = fraud_deployment.get_feature_drift(*DAY)
    assert "card_age" in drift.index
    with pytest.raises(InputDataError, match=r"mistyped column\(s\) card_age \(string"):
        fraud_deployment.log_batch(["s0"], stamps[5:], nulls.iloc[:1].assign(card_age="old"),
                                   pred[:1], proba[:1])
