"""The columns of the Telco customer churn file: its header, the snake_case name each gets in the
lakehouse, and which of them are labels (absent from new customers)."""

from __future__ import annotations

# (header in the CSV file, column name in the lakehouse), in file order
TRAIN_COLUMNS = (
    ("CustomerID", "customer_id"),
    ("Count", "count"),
    ("Country", "country"),
    ("State", "state"),
    ("City", "city"),
    ("Zip Code", "zip_code"),
    ("Lat Long", "lat_long"),
    ("Latitude", "latitude"),
    ("Longitude", "longitude"),
    ("Gender", "gender"),
    ("Senior Citizen", "senior_citizen"),
    ("Partner", "partner"),
    ("Dependents", "dependents"),
    ("Tenure Months", "tenure_months"),
    ("Phone Service", "phone_service"),
    ("Multiple Lines", "multiple_lines"),
    ("Internet Service", "internet_service"),
    ("Online Security", "online_security"),
    ("Online Backup", "online_backup"),
    ("Device Protection", "device_protection"),
    ("Tech Support", "tech_support"),
    ("Streaming TV", "streaming_tv"),
    ("Streaming Movies", "streaming_movies"),
    ("Contract", "contract"),
    ("Paperless Billing", "paperless_billing"),
    ("Payment Method", "payment_method"),
    ("Monthly Charges", "monthly_charges"),
    ("Total Charges", "total_charges"),
    ("Churn Label", "churn_label"),
    ("Churn Value", "churn_value"),
    ("Churn Score", "churn_score"),
    ("CLTV", "cltv"),
    ("Churn Reason", "churn_reason"),
)
LABELS = ("churn_label", "churn_value", "churn_score", "cltv", "churn_reason")
NEW_COLUMNS = tuple((header, name) for header, name in TRAIN_COLUMNS if name not in LABELS)

YES_NO = ("senior_citizen", "partner", "dependents", "phone_service", "paperless_billing", "churn_label")
# Yes / No with a third value meaning "No, because the customer has no phone / internet service"
ADD_ONS = (
    "multiple_lines",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
)
INTERNET_ADD_ONS = ADD_ONS[1:]

CONTRACTS = ("Month-to-month", "One year", "Two year")
INTERNET_SERVICES = ("DSL", "Fiber optic", "No")
PAYMENT_METHODS = ("Bank transfer (automatic)", "Credit card (automatic)", "Electronic check", "Mailed check")


def string_schema(columns) -> str:
    """A DDL schema of the columns as strings: bronze keeps every value as it was landed."""
    return ", ".join(f"{name} STRING" for _, name in columns)
