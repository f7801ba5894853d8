"""AWS layer: network, EKS, system nodes, Karpenter and GPU pools, cost alarms."""
