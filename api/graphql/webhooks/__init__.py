"""Outbound events and webhooks over GraphQL: `events`, `webhooks`, `registerWebhook`, `rotateWebhookSecret`,
`disableWebhook`, `redeliverWebhook`, `retryWebhookDeliveries`.

Events are read with `events:read` within the reader's regions. Webhook endpoints belong to whoever registered
them (a partner organisation, or a staff member) and to their regions: `webhooks` lists only the caller's own whose
every region it manages webhooks in, any other is NOT_FOUND, and an endpoint may only name regions where its owner
may read events and manage webhooks. A signing secret appears exactly once, in
the payload of `registerWebhook` or `rotateWebhookSecret`.
"""
