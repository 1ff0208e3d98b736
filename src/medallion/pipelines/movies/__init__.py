"""Movie reviews: vendor CSV reviews classified, XML session logs, purchases from the operational database, a star schema for BI.

Tables and rules: README.md beside this file.
"""
