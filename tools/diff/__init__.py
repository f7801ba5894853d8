"""What promoting one stack's config to another's changes, before `pulumi up` (`make diff FROM=shadow TO=rollout`).

Both configs are planned offline under the FROM stack's name: the TO config as if it were applied to the FROM stack,
which is what a promotion does. So what differs is what `pulumi up` would change (the config's doing), never names
that carry the other stack's name. It compares the traffic settings, the GPU capacity, the resources (added,
removed, changed with their input keys) and the monthly cost.
"""
