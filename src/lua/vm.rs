//! One shard's Lua interpreter (docs/scripting.md): the EVAL state and the FUNCTION state,
//! the scripts and functions compiled in them, running one with a `Host`, and suspending it at
//! the busy threshold so the shard can answer others meanwhile.
//!
//! Each state keeps its compiled code in a Rust map (by SHA for scripts, by name for
//! functions), so EVALSHA costs one map lookup and one coroutine resume.

use super::convert;
use super::coro::{self, HookArgs, Resumed, RunScope, RunVars, Start};
use super::functions_load::{self, Registered};
use super::redis_table::Flavor;
use super::sandbox::{self, State};
use super::shebang;
use super::stack::ScriptStack;
use super::store::{Library, Script, ScriptStore, Sha};
use super::{Host, RunControl, ScriptFlags};
use crate::constants::LUA_GC_CYCLE_PERIOD;
use crate::resp::{Out, ReplyError};
use hashbrown::HashMap;
use mlua::{Function, Thread, Value};
use std::rc::Rc;
use std::time::Instant;

/// What one run gets from the runner.
pub struct Run<'a> {
    pub keys: &'a [&'a [u8]],
    pub args: &'a [&'a [u8]],
    /// The shard may take the script off the core at the busy threshold (`Step::Yielded`).
    pub may_yield: bool,
    /// Past this many milliseconds the shard is busy (`ctl.busy`); 0: no limit, as Redis.
    pub busy_threshold_ms: u64,
    /// When the run began, as the runner read the clock for the command (the busy threshold
    /// counts from there: no second clock read per run).
    pub started: Instant,
}

/// How a run ended, for now.
pub enum Step {
    /// Ok: the reply is written to `out`. Err: the error reply (the runner writes and counts it).
    Done(Result<(), ReplyError>),
    /// Past the busy threshold: continue with `LuaVm::resume`.
    Yielded(Suspended),
}

/// What an error's suffix names: the SHA of a script, the name of a function.
#[derive(Clone)]
enum RunName {
    Sha(Sha),
    Function(Rc<str>),
}

impl std::fmt::Display for RunName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunName::Sha(sha) => f.write_str(&String::from_utf8_lossy(sha)),
            RunName::Function(name) => f.write_str(name),
        }
    }
}

/// A script taken off the core at the busy threshold.
pub struct Suspended {
    flavor: Flavor,
    /// The state generation it runs in (a state rebuilt meanwhile cannot continue it).
    generation: u64,
    co: Thread,
    vars: RunVars,
    name: RunName,
    started: Instant,
    may_yield: bool,
    busy_threshold_ms: u64,
    /// Which run waits on the VM's script stack (`ScriptStack::resume_left`).
    ticket: u64,
}

struct EvalState {
    st: State,
    /// With the flags of the script, so a run of a compiled script needs nothing else.
    scripts: HashMap<Sha, (Function, ScriptFlags)>,
}

struct FuncState {
    st: State,
    functions: HashMap<Box<[u8]>, (Rc<str>, Function)>,
}

pub struct LuaVm {
    eval: EvalState,
    func: FuncState,
    scripts_epoch: u64,
    libs_version: Option<u64>,
    /// Bumped whenever a state is rebuilt.
    generation: u64,
    /// Runs ended since the last extra collector step (`count_run`).
    runs_since_gc: u32,
    /// The machine stack runs of both states go on (one run at a time).
    stack: ScriptStack,
}

fn new_state(flavor: Flavor) -> State {
    // Building a state runs only the engine's own code; failing means Lua cannot allocate.
    sandbox::new_state(flavor).expect("creating a Lua state")
}

impl Default for LuaVm {
    fn default() -> Self {
        Self::new()
    }
}

impl LuaVm {
    pub fn new() -> LuaVm {
        LuaVm {
            eval: EvalState {
                st: new_state(Flavor::Eval),
                scripts: HashMap::new(),
            },
            func: FuncState {
                st: new_state(Flavor::Function),
                functions: HashMap::new(),
            },
            scripts_epoch: 0,
            libs_version: None,
            generation: 0,
            runs_since_gc: 0,
            stack: ScriptStack::new(),
        }
    }

    /// SCRIPT LOAD's check: compiles `script` into the EVAL state (kept for its first run),
    /// or Redis' "Error compiling script" error. (Added by the runner part.)
    pub fn compile(&mut self, script: &Script) -> Result<(), ReplyError> {
        if !self.eval.scripts.contains_key(&script.sha) {
            let f = compile_script(&self.eval.st, &script.body)?;
            self.eval.scripts.insert(script.sha, (f, script.flags));
        }
        Ok(())
    }

    /// The flags of the script `sha` when this VM compiled it since the last SCRIPT FLUSH it
    /// saw (`sync_scripts` first): `eval_compiled` can run it without the store.
    pub fn compiled_flags(&self, sha: &Sha) -> Option<ScriptFlags> {
        self.eval.scripts.get(sha).map(|(_, flags)| *flags)
    }

    /// Runs the script `sha` this VM compiled already (`compiled_flags` answered Some).
    pub fn eval_compiled(
        &mut self,
        host: &mut dyn Host,
        ctl: &RunControl,
        run: Run<'_>,
        sha: &Sha,
        out: &mut Out<'_>,
    ) -> Step {
        match self.eval.scripts.get(sha) {
            Some((f, _)) => {
                let func = f.clone();
                self.run_script(host, ctl, run, *sha, func, out)
            }
            None => Step::Done(Err(ReplyError::other(
                "NOSCRIPT No matching script. Please use EVAL.",
            ))),
        }
    }

    /// Runs an EVAL/EVALSHA script (compiled on first use in this VM).
    pub fn eval(
        &mut self,
        host: &mut dyn Host,
        ctl: &RunControl,
        run: Run<'_>,
        script: &Script,
        out: &mut Out<'_>,
    ) -> Step {
        let func = match self.eval.scripts.get(&script.sha) {
            Some((f, _)) => f.clone(),
            None => match compile_script(&self.eval.st, &script.body) {
                Ok(f) => {
                    let entry = (f.clone(), script.flags);
                    self.eval.scripts.insert(script.sha, entry);
                    f
                }
                Err(e) => return Step::Done(Err(e)),
            },
        };
        self.run_script(host, ctl, run, script.sha, func, out)
    }

    fn run_script(
        &mut self,
        host: &mut dyn Host,
        ctl: &RunControl,
        run: Run<'_>,
        sha: Sha,
        func: Function,
        out: &mut Out<'_>,
    ) -> Step {
        let name = RunName::Sha(sha);
        let generation = self.generation;
        let st = &mut self.eval.st;
        let globals = st.globals.clone();
        let start_with = Start::Eval {
            func: &func,
            globals: &globals,
            keys: run.keys,
            args: run.args,
        };
        let ctx = (Flavor::Eval, generation, name);
        let step = start(st, &mut self.stack, ctx, host, ctl, &run, start_with, out);
        self.count_run(Flavor::Eval, step)
    }

