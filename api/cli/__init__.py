"""The `vigil` command: `main` holds the app and its top-level commands (serve, dispatch, db, schema...), each
other module one group of subcommands (`vigil audit`, `vigil token`, `vigil dsa`, `vigil report`...)."""
