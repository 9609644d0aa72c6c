//! Integration tests for issue 15/14 work in progress: hll.
