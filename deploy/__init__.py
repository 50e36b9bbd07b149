"""A local cluster on real parts: PostgreSQL, N portal replicas and nginx in front (``make cluster``).

Tooling for trying, testing and benchmarking several replicas on one machine;
nothing on the request path imports it. `Cluster` starts and stops the parts,
`nginx.render_config` is the load balancer's configuration docs/deploy.md explains.
"""

from deploy.launcher import Cluster, ClusterSpec, Replica

__all__ = ["Cluster", "ClusterSpec", "Replica"]