    /// Runs FCALL's function `name`, called with the KEYS and ARGV tables.
    pub fn fcall(
        &mut self,
        host: &mut dyn Host,
        ctl: &RunControl,
        run: Run<'_>,
        name: &[u8],
        out: &mut Out<'_>,
    ) -> Step {
        let Some((fname, func)) = self.func.functions.get(name).cloned() else {
            return Step::Done(Err(ReplyError::other("ERR Function not found")));
        };
        let ctx = (Flavor::Function, self.generation, RunName::Function(fname));
        let start_with = Start::Function {
            func: &func,
            keys: run.keys,
            args: run.args,
        };
        let st = &mut self.func.st;
        let step = start(st, &mut self.stack, ctx, host, ctl, &run, start_with, out);
        self.count_run(Flavor::Function, step)
    }

    /// Continues a script suspended at the busy threshold.
    pub fn resume(
        &mut self,
        s: Suspended,
        host: &mut dyn Host,
        ctl: &RunControl,
        out: &mut Out<'_>,
    ) -> Step {
        if s.generation != self.generation {
            self.stack.abandon();
            return Step::Done(Err(ReplyError::other(
                "ERR the script's Lua state was reset while it was suspended",
            )));
        }
        let st = match s.flavor {
            Flavor::Eval => &mut self.eval.st,
            Flavor::Function => &mut self.func.st,
        };
        let hook = HookArgs {
            ctl,
            started: None,
            busy_threshold_ms: s.busy_threshold_ms,
            may_yield: s.may_yield,
        };
        let hook = HookArgs {
            started: Some(s.started),
            ..hook
        };
        let scope = RunScope::enter(host, &s.co, hook, s.vars);
        let stack = Some(&mut self.stack);
        let outcome = coro::resume(
            &st.lua,
            &s.co,
            stack,
            Start::Continue(s.ticket),
            Some(&mut *out),
        );
        let vars = scope.vars();
        drop(scope);
        let ctx = Finish {
            flavor: s.flavor,
            generation: s.generation,
            name: s.name,
            started: Some(s.started),
            may_yield: s.may_yield,
            busy_threshold_ms: s.busy_threshold_ms,
        };
        let step = finish(st, ctx, s.co, outcome, vars, out);
        self.count_run(s.flavor, step)
    }

    /// Redis' extra collector step: every `LUA_GC_CYCLE_PERIOD` runs that ended (either
    /// flavor, errors included), one `lua_gc(LUA_GCSTEP, 50)` on the state that ran the last.
    fn count_run(&mut self, flavor: Flavor, step: Step) -> Step {
        if matches!(step, Step::Done(_)) {
            self.runs_since_gc += 1;
            if self.runs_since_gc >= LUA_GC_CYCLE_PERIOD {
                self.runs_since_gc = 0;
                let st = match flavor {
                    Flavor::Eval => &self.eval.st,
                    Flavor::Function => &self.func.st,
                };
                coro::gc_step(&st.lua, LUA_GC_CYCLE_PERIOD as i32);
            }
        }
        step
    }

    /// Whether the error that ended the last run (`Step::Done(Err)`) is a command's error
    /// reply passed through (`redis.call` raising it, or a script returning what
    /// `redis.pcall` gave): the command counted it in the error stats already, and Redis does
    /// not count it a second time.
    pub fn error_counted(&self, function: bool) -> bool {
        if function {
            self.func.st.counted
        } else {
            self.eval.st.counted
        }
    }

    /// Bytes the EVAL state and the FUNCTION state use (INFO memory's `used_memory_vm_eval`
    /// and `used_memory_vm_functions`).
    pub fn memory_bytes(&self) -> (usize, usize) {
        (
            self.eval.st.lua.used_memory(),
            self.func.st.lua.used_memory(),
        )
    }

    /// SCRIPT FLUSH seen (the store's epoch moved): a fresh EVAL state, as Redis.
    pub fn sync_scripts(&mut self, store: &ScriptStore) {
        let epoch = store.epoch();
        if epoch == self.scripts_epoch {
            return;
        }
        self.scripts_epoch = epoch;
        self.eval = EvalState {
            st: new_state(Flavor::Eval),
            scripts: HashMap::new(),
        };
        self.generation += 1;
    }

    /// Reloads every library when the store's library version moved.
    pub fn sync_libraries(&mut self, store: &ScriptStore) {
        let version = store.libs_version();
        if self.libs_version == Some(version) {
            return;
        }
        self.libs_version = Some(version);
        let mut st = new_state(Flavor::Function);
        let mut functions = HashMap::new();
        for lib in store.libraries().values() {
            match functions_load::load_into(&mut st, &lib.code) {
                Ok((_, registered)) => {
                    for Registered { meta, callback } in registered {
                        let key = meta.name.as_bytes().into();
                        functions.insert(key, (Rc::from(meta.name.as_str()), callback));
                    }
                }
                Err(e) => crate::log::warning(&format!(
                    "Lua library '{}' failed to load on this core: {e}",
                    lib.name
                )),
            }
        }
        self.func = FuncState { st, functions };
        self.generation += 1;
    }
}

/// FUNCTION LOAD's check: compiles and runs `code` in a scratch function state; returns the
/// library (name from `#!lua name=..`, functions, flags) or Redis' exact error text.
pub fn load_library(code: &[u8]) -> Result<Library, ReplyError> {
    functions_load::check(code)
}

/// Shebang flags of an EVAL script (`#!lua flags=no-writes,...`), or Redis' error for a bad
/// shebang.
pub fn script_flags(body: &[u8]) -> Result<ScriptFlags, ReplyError> {
    shebang::script(body)
        .map(|(flags, _)| flags)
        .map_err(|e| ReplyError::Other(format!("ERR {e}")))
}

fn compile_script(st: &State, body: &[u8]) -> Result<Function, ReplyError> {
    let (_, start) = shebang::script(body).map_err(|e| ReplyError::Other(format!("ERR {e}")))?;
    // Redis' Lua parses bytecode as text (a syntax error at the escape byte); a leading blank
    // makes stock Lua do the same instead of loading it.
    let code: std::borrow::Cow<[u8]> = if body.get(start) == Some(&27) {
        let mut c = b" ".to_vec();
        c.extend_from_slice(&body[start..]);
        c.into()
    } else {
        (&body[start..]).into()
    };
    st.lua
        .load(&*code)
        .set_name("@user_script")
        .set_mode(mlua::chunk::ChunkMode::Text)
        .into_function()
        .map_err(|e| {
            ReplyError::Raw(convert::one_line(
                format!(
                    "ERR Error compiling script (new function): {}",
                    functions_load::lua_message(&e)
                )
                .as_bytes(),
            ))
        })
}

