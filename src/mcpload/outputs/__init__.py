"""Outputs: each renders summaries (or a diagnosis) for one audience; none computes metrics."""
