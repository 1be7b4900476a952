"""The one exception policy evaluation raises when the request cannot decide something.

Its own module because both condition evaluators and resource matchers raise it, and the
Hive "accessed together" conditions use resource matchers.
"""


class Undecidable(Exception):
    """A condition (or a resource value) cannot be decided from the request; the message
    says why."""
