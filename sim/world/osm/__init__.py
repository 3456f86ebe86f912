"""OpenStreetMap extracts (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``) read by streaming.

One module per concept: ``files`` (which names are OSM data, how pyosmium opens them, the
declared bounds), ``streets`` (street ways cut at the edge of the file or of the part to
simulate, simplified to streets between junctions) and ``boundaries`` (administrative or
tagged boundaries with their Latin and Chinese names). What the world makes of them on a
street network (the part of a big file to simulate, street offices from its boundaries)
is :mod:`sim.world.districts`, a layer above the network.
"""

from sim.world.osm.boundaries import Boundary as Boundary
from sim.world.osm.boundaries import names_of as names_of
from sim.world.osm.boundaries import read_boundaries as read_boundaries
from sim.world.osm.files import OSM_SUFFIXES as OSM_SUFFIXES
from sim.world.osm.files import extract_bounds as extract_bounds
from sim.world.osm.files import is_osm as is_osm
from sim.world.osm.streets import MAX_STREET_REFS as MAX_STREET_REFS
from sim.world.osm.streets import MAX_UNCUT_BYTES as MAX_UNCUT_BYTES
from sim.world.osm.streets import Streets as Streets
from sim.world.osm.streets import read_streets as read_streets
