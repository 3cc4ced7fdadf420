"""Policies (global, versioned) and strike ladders (per region and surface, versioned)."""
