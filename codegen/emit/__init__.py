"""Module emitters: generated NumPy training modules and their tests (per-unit and layer networks), written atomically."""
