"""chainrule's emitters: printers and Jinja2 templates for text, LaTeX and NumPy, and the CLI."""
