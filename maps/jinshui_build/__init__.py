"""Builder of the default Jinshui District map (maps/jinshui/); run maps/build_jinshui.py.

The modules follow the build: ``facts`` (hand data from public sources) → ``frame``
(projections) → ``blocks`` (drawn lines, blocks, offices) → ``patterns`` (local
streets in a block) → ``streets`` (the noded network) → ``grids`` (cells per office)
→ ``writers`` and ``readme`` (the files) → ``build`` (the whole, in order).
"""
