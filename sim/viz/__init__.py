"""Pictures: the shared style, plots of results, maps."""
