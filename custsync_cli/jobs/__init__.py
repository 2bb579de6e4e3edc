"""The batch jobs: pull from channels, sync into HQ, distribute back, and the runner."""
