"""Mapping (指标对照): mapping configs, conversions, the engine that turns source rows into
spec records, and draft suggestions.
"""
