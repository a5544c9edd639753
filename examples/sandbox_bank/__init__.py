"""A sandbox bank: the anchor's off-chain rail for the demo and the end-to-end tests.

It runs as its own process with its own HTTP API and SQLite file, so tests see the anchor talk to a bank
over the network exactly as it would in production, and can count what the bank did (README.md).
"""
