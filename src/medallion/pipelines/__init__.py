"""One package per pipeline; each exposes PIPELINE."""
