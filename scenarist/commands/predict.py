"""`scenarist predict`: a batch scoring job through a deployment's model, monitored as one batch.

    scenarist predict DEPLOYMENT_ID scoring.csv -o scored.csv --model fraud.joblib
                      [--batch-prefix "Batch From predict.py" | --batch ID] [-p DIR | --url URL]

A deployment stores its model's declaration, not the estimator, so the job is given the
estimator (`--model`, checked against the deployment like `scenarist serve --model`). The input
(CSV or Parquet, any size) is read in chunks with pyarrow; each chunk is predicted, logged to
the deployment under the job's monitoring batch (`PREFIX - <UTC timestamp>`, created for the
job, or `--batch`) with sample ids `<job>-<row>`, and appended to the output (CSV or Parquet by
its suffix): the input's columns, then sample_id, prediction and the class probabilities.
The HTTP equivalent is POST /deployments/{id}/predictions?monitoringBatchPrefix=PREFIX.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from scenarist.commands.common import (
    CommandLineError,
    StoreProjectOption,
    UrlOption,
    err,
    friendly_errors,
    out,
    store_url,
)

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@friendly_errors
def predict(
    deployment_id: Annotated[str, typer.Argument(help="The deployment whose model scores.")],
    input: Annotated[Path, typer.Argument(help="Rows to score: .csv or .parquet.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the predictions go: "
                                         ".csv or .parquet.")],
    model: Annotated[Path | None, typer.Option("--model", "-m", help="The deployment's "
                                               "estimator (joblib): a deployment stores its "
                                               "model's declaration, not the estimator.")] = None,
    batch_prefix: Annotated[str, typer.Option(help="Name of the job's new monitoring batch: "
                                              "PREFIX - <timestamp>.")] = "Batch From predict.py",
    batch: Annotated[str | None, typer.Option(help="File the rows under this existing batch "
                                              "(id or name) instead.")] = None,
    chunk_mb: Annotated[float, typer.Option(help="Input read per chunk (MB).")] = 16.0,
    url: UrlOption = None,
    project: StoreProjectOption = None,
) -> None:
    """Score a file through a deployment's model; every row is monitored under one batch."""
    if model is None:
        raise CommandLineError("give the deployment's estimator with --model path.joblib (a "
                               "deployment keeps its model's declaration, not the estimator)")
    kinds = [FORMATS.get(p.suffix.lower()) for p in (input, output)]
    if None in kinds:
        raise CommandLineError(f"{input if kinds[0] is None else output}: use a .csv or "
                               ".parquet file")
    if not input.is_file():
        raise CommandLineError(f"input file {input} does not exist")
    from scenarist.server.serving import ServedModels, job_batch, open_batch

    served = ServedModels(store_url(url, project)).load(deployment_id, model)
    deployment = served.deployment
    target = open_batch(deployment, batch) if batch else job_batch(deployment, batch_prefix)
    job = f"{int(time.time()):x}{target.id[:6]}"
    total = _count_rows(input, kinds[0])
    rows = 0
    with _progress(total) as advance, _Writer(output, kinds[1]) as writer:
        for chunk in _chunks(input, kinds[0], int(chunk_mb * 2**20)):
            scored = _score(served, deployment, chunk, job, rows, target.id)
            writer.write(scored)
            rows += chunk.num_rows
            advance(chunk.num_rows)
    err.print(f"scored {rows} rows → {output}; monitoring batch {target.name!r} "
              f"({target.id})", highlight=False)
    out.print(target.id, highlight=False)


def _score(served: Any, deployment: Any, chunk: Any, job: str, first: int, batch_id: str
           ) -> Any:
    import numpy as np
    import pyarrow as pa

    frame = chunk.to_pandas()
    model = served.model
    values, probabilities = model.predict(frame)
    n = len(frame)
    ids = [f"{job}-{first + i}" for i in range(n)]
    logged = [c for c in (*model.features, *deployment.settings.association_id.column_names)
              if c in frame.columns]
    deployment.log_batch(ids, np.full(n, time.time()), frame[logged], values, probabilities,
                         batch_id)
    table = pa.Table.from_batches([chunk]) if isinstance(chunk, pa.RecordBatch) else chunk
    table = table.append_column("sample_id", pa.array(ids))
    table = table.append_column("prediction", pa.array(values))
    if probabilities is not None and np.ndim(probabilities) == 1:
        table = table.append_column("probability", pa.array(probabilities))
    elif probabilities is not None:
        for i, name in enumerate(model.classes or ()):
            table = table.append_column(f"probability_{name}", pa.array(probabilities[:, i]))
    return table


def _chunks(path: Path, kind: str, block: int) -> Any:
    if kind == "csv":
        from pyarrow import csv

        reader = csv.open_csv(path, read_options=csv.ReadOptions(block_size=block))
        yield from reader
    else:
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(path).iter_batches(batch_size=max(block // 64, 1024))


def _count_rows(path: Path, kind: str) -> int | None:
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(16 * 2**20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines - 1 + (last != b"\n")  # the header; a last line without a newline


class _Writer:
    def __init__(self, path: Path, kind: str):
        self.path, self.kind, self.sink = path, kind, None

    def __enter__(self) -> _Writer:
        return self

    def write(self, table: Any) -> None:
        if self.sink is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.kind == "csv":
                from pyarrow import csv

                self.sink = csv.CSVWriter(self.path, table.schema)
            else:
                import pyarrow.parquet as pq

                self.sink = pq.ParquetWriter(self.path, table.schema)
        self.sink.write_table(table)

    def __exit__(self, *_exc: object) -> None:
        if self.sink is not None:
            self.sink.close()


class _progress:
    """A rich progress bar over rows (on a terminal)."""

    def __init__(self, total: int | None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._progress = Progress(BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                  console=err, disable=not err.is_terminal)
        self._task = self._progress.add_task("scoring", total=total)

    def __enter__(self) -> Any:
        self._progress.start()
        return lambda n: self._progress.update(self._task, advance=n)

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()
