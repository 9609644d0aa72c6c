//! HyperLogLog registers in Redis' sparse and dense encodings: being built for issue 15.
