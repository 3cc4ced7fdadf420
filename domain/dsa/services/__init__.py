"""The DSA's application services (see ``domain.dsa``). Each takes the caller's unit of work and never commits."""
