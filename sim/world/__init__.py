"""The world: street network, map sources, areas, staff placement, travel tables, caching.

Everything about a run that does not depend on the replication; built once from a
scenario by :func:`sim.world.build.build_world` and only read by the engine.
"""
