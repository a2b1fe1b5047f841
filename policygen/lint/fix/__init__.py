"""`policygen lint --fix` (lint/fix/policy.py): the role's policy corrected, never wider than needed."""

from policygen.lint.fix.policy import fixed_policy

__all__ = ["fixed_policy"]
