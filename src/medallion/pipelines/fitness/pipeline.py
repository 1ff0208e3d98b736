from medallion.registry import Pipeline

PIPELINE = Pipeline(
    name="fitness",
    description="Wearables: device registrations, gym logins, a multiplexed Kafka topic (profiles CDC, "
    "workouts, heart rate), stream-stream joins into workout and gym summaries.",
)
