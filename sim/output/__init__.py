"""Output: result folders the tool owns, result files, summaries and text tables."""
