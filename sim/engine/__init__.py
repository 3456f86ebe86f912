"""The engine: demand, dispatch policies, the incident chain on a SimPy clock, records.

Knows nothing of YAML or files: it reads a built world and fills an incident log.
"""
