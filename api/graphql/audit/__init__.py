"""The audit trail: `auditEvents` and `verifyAuditTrail` (a record's own events are its `history` field,
`api.graphql.shared.history`). Everything here needs `audit:read` and shows only the reader's regions."""
