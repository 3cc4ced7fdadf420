"""The application services: the work the API and the CLI share, above the domain's commands and the repositories.

- `identity`: issuing and revoking API tokens (one set of rules for `vigil token` and the GraphQL mutations).
- `bulk_jobs`, `backtest_jobs`, `delayed_actions`: the runners of bulk decisions, rule backtests and rules' delayed
  actions (`delay(...)`, run once when due) in the server process.
- `dispatcher`, `nats_publisher`, `webhook_transport`: outbox events to webhooks and NATS JetStream.
- `dsa_submit`, `dsa_client`: statements of reasons to the DSA Transparency Database.
- `events_consumer`: platform events pulled from NATS JetStream (`vigil consume`).
- `transparency_report`, `transparency_csv`, `transparency_html`: the DSA transparency report and its two forms.
- `seed`, `seed_staff`: the demo data of `make run`.

The background jobs among them are started and stopped by `api.lifecycle`; the CLI (`api.cli`) calls the rest.
"""
