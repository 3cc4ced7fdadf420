"""The GraphQL schema: types, root fields, mutations, loaders, errors and the extensions guarding them."""
