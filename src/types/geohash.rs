//! Geohash encoding and distances as Redis computes them: being built for issue 15.
