"""The lectures' NLP models (J&M ch. 7, C.8–C.10): text features, embeddings, a language model."""
