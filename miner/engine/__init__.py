"""Engines that run miner's heavy stages past one machine (`--engine ray`).

`ray_analyze` runs `miner analyze` on a Ray cluster with the same batch functions as the
local engine (`miner.analyze`). Ray is an optional extra (`pip install miner[ray]`); nothing
here imports it until a run starts.
"""
