from polaris.shared.testing import *  # noqa: F401,F403 (fixtures)
