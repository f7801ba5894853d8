"""Preflight: can this AWS account launch what a stack declares? Quotas, offerings, reservations, EKS version and
the shipped placeholders, checked with the user's credentials before the first `pulumi up` (`make preflight`)."""
