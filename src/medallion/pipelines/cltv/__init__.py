"""Customer lifetime value and segmentation: the Telco churn sample and synthetic new customers, a CLTV regressor
and a KMeans segmentation (Spark MLlib, tracked in MLflow), scored into gold for Power BI.

Tables and rules: README.md beside this file.
"""
