"""The layer-level IR: a straight-line program of named matrix assignments, and its reverse sweep."""
