//! The C libraries Redis 7.0 links into its Lua, rewritten over mlua: `cjson`, `cmsgpack`,
//! `bit` (LuaBitOp) and `struct`, each a global table as in Redis. They behave as Redis
//! 7.0.15's copies do, error texts included; each file says which library it rewrites.
//!
//! The tables are plain tables: the engine's sandbox makes them read-only as Redis does.
//! Nothing here may panic or allocate without bound on hostile input: depth limits, counts
//! read from input and sizes in formats are checked before anything is built.

mod bit;
mod call;
mod cnum;

/// Opens every library into `lua` as a global table.
pub fn open_all(lua: &mlua::Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.raw_set("bit", bit::open(lua)?)?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs Lua snippets against the libraries; the expected values in the tests were read
    //! from redis-server 7.0.15 (`redis-cli EVAL "return ..." 0`), unless a test says otherwise.

    use mlua::{Lua, Value};

    pub fn lua() -> Lua {
        let lua = Lua::new();
        super::open_all(&lua).expect("open the libraries");
        lua
    }

    /// The value of `expr`, as redis-cli would show it (strings and numbers), or the error
    /// text the call raised.
    pub fn show(lua: &Lua, expr: &str) -> String {
        let chunk = lua.load(format!("return {expr}")).set_name("@user_script");
        match chunk.eval::<Value>() {
            Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            Ok(Value::Number(n)) => format!("{n}"),
            Ok(Value::Integer(n)) => format!("{n}"),
            Ok(Value::Boolean(b)) => format!("{b}"),
            Ok(Value::Nil) => "nil".to_string(),
            Ok(v) => format!("{v:?}"),
            Err(mlua::Error::RuntimeError(msg)) => {
                let msg = msg.split("\nstack traceback:").next().unwrap_or_default();
                format!("ERR {msg}")
            }
            Err(e) => format!("ERR? {e}"),
        }
    }

    /// Checks each `(expression, expected)` pair.
    pub fn check(cases: &[(&str, &str)]) {
        let lua = lua();
        for (expr, want) in cases {
            assert_eq!(show(&lua, expr), *want, "{expr}");
        }
    }
}