fn internal(e: &mlua::Error) -> ReplyError {
    ReplyError::Raw(convert::one_line(format!("ERR {e}").as_bytes()))
}

/// What `finish` needs to suspend a run again or name it in an error.
struct Finish {
    flavor: Flavor,
    generation: u64,
    name: RunName,
    /// None when the hook never ran (a short run reads no clock).
    started: Option<Instant>,
    may_yield: bool,
    busy_threshold_ms: u64,
}

#[allow(clippy::too_many_arguments)]
fn start(
    st: &mut State,
    stack: &mut ScriptStack,
    (flavor, generation, name): (Flavor, u64, RunName),
    host: &mut dyn Host,
    ctl: &RunControl,
    run: &Run<'_>,
    start_with: Start<'_>,
    out: &mut Out<'_>,
) -> Step {
    let co = match st.take_co() {
        Ok(co) => co,
        Err(e) => return Step::Done(Err(internal(&e))),
    };
    coro::arm_hook(&co);
    // The runner's clock read for the command: the threshold counts from there, and the
    // engine reads no clock for a run that ends before its first hook.
    let hook = HookArgs {
        ctl,
        started: Some(run.started),
        busy_threshold_ms: run.busy_threshold_ms,
        may_yield: run.may_yield,
    };
    let scope = RunScope::enter(host, &co, hook, RunVars::default());
    let outcome = coro::resume(&st.lua, &co, Some(stack), start_with, Some(&mut *out));
    let vars = scope.vars();
    let started = scope.started();
    drop(scope);
    let ctx = Finish {
        flavor,
        generation,
        name,
        started,
        may_yield: run.may_yield,
        busy_threshold_ms: run.busy_threshold_ms,
    };
    finish(st, ctx, co, outcome, vars, out)
}

fn finish(
    st: &mut State,
    ctx: Finish,
    co: Thread,
    outcome: mlua::Result<Resumed>,
    vars: RunVars,
    out: &mut Out<'_>,
) -> Step {
    st.counted = false;
    match outcome {
        Ok(Resumed::Returned(v)) => {
            st.co = Some(co);
            st.counted = counted(&v);
            Step::Done(reply(&v, vars, out))
        }
        Ok(Resumed::Written) => {
            st.co = Some(co);
            Step::Done(Ok(()))
        }
        Ok(Resumed::Left(ticket)) => Step::Yielded(Suspended {
            ticket,
            flavor: ctx.flavor,
            generation: ctx.generation,
            co,
            vars,
            name: ctx.name,
            // The hook leaves after it read the clock.
            started: ctx.started.unwrap_or_else(Instant::now),
            may_yield: ctx.may_yield,
            busy_threshold_ms: ctx.busy_threshold_ms,
        }),
        Ok(Resumed::Failed {
            value,
            source,
            line,
        }) => {
            st.counted = counted(&value);
            let mut text = error_message(&value);
            if let Some(source) = source {
                let suffix = format!(" script: {}, on {source}:{line}.", ctx.name);
                text.extend_from_slice(suffix.as_bytes());
            }
            Step::Done(Err(ReplyError::Raw(convert::one_line(&text))))
        }
        Err(e) => Step::Done(Err(internal(&e))),
    }
}

/// An error table made from a command's error reply (`ignore_error_stats_update`).
fn counted(v: &Value) -> bool {
    match v {
        Value::Table(t) => matches!(
            t.raw_get::<Value>("ignore_error_stats_update"),
            Ok(Value::Boolean(true))
        ),
        _ => false,
    }
}

/// The script's result as the reply; a top-level error table is the run's error.
fn reply(v: &Value, vars: RunVars, out: &mut Out<'_>) -> Result<(), ReplyError> {
    match convert::error_of(v) {
        Ok(Some(msg)) => return Err(ReplyError::Raw(convert::one_line(&msg))),
        Ok(None) => {}
        Err(e) => return Err(internal(&e)),
    }
    let mark = out.buf.len();
    convert::write_reply(v, vars.resp3, out).map_err(|e| {
        out.buf.truncate(mark);
        internal(&e)
    })
}

/// The message of a raised error value (Redis' error handler and `luaExtractErrorInformation`):
/// an error table's `err`, or "ERR " and the value as text.
pub(super) fn error_message(value: &Value) -> Vec<u8> {
    let text = |v: &Value| -> Option<Vec<u8>> {
        match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Integer(i) => Some(i.to_string().into_bytes()),
            Value::Number(n) => Some(convert::lua_number_text(*n).into_bytes()),
            _ => None,
        }
    };
    if let Value::Table(t) = value {
        return match t.get::<Value>("err").ok().as_ref().and_then(text) {
            Some(msg) => msg,
            // Redis 7.0.15 crashes on this one (a NULL message); slotd names it.
            None => b"ERR the script raised a table without an 'err' field".to_vec(),
        };
    }
    let shown = match value {
        Value::Nil => Some(b"nil".to_vec()),
        Value::Boolean(b) => Some(b.to_string().into_bytes()),
        other => text(other),
    };
    let shown = shown.unwrap_or_else(|| {
        value
            .to_string()
            .unwrap_or_else(|_| "?".into())
            .into_bytes()
    });
    let mut msg = b"ERR ".to_vec();
    msg.extend_from_slice(&shown);
    msg
}

#[cfg(test)]
mod tests {
    //! Against an in-memory host (GET/SET/INCR/PING over a map, writing RESP); expected texts
    //! come from redis-server 7.0.15 given the same scripts.
    use super::*;
    use crate::lua::store::sha_of;
    use crate::lua::{CallRefused, ReplFlags};
    use crate::resp::Proto;
    use std::collections::HashMap as StdMap;
    use std::sync::atomic::Ordering;

    #[derive(Default)]
    struct FakeHost {
        kv: StdMap<Vec<u8>, Vec<u8>>,
        calls: Vec<(Vec<Vec<u8>>, Proto, ReplFlags)>,
    }

