"""SQLAlchemy tables, repositories and the unit of work: the domain's only door to PostgreSQL."""
