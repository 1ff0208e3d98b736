"""Retail: daily sales and customer CDC files, clickstream and IoT events through Kafka (Event Hubs on Azure);
SCD2 customers, sessions, funnel, 5-minute IoT windows and alerts.

Tables and rules: README.md beside this file.
"""
