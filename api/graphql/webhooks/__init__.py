"""Outbound events and webhooks over GraphQL: `events`, `webhooks`, `registerWebhook`, `rotateWebhookSecret`,
`disableWebhook`, `redeliverWebhook`.

Events are read with `events:read` within the reader's regions. Webhook endpoints belong to whoever registered
them (a partner organisation, or a staff member): `webhooks` lists only the caller's own, another's is NOT_FOUND,
and an endpoint may only name regions where its owner may read events. A signing secret appears exactly once, in
the payload of `registerWebhook` or `rotateWebhookSecret`.
"""
