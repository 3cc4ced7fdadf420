"""What every area of the graph shares: the Relay `Node` interface and connections (`common`), the domain's
enums, building a node from its entity and the visibility rule (`build`, `visibility`), listing helpers for root
connections (`listing`), inputs and rules more than one area uses (`inputs`, `access`), the `history` field of
audited records (`history`), and `lazy_module`, through which an area reaches another's types at run time."""
