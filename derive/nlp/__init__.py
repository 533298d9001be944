"""The lectures' NLP models (J&M ch. 7): text features, embeddings, a language model."""
