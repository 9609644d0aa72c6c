//! Bit operations over byte strings (counting, searching, bit fields): being built for issue 15.
