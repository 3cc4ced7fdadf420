"""What every area of the graph shares: the Relay `Node` interface (`node`), connections and error types
(`common`), the domain's enums (`enums`), building a record type from its entity and the visibility rule
(`build`, `visibility`), root connections' helpers (`listing`), inputs and permission rules more than one area
uses (`inputs`, `access`), the `history` field of audited records (`history`), the request's DataLoader
(`dataloader`), and how areas reach each other's types without importing each other (`refs`, `lazy`)."""
