"""Placement offers, applications, placements and their agreements (next issue)."""
