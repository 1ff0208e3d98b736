from tests.support.checkout import checkout, workspace  # noqa: F401  (fixtures)
