//! One shard's Lua interpreter (see `docs/scripting.md` once written): the EVAL and FUNCTION
//! states, compiled scripts, running a script with a `Host`, and suspending it at the busy
//! threshold.
