"""Local stand-ins for the external services of production (the operational database), run for real."""
