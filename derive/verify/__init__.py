"""Checking claimed derivatives against the derivation: text and LaTeX claims, scalar and matrix, verdicts and likely slips."""
