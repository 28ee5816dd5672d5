"""What a viewer may see of the network: every node and tie filtered by its consent, before any measure.

Example:
    >>> from strengthmap.network.model import Network, NetworkNode, NetworkTie, Viewer
    >>> amy = NetworkNode("amy", "person", "Amy", "public")
    >>> ben = NetworkNode("ben", "person", "Ben", "private", added_by="ann@example.org")
    >>> hall = NetworkNode("hall", "location", "Hall", "public")
    >>> net = Network((amy, ben, hall), (
    ...     NetworkTie("t1", "amy", "hall", "volunteers_at", consent="public"),
    ...     NetworkTie("t2", "ben", "amy", "meets_with", consent="public"),
    ... ))
    >>> [n.id for n in visible_network(net, Viewer.anonymous())]
    ['amy', 'hall']
    >>> [t.id for t in visible_network(net, Viewer.anonymous()).ties]
    ['t1']
    >>> [n.id for n in visible_network(net, Viewer.editor("ann@example.org"))]
    ['amy', 'ben', 'hall']

The approach (documented in ``docs/methods/network.md``): **measures are computed on the visible
graph only**. A tie is visible when its own consent allows it *and* both its ends are visible
(a directory record that is not itself entered in the network is visible only with a visible
tie), so a public person's degree, betweenness or community never counts a tie to someone the viewer
may not see: whatever a viewer gets is exactly what they would get had the hidden records never
been entered. Nothing is aggregated from hidden records, so nothing can be subtracted back out.
"""

from __future__ import annotations

from strengthmap.network.model import Network, NetworkNode, NetworkTie, Viewer


def node_visible(node: NetworkNode, viewer: Viewer) -> bool:
    """Whether ``viewer`` may see ``node`` (its consent, and who added it if private)."""
    return viewer.may_see(node.consent, node.added_by)


def tie_visible(tie: NetworkTie, viewer: Viewer) -> bool:
    """Whether ``viewer`` may see the tie itself (its ends are checked by ``visible_network``)."""
    return viewer.may_see(tie.consent, tie.added_by)


def visible_network(network: Network, viewer: Viewer) -> Network:
    """The part of ``network`` that ``viewer`` may see: visible nodes, and visible ties between
    them. Filtering a filtered network again for the same or a narrower viewer is safe."""
    nodes = [n for n in network.nodes if node_visible(n, viewer)]
    keep = {n.id for n in nodes}
    ties = [
        t for t in network.ties if t.source in keep and t.target in keep and tie_visible(t, viewer)
    ]
    # a directory record that is in the network only as the end of ties is shown only with a
    # tie the viewer may see: otherwise its presence would tell that a hidden tie exists
    ends = {t.source for t in ties} | {t.target for t in ties}
    nodes = [n for n in nodes if n.listed or n.id in ends]
    return network.with_parts(nodes, ties, viewer=viewer)


def hidden_counts(network: Network, viewer: Viewer) -> dict[str, int]:
    """How many nodes and ties of ``network`` ``viewer`` may not see, for trusted callers that
    warn an operator (never shown to the viewer: even a count can tell that someone is there)."""
    seen = visible_network(network, viewer)
    return {
        "nodes": len(network.nodes) - len(seen.nodes),
        "ties": len(network.ties) - len(seen.ties),
    }


__all__ = ["hidden_counts", "node_visible", "tie_visible", "visible_network"]