    impl Host for FakeHost {
        fn call(
            &mut self,
            argv: &[&[u8]],
            proto: Proto,
            repl: ReplFlags,
            reply: &mut Vec<u8>,
        ) -> Result<(), CallRefused> {
            self.calls
                .push((argv.iter().map(|a| a.to_vec()).collect(), proto, repl));
            let mut out = Out::new(reply, proto);
            let name = argv[0].to_ascii_lowercase();
            match (name.as_slice(), argv.len()) {
                (b"ping", 1) => out.simple("PONG"),
                (b"get", 2) => match self.kv.get(argv[1]) {
                    Some(v) => out.bulk(v),
                    None => out.null(),
                },
                (b"set", 3) => {
                    self.kv.insert(argv[1].to_vec(), argv[2].to_vec());
                    out.ok()
                }
                (b"incr", 2) => {
                    let cur = self.kv.get(argv[1]).cloned().unwrap_or(b"0".to_vec());
                    match std::str::from_utf8(&cur)
                        .ok()
                        .and_then(|s| s.parse::<i64>().ok())
                    {
                        Some(n) => {
                            self.kv
                                .insert(argv[1].to_vec(), (n + 1).to_string().into_bytes());
                            out.int(n + 1)
                        }
                        None => out.error(&ReplyError::NotInteger),
                    }
                }
                (b"hgetall", 2) => {
                    out.map(1);
                    out.bulk(b"f");
                    out.bulk(b"v");
                }
                (b"get" | b"set" | b"incr", _) => {
                    return Err(CallRefused(
                        "Wrong number of args calling Redis command from script".into(),
                    ))
                }
                _ => {
                    return Err(CallRefused(
                        "Unknown Redis command called from script".into(),
                    ))
                }
            }
            Ok(())
        }

        fn acl_check(&mut self, argv: &[&[u8]]) -> Result<bool, CallRefused> {
            match argv[0] {
                b"get" => Ok(true),
                b"set" => Ok(false),
                _ => Err(CallRefused(
                    "Invalid command passed to redis.acl_check_cmd()".into(),
                )),
            }
        }
    }

