"""The one validation function of a schema: linear pre-checks first, then graphql-core's rules, cached per
parsed document.

Order matters: the directive check and the shape check (``shape``) are linear in the document and refuse, with
one error, anything that would make a later rule slow: graphql-core's OverlappingFieldsCanBeMerged compares
pairs of fields and fragments (quadratic), and a rule walking every spread of every fragment is exponential in a
document of fragments that each spread the previous one twice. Only a document that passes them meets those
rules (which are then bounded by the shape's limits).

The rules that run, audited (issue 20): graphql-core's specified rules walk the document once (a visitor) with
per-node caches (MaxIntrospectionDepthRule: per fragment and entry depth), but for two, bounded here first:
OverlappingFieldsCanBeMerged compares every pair of fields under one response name and every pair of spread
fragments (``max_same_name``, ``max_spreads``, ``max_selections``), and KnownDirectivesRule and
UniqueDirectivesPerLocationRule answer one error per directive (``directives``). The variable rules look up each
operation's fragments (cached per fragment). Strawberry's MaxAliasesLimiter and
QueryDepthLimiter walk every spread without memo (exponential): replaced by ``shape``'s counts. MaxTokensLimiter
bounds the parser (linear). Strawberry's MaybeNull and OneOf rules and ``literal_characters_rule`` visit each
node once. The cost (``cost``) is memoised per fragment, type and page."""

from __future__ import annotations

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate

from api.graphql.limits.cache import DocumentCache
from api.graphql.limits.directives import directive_error
from api.graphql.limits.shape import ShapeLimits, shape_error


class Validator:
    """Validation of ``schema``'s documents, cached per parsed document (``DocumentCache``). Directive problems
    and shape limits each give one error, before graphql-core's ``rules`` run."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: tuple[type[ASTValidationRule], ...],
        *,
        hide_suggestions: bool,
        max_errors: int,
        max_directives: int,
        shape: ShapeLimits,
    ) -> None:
        self.schema, self.rules = schema, rules
        self.hide_suggestions, self.max_errors, self.max_directives = hide_suggestions, max_errors, max_directives
        self.shape = shape
        self.cache: DocumentCache[list[GraphQLError]] = DocumentCache()

    def __call__(self, document: DocumentNode) -> list[GraphQLError]:
        return self.cache.get(document, None, lambda: self.check(document))

    def check(self, document: DocumentNode) -> list[GraphQLError]:
        refused = directive_error(self.schema, document, self.max_directives) or shape_error(document, self.shape)
        if refused is not None:
            return [refused]
        return validate(
            self.schema, document, self.rules, max_errors=self.max_errors, hide_suggestions=self.hide_suggestions
        )
