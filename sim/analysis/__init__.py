"""Analysis: measures computed from the immutable incident table (and the monthly evaluation)."""
