"""What is *done* to an evaluation store with a project: build an evaluation (`build`), stream
one from Parquet (`streamed`), run and record checks (`checking`), replay them over history
(`backtesting`), revise verdicts after late labels (`revisions`) and keep or export the rows
behind an evaluation (`export`)."""
