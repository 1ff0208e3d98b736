from medallion.registry import Pipeline

PIPELINE = Pipeline(
    name="movies",
    description="Movie reviews: purchases from PostgreSQL over JDBC, daily review and XML session-log files, "
    "review classification and a star schema (dimensions with stable surrogate keys, fact_movie_analytics).",
)
