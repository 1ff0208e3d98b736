"""A/B tests: an operational SQL source, platform and business events, quality and business metrics with statistics.

Tables and rules: README.md beside this file.
"""
