"""GraphQL schema, resolvers, the ASGI app and the `vigil` command line: Vigil's adapters to the world."""
