"""The design frame and its projections.

All geometry is drawn in an azimuthal equidistant projection centred on the district
centre (metres; x east, y north), then projected to UTM 49N for the street graph and
to WGS84 lon/lat for the GeoJSON layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import Geod, Transformer

from .facts import CENTER_LAT, CENTER_LON

Array = npt.NDArray[np.float64]

UTM_CRS = "EPSG:32649"
DESIGN_CRS = f"+proj=aeqd +lat_0={CENTER_LAT} +lon_0={CENTER_LON} +datum=WGS84 +units=m +no_defs"
TO_UTM = Transformer.from_crs(DESIGN_CRS, UTM_CRS, always_xy=True)
TO_LONLAT = Transformer.from_crs(DESIGN_CRS, "EPSG:4326", always_xy=True)
GEOD = Geod(ellps="WGS84")


def to_lonlat(xy: Array | Sequence[Sequence[float]]) -> Array:
    """Design-frame points (n x 2) as lon/lat rows."""
    a = np.asarray(xy, dtype=float)
    lon, lat = TO_LONLAT.transform(a[:, 0], a[:, 1])
    return np.column_stack([lon, lat])


def geodesic_area_km2(poly_ll: Any) -> float:
    """Area on the WGS84 ellipsoid of a lon/lat polygon, in km²."""
    return float(abs(GEOD.geometry_area_perimeter(poly_ll)[0]) / 1e6)
