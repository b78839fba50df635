"""The pure domain: aggregates, their events and the values they carry.

Nothing here imports web, database or settings code.
"""
