//! CONFIG REWRITE: the config file rewritten in place as Redis does (comments and order kept,
//! changed lines replaced, new ones appended, defaults removed).
