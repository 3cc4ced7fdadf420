"""Review: cases, decisions, enforcement actions and strikes; deciding, escalating, bulk decisions."""
