"""One package per pipeline (see medallion.declare.pipeline for the contract)."""
