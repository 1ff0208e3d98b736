from medallion.registry import Pipeline

PIPELINE = Pipeline(
    name="experiments",
    description="A/B tests: test metadata copied incrementally from the operational database (JDBC), platform "
    "and business events from the landing zone, significance-tested business metrics and quality metrics.",
)
