"""Automation: rules that turn classifier signals into automated decisions or AUTOMATED reports, and the
signals themselves."""
