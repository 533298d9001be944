"""Handout builders: LaTeX (and PDF), HTML, slides, notebooks, the batch and topic sections, the NLP handouts."""
