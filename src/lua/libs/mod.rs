//! The C libraries Redis 7.0 links into its Lua, rewritten over mlua: `cjson`, `cmsgpack`,
//! `bit` (LuaBitOp) and `struct`, each a global table as in Redis. They behave as Redis
//! 7.0.15's copies do, error texts included; each file says which library it rewrites.
//!
//! The tables are plain tables: the engine's sandbox makes them read-only as Redis does.
//! Nothing here may panic or allocate without bound on hostile input: depth limits, counts
//! read from input and sizes in formats are checked before anything is built.

mod bit;
mod capi;
mod cjson;
mod cmsgpack;
mod cnum;
mod struct_lib;

/// Opens every library into `lua` as a global table.
pub fn open_all(lua: &mlua::Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.raw_set("cjson", cjson::open(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::open_table(lua)?)?;
    globals.raw_set("struct", struct_lib::open(lua)?)?;
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

    /// The value of `expr` as `redis-cli EVAL "return <expr>" 0` prints it (strings raw,
    /// numbers truncated to integers, true as 1, false and nil as nothing), or the error
    /// text the call raised, without the "script: ..." suffix Redis adds.
    pub fn show(lua: &Lua, expr: &str) -> String {
        // The same one-line helper the expected values were generated with.
        let hex = "local function hex(s) return (s:gsub(\".\", function(c) \
                   return string.format(\"%02x\", c:byte()) end)) end ";
        let chunk = lua
            .load(format!("{hex}return {expr}"))
            .set_name("@user_script");
        match chunk.eval::<Value>() {
            Ok(v) => reply(v),
            Err(mlua::Error::RuntimeError(msg)) => {
                let msg = msg.split("\nstack traceback:").next().unwrap_or_default();
                format!("ERR {msg}")
            }
            Err(e) => format!("ERR? {e}"),
        }
    }

    /// A Lua value as Redis converts it to a reply and redis-cli prints it: a table is its
    /// array part, one element a line.
    fn reply(v: Value) -> String {
        match v {
            Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            Value::Number(n) => format!("{}", super::cnum::f64_to_i64(n)),
            Value::Integer(n) => format!("{n}"),
            Value::Boolean(true) => "1".to_string(),
            Value::Boolean(false) | Value::Nil => String::new(),
            Value::Table(t) => {
                let mut lines = Vec::new();
                for i in 1.. {
                    match t.raw_get::<Value>(i) {
                        Ok(Value::Nil) | Err(_) => break,
                        Ok(v) => lines.push(reply(v)),
                    }
                }
                lines.join("\n")
            }
            v => format!("{v:?}"),
        }
    }

    /// Checks each line `<expression> => <expected>` of `cases` (an empty expected value is
    /// written as "=>" ending the line).
    pub fn check_lines(cases: &str) {
        // Replies thousands of tables deep are printed recursively: give them room.
        let cases = cases.to_string();
        let run = move || {
            let lua = lua();
            for line in cases.lines().filter(|l| !l.is_empty()) {
                let (expr, want) = match line.rsplit_once(" => ") {
                    Some(pair) => pair,
                    None => (line.strip_suffix(" =>").unwrap_or(line), ""),
                };
                assert_eq!(show(&lua, expr), want, "{expr}");
            }
        };
        let thread = std::thread::Builder::new().stack_size(256 << 20).spawn(run);
        if let Err(panic) = thread.expect("spawn the checking thread").join() {
            std::panic::resume_unwind(panic);
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
