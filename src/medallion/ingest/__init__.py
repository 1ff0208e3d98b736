"""Sources: files in a landing zone (and, per pipeline, databases and message brokers)."""
