"""`miner crawl`: a polite, resumable, incremental crawler of complaint sites that stores what it
finds through ingest's pipeline. `profile` (YAML site profiles), `urls` (normalisation, traps),
`fetch` (HTTP, robots.txt, delays), `extract` (links and records of a page), `frontier` (the
crawl's state in the store), `crawler` (the loop, and `--dry-run`'s preview). See docs/crawl.md.
"""
