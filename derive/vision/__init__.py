"""Image tasks the project makes itself: small labelled images drawn deterministically from a seed (no downloads)."""
