"""Models on top of the store: encoders, the embedding cache, sentiment."""
