"""Coordinates of a case log: WGS84, GCJ-02, BD-09, or a projected system, into map metres.

Chinese case systems often export GCJ-02 (国测局, "Mars" coordinates: the obfuscated
WGS84 of Chinese web maps, off by 100-700 m) or BD-09 (Baidu's offset of GCJ-02).
pyproj knows neither, so the conversions are ours: the published forward formula of
GCJ-02 (Krasovsky ellipsoid, a = 6378245 m) and its inverse by fixed-point iteration,
which converges to well under a millimetre; BD-09 is GCJ-02 rotated and shifted by the
published formula. Outside China's bounding box GCJ-02 equals WGS84. The tests check
both directions against points published with other implementations.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

_A: Final = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
_EE: Final = 0.00669342162296594323  # its first eccentricity squared
_X_PI: Final = math.pi * 3000.0 / 180.0  # BD-09's rotation constant

# the systems a log's coordinates may be in (``crs`` option): lon/lat kinds and others
GEOGRAPHIC: Final = ("wgs84", "gcj02", "bd09")
MAP: Final = "map"  # x/y already in the map's own projected metres


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    inside: np.ndarray = (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)
    return inside


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 at WGS84 (lon, lat), in degrees (zero outside China)."""
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * pi)
    china = _in_china(lon, lat)
    return np.where(china, dlon, 0.0), np.where(china, dlat, 0.0)


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → GCJ-02 (the published forward formula)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84: the forward formula inverted by fixed-point iteration.

    The offset changes by under 1e-5 of itself per metre, so each step gains about five
    digits; eight steps reach the limit of double precision.
    """
    glon, glat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(8):
        dlon, dlat = _delta(wlon, wlat)
        wlon, wlat = glon - dlon, glat - dlat
    return wlon, wlat


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02 (Baidu's published inverse)."""
    x = np.asarray(lon, float) - 0.0065
    y = np.asarray(lat, float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu's published forward formula)."""
    x, y = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def to_wgs84(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude in ``crs`` (one of :data:`GEOGRAPHIC`) as WGS84."""
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    return np.asarray(lon, float), np.asarray(lat, float)


class Projector:
    """Turns a log's coordinates into the map's metres (``map_crs``; ``None``: no CRS)."""

    def __init__(self, map_crs: str | None) -> None:
        self.map_crs = map_crs
        self._cache: dict[str, object] = {}

    def _transformer(self, source: str) -> object:
        if source not in self._cache:
            # deferred: pyproj loads only for coordinates to transform
            from pyproj import Transformer

            self._cache[source] = Transformer.from_crs(source, self.map_crs, always_xy=True)
        return self._cache[source]

    def lonlat(self, lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
        """Map metres of lon/lat given in ``crs`` (wgs84, gcj02 or bd09)."""
        wlon, wlat = to_wgs84(lon, lat, crs)
        return self.projected(wlon, wlat, "EPSG:4326")

    def projected(self, x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
        """Map metres of x/y given in ``crs`` (an EPSG code or any pyproj string; ``map``: as is)."""
        if crs == MAP:
            return np.asarray(x, float), np.asarray(y, float)
        if self.map_crs is None:
            raise ValueError("the map has no coordinate system")
        t = self._transformer(crs)
        mx, my = t.transform(np.asarray(x, float), np.asarray(y, float))  # type: ignore[attr-defined]
        return np.asarray(mx, float), np.asarray(my, float)


def check_crs(text: str) -> str | None:
    """A problem with a ``crs`` option, or ``None`` when pyproj (or we) know it."""
    if text in GEOGRAPHIC or text == MAP:
        return None
    try:
        from pyproj import CRS  # deferred: pyproj loads only for a coordinate system to check

        CRS.from_user_input(text)
    except Exception:  # pyproj raises its own CRSError and others for odd input
        return f"unknown coordinate system {text!r} (wgs84, gcj02, bd09, map or e.g. EPSG:4547)"
    return None
