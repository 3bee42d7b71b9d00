"""The comparison helper's asserts get pytest's detailed diffs."""

import pytest

pytest.register_assert_rewrite("tests.autograd._compare")