    fn run_on(
        vm: &mut LuaVm,
        host: &mut FakeHost,
        body: &str,
        keys: &[&[u8]],
        proto: Proto,
    ) -> Result<Vec<u8>, String> {
        let ctl = RunControl::default();
        let script = Script {
            sha: sha_of(body.as_bytes()),
            body: body.as_bytes().into(),
            flags: ScriptFlags::default(),
        };
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, proto);
        let run = Run {
            keys,
            args: &[b"a1"],
            may_yield: false,
            busy_threshold_ms: 5000,
            started: Instant::now(),
        };
        match vm.eval(host, &ctl, run, &script, &mut out) {
            Step::Done(Ok(())) => Ok(buf),
            Step::Done(Err(e)) => Err(e.text()),
            Step::Yielded(_) => panic!("yielded"),
        }
    }

    fn eval(body: &str) -> Result<String, String> {
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        run_on(&mut vm, &mut host, body, &[b"k"], Proto::Resp2)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn sha(body: &str) -> String {
        String::from_utf8_lossy(&sha_of(body.as_bytes())).into_owned()
    }

    #[test]
    fn simple_scripts_reply() {
        assert_eq!(eval("return 1").unwrap(), ":1\r\n");
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        host.kv.insert(b"k".to_vec(), b"hello".to_vec());
        let body = "return redis.call('get',KEYS[1])";
        let r = run_on(&mut vm, &mut host, body, &[b"k"], Proto::Resp2).unwrap();
        assert_eq!(r, b"$5\r\nhello\r\n");
        // The compiled script is reused; KEYS and ARGV are fresh per run.
        let r = run_on(&mut vm, &mut host, body, &[b"nokey"], Proto::Resp2).unwrap();
        assert_eq!(r, b"$-1\r\n");
        assert_eq!(eval("return ARGV[1]").unwrap(), "$2\r\na1\r\n");
    }

    #[test]
    fn lua_values_convert_as_redis() {
        assert_eq!(eval("return {1,2,nil,4}").unwrap(), "*2\r\n:1\r\n:2\r\n");
        assert_eq!(eval("return 3.99").unwrap(), ":3\r\n");
        assert_eq!(eval("return -3.99").unwrap(), ":-3\r\n");
        assert_eq!(eval("return {true,false}").unwrap(), "*2\r\n:1\r\n$-1\r\n");
        assert_eq!(eval("return {ok='fine'}").unwrap(), "+fine\r\n");
        assert_eq!(eval("return {double=1.5}").unwrap(), "$3\r\n1.5\r\n");
        assert_eq!(eval("return nil").unwrap(), "$-1\r\n");
        assert_eq!(
            eval("return redis.status_reply('bar')").unwrap(),
            "+bar\r\n"
        );
        assert_eq!(eval("return {err='bad'}").unwrap_err(), "bad");
        assert_eq!(
            eval("return redis.error_reply('FOO bar')").unwrap_err(),
            "FOO bar"
        );
        assert_eq!(
            eval("return redis.error_reply('bar')").unwrap_err(),
            "ERR bar"
        );
        assert_eq!(
            eval("return redis.error_reply()").unwrap_err(),
            "ERR wrong number or type of arguments"
        );
        assert_eq!(eval("return {1, {err='x'}}").unwrap(), "*2\r\n:1\r\n-x\r\n");
        assert_eq!(eval("return redis.replicate_commands()").unwrap(), ":1\r\n");
        assert_eq!(
            eval("return {redis.acl_check_cmd('get','k'), redis.acl_check_cmd('set','k','v')}")
                .unwrap(),
            "*2\r\n:1\r\n$-1\r\n"
        );
        assert_eq!(eval("return redis.breakpoint()").unwrap(), "$-1\r\n");
        assert_eq!(
            eval("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}").unwrap(),
            "*2\r\n$6\r\n7.0.15\r\n:458767\r\n"
        );
        assert_eq!(
            eval("return redis.sha1hex('')").unwrap(),
            "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"
        );
    }

    #[test]
    fn resp3_both_ways() {
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        let body = "redis.setresp(3); return {redis.call('hgetall','h'), true, false, \
                    {double=2.5}, {big_number='123'}, {map={a=1}}, {set={x=true}}}";
        let r = run_on(&mut vm, &mut host, body, &[], Proto::Resp3).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&r),
            "*7\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n#t\r\n#f\r\n,2.5\r\n(123\r\n%1\r\n$1\r\na\r\n:1\r\n\
             ~1\r\n$1\r\nx\r\n"
        );
        assert_eq!(host.calls[0].1, Proto::Resp3);
        // The same script for a RESP2 client: maps flatten, booleans are 1 and 0 (setresp 3).
        let r = run_on(&mut vm, &mut host, body, &[], Proto::Resp2).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&r),
            "*7\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n:1\r\n:0\r\n$3\r\n2.5\r\n$3\r\n123\r\n\
             *2\r\n$1\r\na\r\n:1\r\n*1\r\n$1\r\nx\r\n"
        );
        // RESP2 replies to the script: status as {ok=}, nil bulk as false.
        let r = run_on(
            &mut vm,
            &mut host,
            "local s = redis.call('ping') return {s.ok, tostring(redis.call('get','nokey'))}",
            &[],
            Proto::Resp2,
        )
        .unwrap();
        assert_eq!(r, b"*2\r\n$4\r\nPONG\r\n$5\r\nfalse\r\n");
    }

    #[test]
    fn errors_carry_redis_texts_and_positions() {
        // (script, message): each reply is the message, then " script: <sha>, on
        // @user_script:1." as redis-server 7.0.15 adds it.
        let raised = [
            (
                "return redis.call('nosuch')",
                "ERR Unknown Redis command called from script",
            ),
            ("error('x')", "ERR user_script:1: x"),
            ("error({err='MY bad'})", "MY bad"),
            (
                "x = 1",
                "ERR user_script:1: Attempt to modify a readonly table",
            ),
            (
                "string.x = 1",
                "ERR user_script:1: Attempt to modify a readonly table",
            ),
            (
                "rawset(_G, 'x', 1)",
                "ERR Attempt to modify a readonly table",
            ),
            (
                "setmetatable(_G, {})",
                "ERR Attempt to modify a readonly table",
            ),
            (
                "return y",
                "ERR user_script:1: Script attempted to access nonexistent global variable 'y'",
            ),
            (
                "return redis.call()",
                "ERR Please specify at least one argument for this redis lib call",
            ),
            (
                "return redis.call('get', {})",
                "ERR Lua redis lib command arguments must be strings or integers",
            ),
            (
                "return redis.call('incr','k','x')",
                "ERR Wrong number of args calling Redis command from script",
            ),
            ("error()", "ERR nil"),
            ("error(12)", "ERR user_script:1: 12"),
            ("error({err=12})", "12"),
            (
                "return redis.setresp(4)",
                "ERR RESP version must be 2 or 3.",
            ),
            (
                "return redis.set_repl(8)",
                "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or \
                 REPL_NONE.",
            ),
            ("return redis.log(9, 'x')", "ERR Invalid debug level."),
            ("return redis.sha1hex()", "ERR wrong number of arguments"),
            (
                "return redis.acl_check_cmd('nosuch')",
                "ERR Invalid command passed to redis.acl_check_cmd()",
            ),
            (
                "return redis.acl_check_cmd()",
                "ERR Please specify at least one argument for this redis lib call",
            ),
            (
                "coroutine.yield(1)",
                "ERR attempt to yield across metamethod/C-call boundary",
            ),
        ];
        for (s, msg) in raised {
            let want = format!("{msg} script: {}, on @user_script:1.", sha(s));
            assert_eq!(eval(s).unwrap_err(), want, "{s}");
        }
        let replied = [
            (
                "return redis.pcall('nosuch')",
                "ERR Unknown Redis command called from script",
            ),
            (
                "return 1 +",
                "ERR Error compiling script (new function): user_script:1: unexpected symbol \
                 near '<eof>'",
            ),
        ];
        for (s, msg) in replied {
            assert_eq!(eval(s).unwrap_err(), msg, "{s}");
        }
        // A coroutine of the script's own may yield.
        assert_eq!(
            eval("local co = coroutine.wrap(function() coroutine.yield(4) end) return co()")
                .unwrap(),
            ":4\r\n"
        );
        // The line is the user's, past blank lines.
        let s = "\n\nlocal a = 1\nreturn redis.call('incr','s')";
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        host.kv.insert(b"s".to_vec(), b"abc".to_vec());
        assert_eq!(
            run_on(&mut vm, &mut host, s, &[], Proto::Resp2).unwrap_err(),
            format!(
                "ERR value is not an integer or out of range script: {}, on @user_script:4.",
                sha(s)
            )
        );
        assert!(vm.error_counted(false));
        run_on(&mut vm, &mut host, "error('x')", &[], Proto::Resp2).unwrap_err();
        assert!(!vm.error_counted(false));
        run_on(
            &mut vm,
            &mut host,
            "return redis.pcall('incr','s')",
            &[],
            Proto::Resp2,
        )
        .unwrap_err();
        assert!(vm.error_counted(false));
        // Redis' pcall hands back the error table's message.
        assert_eq!(
            eval("return {pcall(error, {err='x'})}").unwrap(),
            "*2\r\n$-1\r\n$1\r\nx\r\n"
        );
        assert_eq!(
            eval("return {pcall(redis.call, 'nosuch')}").unwrap(),
            "*2\r\n$-1\r\n$44\r\nERR Unknown Redis command called from script\r\n"
        );
    }

    #[test]
    fn sandbox_matches_redis_globals() {
        for name in [
            "print", "debug", "newproxy", "setfenv", "getfenv", "loadfile", "dofile",
        ] {
            let s = format!("return {name}");
            assert!(
                eval(&s)
                    .unwrap_err()
                    .contains("nonexistent global variable"),
                "{name}"
            );
        }
        assert_eq!(
            eval("local f = loadstring('return 1'); return f()").unwrap(),
            ":1\r\n"
        );
        assert_eq!(
            eval("return type(getmetatable(_G))").unwrap(),
            "$5\r\ntable\r\n"
        );
        assert_eq!(eval("return #KEYS").unwrap(), ":1\r\n");
        assert_eq!(
            eval("return {getmetatable('').__index == string, ('ab'):upper()}").unwrap(),
            "*2\r\n:1\r\n$2\r\nAB\r\n"
        );
        assert_eq!(
            eval("local a, b = loadstring(string.dump(function() return 5 end)) return b").unwrap(),
            "$53\r\n[string \"\x1bLuaQ\"]:1: unexpected symbol near 'char(27)'\r\n"
        );
        assert_eq!(
            eval("\x1bLuaQ").unwrap_err(),
            "ERR Error compiling script (new function): user_script:1: unexpected symbol near \
             'char(27)'"
        );
        // A global never leaks from one script to the next.
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        assert!(run_on(&mut vm, &mut host, "rawset(_G,'z',1)", &[], Proto::Resp2).is_err());
        assert!(run_on(&mut vm, &mut host, "return z", &[], Proto::Resp2).is_err());
        let (eval_bytes, function_bytes) = vm.memory_bytes();
        assert!(eval_bytes > 10_000 && function_bytes > 10_000);
        // math.random draws from Redis' generator (same first value as a fresh server).
        assert_eq!(
            eval("math.randomseed(0) return math.random(100) > 0").unwrap(),
            ":1\r\n"
        );
    }

    #[test]
    fn setresp_and_set_repl_reach_the_host() {
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        let body = "redis.set_repl(redis.REPL_NONE) redis.call('set','a','1') \
                    redis.set_repl(redis.REPL_ALL) redis.setresp(3) redis.call('ping') \
                    return redis.call('set','b',1.5)";
        let r = run_on(&mut vm, &mut host, body, &[], Proto::Resp2).unwrap();
        assert_eq!(r, b"+OK\r\n");
        assert_eq!(host.calls[0].2, ReplFlags::NONE);
        assert_eq!(host.calls[1].1, Proto::Resp3);
        assert_eq!(host.calls[2].0[2], b"1.5");
        assert_eq!(host.kv.get(&b"b"[..]).unwrap(), b"1.5");
        // The next run starts again from RESP2 and replication to everything.
        run_on(
            &mut vm,
            &mut host,
            "return redis.call('ping')",
            &[],
            Proto::Resp2,
        )
        .unwrap();
        assert_eq!(host.calls[3].1, Proto::Resp2);
        assert_eq!(host.calls[3].2, ReplFlags::ALL);
        // One journal feeds the AOF and the replicas: a flag naming one of them is refused.
        for flag in ["REPL_AOF", "REPL_REPLICA", "REPL_SLAVE"] {
            let body = format!("redis.set_repl(redis.{flag}) return redis.call('ping')");
            let e = run_on(&mut vm, &mut host, &body, &[], Proto::Resp2).unwrap_err();
            let text = format!("{e:?}");
            assert!(
                text.contains(super::super::redis_table::SET_REPL_ONE_SIDE),
                "{text}"
            );
        }
        assert_eq!(
            host.calls.len(),
            4,
            "a refused set_repl runs nothing after it"
        );
    }

    fn start_run(vm: &mut LuaVm, host: &mut FakeHost, ctl: &RunControl, body: &str) -> Step {
        let script = Script {
            sha: sha_of(body.as_bytes()),
            body: body.as_bytes().into(),
            flags: ScriptFlags::default(),
        };
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, Proto::Resp2);
        let run = Run {
            keys: &[],
            args: &[],
            may_yield: true,
            busy_threshold_ms: 1,
            started: Instant::now(),
        };
        vm.eval(host, ctl, run, &script, &mut out)
    }

    #[test]
    fn a_loop_yields_at_the_threshold_and_resumes_to_completion() {
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        let ctl = RunControl::default();
        let body = "local i = 0 while i < 1000000 do i = i + 1 end return i";
        let (yields, done) = run_to_end_on(&mut vm, &mut host, &ctl, body);
        let buf = done.unwrap();
        assert!(yields >= 2, "{yields}");
        assert!(ctl.busy.load(Ordering::Relaxed));
        assert_eq!(buf, b":1000000\r\n");
        // The VM still runs scripts normally afterwards.
        assert_eq!(
            run_on(&mut vm, &mut host, "return 7", &[], Proto::Resp2).unwrap(),
            b":7\r\n"
        );
    }

    /// Runs `body` with a 1 ms threshold, resuming it until it ends: (yields, reply or error).
    fn run_to_end_on(
        vm: &mut LuaVm,
        host: &mut FakeHost,
        ctl: &RunControl,
        body: &str,
    ) -> (usize, Result<Vec<u8>, String>) {
        let mut step = start_run(vm, host, ctl, body);
        let mut yields = 0;
        let mut buf = Vec::new();
        loop {
            match step {
                Step::Yielded(s) => {
                    yields += 1;
                    let mut out = Out::new(&mut buf, Proto::Resp2);
                    step = vm.resume(s, host, ctl, &mut out);
                }
                Step::Done(r) => return (yields, r.map(|()| buf).map_err(|e| e.text())),
            }
        }
    }

    fn run_to_end(body: &str) -> (usize, Result<Vec<u8>, String>) {
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        run_to_end_on(&mut vm, &mut host, &RunControl::default(), body)
    }

    #[test]
    fn loops_inside_pcall_xpcall_coroutines_and_sort_yield_and_finish_as_without_yielding() {
        let cases: [(&str, &[u8]); 8] = [
            (
                "local t = {3, 1, 2} table.sort(t, function(a, b) for i = 1, 300000 do end \
                 return a < b end) return t",
                b"*3\r\n:1\r\n:2\r\n:3\r\n",
            ),
            (
                "local n = 0 local ok, r = pcall(function() for i = 1, 1000000 do n = n + 1 \
                 end return n end) return {ok and 1 or 0, r}",
                b"*2\r\n:1\r\n:1000000\r\n",
            ),
            (
                "return {xpcall(function() for i = 1, 1000000 do end error('late') end, \
                 function(e) return 'handled ' .. e end)}",
                b"*2\r\n$-1\r\n$27\r\nhandled user_script:1: late\r\n",
            ),
            (
                "local f = coroutine.wrap(function(a) for i = 1, 1000000 do end \
                 local b = coroutine.yield(a + 1) for i = 1, 500000 do end return b * 2 end) \
                 return {f(1), f(10)}",
                b"*2\r\n:2\r\n:20\r\n",
            ),
            (
                "local co = coroutine.create(function() pcall(function() \
                 for i = 1, 1000000 do end end) coroutine.yield(coroutine.status(\
                 coroutine.running())) return 'end' end) \
                 local a, b = coroutine.resume(co) local c, d = coroutine.resume(co) \
                 return {b, d, coroutine.status(co), tostring(coroutine.running())}",
                b"*4\r\n$7\r\nrunning\r\n$3\r\nend\r\n$4\r\ndead\r\n$3\r\nnil\r\n",
            ),
            (
                "return {pcall(function() return pcall(function() \
                 for i = 1, 1000000 do end return select('#', pcall(function() end)) end) end)}",
                b"*3\r\n:1\r\n:1\r\n:1\r\n",
            ),
            (
                "local ok, e = pcall(function() for i = 1, 1000000 do end \
                 redis.call('nosuch') end) return e",
                b"$44\r\nERR Unknown Redis command called from script\r\n",
            ),
            (
                "local ok, e = pcall(function() for i = 1, 300000 do end coroutine.yield(1) end) \
                 return e",
                b"$50\r\nattempt to yield across metamethod/C-call boundary\r\n",
            ),
        ];
        for (body, want) in cases {
            let (yields, got) = run_to_end(body);
            let got = got.unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want),
                "{body}"
            );
            assert!(yields >= 1, "{body}: never yielded");
        }
    }

    #[test]
    fn an_extra_collector_step_every_50_runs_of_either_flavor() {
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        for i in 1..LUA_GC_CYCLE_PERIOD {
            // Errors count as runs too.
            let body = if i % 2 == 0 { "return 1" } else { "error('x')" };
            let _ = run_on(&mut vm, &mut host, body, &[], Proto::Resp2);
            assert_eq!(vm.runs_since_gc, i);
        }
        run_on(&mut vm, &mut host, "return 1", &[], Proto::Resp2).unwrap();
        assert_eq!(vm.runs_since_gc, 0);
    }

    fn assert_killed_on_line_2(step: Step, body: &str) {
        match step {
            Step::Done(Err(e)) => assert_eq!(
                e.text(),
                format!(
                    "ERR Script killed by user with SCRIPT KILL... script: {}, on \
                     @user_script:2.",
                    sha(body)
                )
            ),
            _ => panic!("not killed"),
        }
    }

    #[test]
    fn a_script_killed_while_suspended_inside_pcall_gets_the_kill_error() {
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        let ctl = RunControl::default();
        let body =
            "local i = 0\nwhile true do pcall(function() while true do i = i + 1 end end) end";
        let Step::Yielded(s) = start_run(&mut vm, &mut host, &ctl, body) else {
            panic!("did not yield inside pcall");
        };
        ctl.kill.store(true, Ordering::Relaxed);
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, Proto::Resp2);
        assert_killed_on_line_2(vm.resume(s, &mut host, &ctl, &mut out), body);
        // The VM runs scripts normally afterwards.
        assert_eq!(
            run_on(
                &mut vm,
                &mut host,
                "return {pcall(error, 'x')}",
                &[],
                Proto::Resp2
            )
            .unwrap(),
            b"*2\r\n$-1\r\n$1\r\nx\r\n"
        );
    }

    /// Loops where Lua 5.1 cannot yield (metamethods, iterators, callbacks of C functions),
    /// each with the reply it ends with.
    const LOOPS_BEHIND_C_CALLS: &[(&str, &[u8])] = &[
        (
            "local n = 0 local t = setmetatable({}, {__index = function() \
             for i = 1, 2000000 do n = n + 1 end return n end}) return t.x",
            b":2000000\r\n",
        ),
        (
            "local n = 0 local t = setmetatable({}, {__newindex = function() \
             for i = 1, 2000000 do n = n + 1 end end}) t.x = 1 return n",
            b":2000000\r\n",
        ),
        (
            "local mt = {__eq = function() for i = 1, 2000000 do end return true end} \
             local a, b = setmetatable({}, mt), setmetatable({}, mt) return a == b and 1 or 0",
            b":1\r\n",
        ),
        (
            "local mt = {__lt = function() for i = 1, 2000000 do end return true end} \
             local a, b = setmetatable({}, mt), setmetatable({}, mt) return a < b and 1 or 0",
            b":1\r\n",
        ),
        (
            "local t = setmetatable({}, {__concat = function() for i = 1, 2000000 do end \
             return 'cc' end}) return t .. 'x'",
            b"$2\r\ncc\r\n",
        ),
        (
            "local t = setmetatable({}, {__tostring = function() for i = 1, 2000000 do end \
             return 'ts' end}) return tostring(t)",
            b"$2\r\nts\r\n",
        ),
        (
            "local function it(_, i) if i < 3 then for j = 1, 1000000 do end return i + 1 end end \
             local n = 0 for i in it, nil, 0 do n = n + i end return n",
            b":6\r\n",
        ),
        (
            "return (string.gsub('abc', '%w', function(c) for i = 1, 1000000 do end \
             return c .. c end))",
            b"$6\r\naabbcc\r\n",
        ),
        (
            "local n = 0 table.foreach({a = 1}, function() for i = 1, 2000000 do n = n + 1 end end) \
             return n",
            b":2000000\r\n",
        ),
        (
            "local n = 0 table.foreachi({1, 2}, function() for i = 1, 1000000 do n = n + 1 end end) \
             return n",
            b":2000000\r\n",
        ),
        (
            "local parts, i = {'return ', '4', '2'}, 0 \
             local f = load(function() for j = 1, 1000000 do end i = i + 1 return parts[i] end)\n\
             return f()",
            b":42\r\n",
        ),
        (
            "local ok, e = xpcall(function() error('x') end, function() \
             for i = 1, 2000000 do end return 'handled' end)\nreturn e",
            b"$7\r\nhandled\r\n",
        ),
        (
            "local mt = {__lt = function(a, b) for i = 1, 300000 do end return a.v < b.v end} \
             local t = {} for i = 1, 5 do t[i] = setmetatable({v = 6 - i}, mt) end \
             table.sort(t) return t[1].v",
            b":1\r\n",
        ),
    ];

    #[test]
    fn loops_behind_c_boundaries_leave_the_core_and_finish() {
        // Lua 5.1 cannot yield across these; the hook leaves the script's machine stack
        // instead, and each script ends with its plain result.
        for (body, want) in LOOPS_BEHIND_C_CALLS {
            let (yields, done) = run_to_end(body);
            assert!(yields >= 1, "{body}: never left the core: {done:?}");
            assert_eq!(done.as_deref(), Ok(*want), "{body}");
        }
    }

    #[test]
    fn loops_behind_c_boundaries_are_killed_while_suspended() {
        for (body, _) in LOOPS_BEHIND_C_CALLS {
            let mut vm = LuaVm::new();
            let mut host = FakeHost::default();
            let ctl = RunControl::default();
            let Step::Yielded(s) = start_run(&mut vm, &mut host, &ctl, body) else {
                panic!("{body}: did not leave");
            };
            ctl.kill.store(true, Ordering::Relaxed);
            let mut buf = Vec::new();
            let mut out = Out::new(&mut buf, Proto::Resp2);
            let mut step = vm.resume(s, &mut host, &ctl, &mut out);
            // Where a C function catches the error (load's reader, xpcall's handler), the
            // script's next line raises it again.
            while let Step::Yielded(s) = step {
                step = vm.resume(s, &mut host, &ctl, &mut out);
            }
            let Step::Done(r) = step else { unreachable!() };
            match r {
                Err(e) => assert!(e.text().contains("Script killed"), "{body}: {}", e.text()),
                Ok(()) => panic!("{body}: not killed"),
            }
            // The stack is free again: the VM runs the next script.
            ctl.kill.store(false, Ordering::Relaxed);
            assert_eq!(
                run_on(&mut vm, &mut host, "return 7", &[], Proto::Resp2).unwrap(),
                b":7\r\n"
            );
        }
    }

    #[test]
    fn a_run_dropped_while_suspended_leaves_the_stack_usable() {
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        let ctl = RunControl::default();
        let body = LOOPS_BEHIND_C_CALLS[0].0;
        let Step::Yielded(first) = start_run(&mut vm, &mut host, &ctl, body) else {
            panic!("did not leave");
        };
        drop(first);
        // A new run abandons the one left on the stack; the next ones run normally.
        let (yields, done) = run_to_end_on(&mut vm, &mut host, &ctl, body);
        assert!(yields >= 1);
        assert_eq!(done.as_deref(), Ok(&b":2000000\r\n"[..]));
        // A stale suspension cannot continue another run.
        let Step::Yielded(a) = start_run(&mut vm, &mut host, &ctl, body) else {
            panic!("did not leave");
        };
        let Step::Yielded(b) = start_run(&mut vm, &mut host, &ctl, body) else {
            panic!("did not leave");
        };
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, Proto::Resp2);
        match vm.resume(a, &mut host, &ctl, &mut out) {
            Step::Done(Err(e)) => assert!(e.text().contains("abandoned"), "{}", e.text()),
            _ => panic!("a stale run continued"),
        }
        let mut step = vm.resume(b, &mut host, &ctl, &mut out);
        while let Step::Yielded(s) = step {
            step = vm.resume(s, &mut host, &ctl, &mut out);
        }
        assert!(matches!(step, Step::Done(Ok(()))));
        assert!(buf.ends_with(b":2000000\r\n"));
    }

    #[test]
    fn a_loop_inside_pcall_does_not_yield_and_the_kill_flag_ends_it() {
        let mut vm = LuaVm::new();
        let mut host = FakeHost::default();
        let ctl = RunControl::default();
        ctl.kill.store(true, Ordering::Relaxed);
        let body =
            "local i = 0\nwhile true do pcall(function() while true do i = i + 1 end end) end";
        assert_killed_on_line_2(start_run(&mut vm, &mut host, &ctl, body), body);
        // A plain loop, killed while suspended: the resume raises the kill error.
        ctl.kill.store(false, Ordering::Relaxed);
        let body = "while true do end";
        let Step::Yielded(s) = start_run(&mut vm, &mut host, &ctl, body) else {
            panic!("did not yield");
        };
        ctl.kill.store(true, Ordering::Relaxed);
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, Proto::Resp2);
        match vm.resume(s, &mut host, &ctl, &mut out) {
            Step::Done(Err(e)) => assert!(e.text().starts_with("ERR Script killed")),
            _ => panic!("not killed"),
        }
    }

    #[test]
    fn libraries_load_register_and_run() {
        let code = b"#!lua name=mylib\nredis.register_function('f1', function(keys, args) \
                     return {keys[1], args[1], redis.call('ping')} end)\n\
                     redis.register_function{function_name='f2', callback=function() return 2 \
                     end, flags={'no-writes'}, description='two'}";
        let lib = load_library(code).unwrap();
        assert_eq!(lib.name, "mylib");
        assert_eq!(lib.functions.len(), 2);
        assert_eq!(lib.functions[1].description.as_deref(), Some("two"));
        assert!(lib.functions[1].flags.has(ScriptFlags::NO_WRITES));
        let store = ScriptStore::default();
        let mut libs = crate::lua::store::Libraries::new();
        libs.insert(lib.name.clone(), lib);
        store.set_libraries(libs);
        let mut vm = LuaVm::new();
        vm.sync_libraries(&store);
        let mut host = FakeHost::default();
        let ctl = RunControl::default();
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, Proto::Resp2);
        let run = Run {
            keys: &[b"k"],
            args: &[b"a"],
            may_yield: false,
            busy_threshold_ms: 5000,
            started: Instant::now(),
        };
        let Step::Done(Ok(())) = vm.fcall(&mut host, &ctl, run, b"f1", &mut out) else {
            panic!("fcall failed");
        };
        assert_eq!(buf, b"*3\r\n$1\r\nk\r\n$1\r\na\r\n+PONG\r\n");
        let run = Run {
            keys: &[],
            args: &[],
            may_yield: false,
            busy_threshold_ms: 5000,
            started: Instant::now(),
        };
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, Proto::Resp2);
        let code = b"#!lua name=l10\nredis.register_function('g', function() return KEYS end)";
        let mut libs = crate::lua::store::Libraries::new();
        let lib = load_library(code).unwrap();
        libs.insert(lib.name.clone(), lib);
        store.set_libraries(libs);
        vm.sync_libraries(&store);
        match vm.fcall(&mut host, &ctl, run, b"g", &mut out) {
            Step::Done(Err(e)) => assert_eq!(
                e.text(),
                "ERR user_function:2: Script attempted to access nonexistent global variable \
                 'KEYS' script: g, on @user_function:2."
            ),
            _ => panic!("KEYS should not exist in functions"),
        }
    }

    #[test]
    fn library_load_errors_match_redis() {
        let err = |code: &str| load_library(code.as_bytes()).unwrap_err().text();
        assert_eq!(
            err("#!lua name=l1\nredis.call('ping')"),
            "ERR Error registering functions: ERR user_function:2: Script attempted to access \
             nonexistent global variable 'call'"
        );
        assert_eq!(
            err("#!lua name=l2\nlocal r = {} for k in pairs(redis) do end"),
            "ERR Error registering functions: ERR user_function:2: Script attempted to access \
             nonexistent global variable 'pairs'"
        );
        assert_eq!(
            err("#!lua name=l4\nx = 1"),
            "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly \
             table"
        );
        assert_eq!(
            err("#!lua name=l6\nredis.register_function('a', 1)"),
            "ERR Error registering functions: ERR second argument to redis.register_function \
             must be a function"
        );
        assert_eq!(
            err(
                "#!lua name=l6\nredis.register_function{function_name='a', callback=function() \
                 end, flags={'no-writes','bad'}}"
            ),
            "ERR Error registering functions: ERR unknown flag given"
        );
        assert_eq!(
            err(
                "#!lua name=l7\nredis.register_function{function_name='a', callback=function() \
                 end, description='d', flags={'no-writes'}, x=1}"
            ),
            "ERR Error registering functions: ERR unknown argument given to \
             redis.register_function"
        );
        assert_eq!(
            err(
                "#!lua name=l8\nredis.register_function('a', function() return 1 end)\n\
                 redis.register_function('a', function() return 1 end)"
            ),
            "ERR Error registering functions: ERR Function already exists in the library"
        );
        assert_eq!(err("#!lua name=l9"), "ERR Invalid library metadata");
        assert_eq!(err("#!lua name=l9\n"), "ERR No functions registered");
        assert_eq!(
            err("#!lua name=l9\nreturn 1 +"),
            "ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'"
        );
        assert_eq!(
            err("#!lua name=l9\nwhile true do end"),
            "ERR Error registering functions: ERR FUNCTION LOAD timeout"
        );
    }

    /// Measures one EVALSHA-like run (`cargo test --release --lib lua::vm::tests::evalsha_cost
    /// -- --ignored --nocapture`); guards nothing, prints nanoseconds per run for perf notes.
    #[test]
    #[ignore]
    fn evalsha_cost() {
        for body in [
            "return 1",
            "return redis.call('get', KEYS[1])",
            "return redis.call('set', KEYS[1], ARGV[1])",
        ] {
            let mut vm = LuaVm::new();
            let mut host = FakeHost::default();
            let n = 200_000;
            let t = Instant::now();
            for _ in 0..n {
                host.calls.clear();
                run_on(&mut vm, &mut host, body, &[b"k"], Proto::Resp2).unwrap();
            }
            let ns = t.elapsed().as_nanos() as f64 / n as f64;
            println!("{body}: {ns:.0} ns per run");
        }
    }
}
