from tests.servers.checkout import checkout, workspace  # noqa: F401  (fixtures)
