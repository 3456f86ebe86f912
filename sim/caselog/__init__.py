"""Case logs: a district's own export of cases (数字城管 / 12345 / 311), read and cleaned.

One row per case with a time, a category, a place and often the channel that found it.
This package reads such a file whatever its kind and language, and knows nothing of the
street network: :func:`~sim.caselog.clean.read_log` gives a
:class:`~sim.caselog.log.CaseLog` in the map's metres with every left-out row counted,
and the world places it on the streets (:mod:`sim.world.snap`).

- ``read``: the file's kind (CSV in UTF-8/GBK/GB18030/UTF-16, .xlsx, GeoJSON, Parquet),
  encoding and header, and its rows in chunks;
- ``columns``: which column holds what (English and Chinese names, or given);
- ``times``: time formats, offsets and the district's zone;
- ``coords``: WGS84, GCJ-02, BD-09 and projected systems into map metres;
- ``labels``: the log's categories and channels mapped to the scenario's;
- ``clean``: the read itself, row by row, and the counts;
- ``log``: the result, :class:`~sim.caselog.log.CaseLog`, and its :class:`RowCounts`.
"""
