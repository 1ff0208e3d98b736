"""Wearables: device registrations, gym logins, a multiplexed Kafka topic (profiles CDC, workouts, heart rate),
stream-stream joins into workout and gym summaries.

Tables and rules: README.md beside this file.
"""
