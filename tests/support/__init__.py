"""Local servers that speak the REST protocols of the Azure services the project uses (Databricks
workspace, Key Vault, ADLS Gen2), so the official SDKs are tested end to end without the cloud."""
