"""The machinery that runs the views: the runner, the projections process, rebuilds, locks and the quarantine."""
