"""The per-unit engine: ``Network`` (scalar units), its ``Derivation`` by the chain rule, and the lecture's simplifications."""
