//! BITFIELD and BITFIELD_RO: a list of GET/SET/INCRBY operations on bit fields (i1..i64,
//! u1..u63, `#N` offsets counted in fields), with OVERFLOW WRAP/SAT/FAIL applying to the
//! operations after it. Every operation is parsed before the key is touched; with any write the
//! string grows to the farthest bit written (even when every write then fails, as Redis).
//! Only the writes that happened count as changes: a BITFIELD of GETs (or of failed writes) is
//! not propagated.

use super::*;
use bits::Overflow;

const TYPE_ERR: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Get,
    Set,
    Incr,
}

#[derive(Clone, Copy)]
struct Op {
    kind: Kind,
    signed: bool,
    bits: u32,
    offset: u64,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
}

/// A field type: `i` or `u` (lower case) and a width, 1..=64 signed, 1..=63 unsigned.
fn field_type(raw: &[u8]) -> Result<(bool, u32), ReplyError> {
    let err = || ReplyError::other(TYPE_ERR);
    let signed = match raw.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let max = if signed { 64 } else { 63 };
    match parse_i64(&raw[1..]) {
        Some(n) if (1..=max).contains(&n) => Ok((signed, n as u32)),
        _ => Err(err()),
    }
}

/// Every operation of the line, in order, with Redis' first error.
fn parse_ops(ex: &Exec<'_>, args: Args<'_>) -> Result<Vec<Op>, ReplyError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let word = args.get(j);
        let kind = if word.eq_ignore_ascii_case(b"get") && left >= 2 {
            Kind::Get
        } else if word.eq_ignore_ascii_case(b"set") && left >= 3 {
            Kind::Set
        } else if word.eq_ignore_ascii_case(b"incrby") && left >= 3 {
            Kind::Incr
        } else if word.eq_ignore_ascii_case(b"overflow") && left >= 1 {
            let how = args.get(j + 1);
            overflow = [
                (&b"wrap"[..], Overflow::Wrap),
                (b"sat", Overflow::Sat),
                (b"fail", Overflow::Fail),
            ]
            .into_iter()
            .find(|(n, _)| how.eq_ignore_ascii_case(n))
            .map(|(_, o)| o)
            .ok_or_else(|| ReplyError::other("ERR Invalid OVERFLOW type specified"))?;
            j += 2;
            continue;
        } else {
            return Err(ReplyError::Syntax);
        };
        let (signed, bits) = field_type(args.get(j + 1))?;
        let offset = bit_offset(ex, args.get(j + 2), Some(bits))?;
        let value = match kind {
            Kind::Get => 0,
            _ => super::super::kit::number::i64_arg(args.get(j + 3))?,
        };
        ops.push(Op {
            kind,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

pub(super) fn bitfield(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    run(ex, args, false)
}

pub(super) fn bitfield_ro(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    run(ex, args, true)
}

fn run(ex: &mut Exec<'_>, args: Args<'_>, read_only: bool) -> CmdResult {
    let ops = parse_ops(ex, args)?;
    let (key, now) = (args.get(1), ex.now_ms);
    // The farthest bit a write reaches, if any write.
    let reach = ops
        .iter()
        .filter(|o| o.kind != Kind::Get)
        .map(|o| o.offset + o.bits as u64 - 1)
        .max();
    let Some(reach) = reach else {
        return ex.with_db(key, |db, out| {
            let s = match db.lookup_read(key, now) {
                Some(e) => as_str(e.value())?,
                None => &[][..],
            };
            out.array(ops.len());
            for op in &ops {
                get(out, s, op);
            }
            Ok(())
        });
    };
    if read_only {
        return Err(ReplyError::other(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let len = (reach >> 3) as usize + 1;
    let changes = ex.with_db(key, |db, out| {
        if db.lookup_write(key, now).is_none() {
            db.set(key, new_str(len, |_| {}), 0, now);
        }
        let Some(e) = db.lookup_write(key, now) else {
            unreachable!("just stored")
        };
        as_str(e.value())?;
        out.array(ops.len());
        Ok(edit_str(e, len, |s| {
            let mut changes = 0;
            for op in &ops {
                match op.kind {
                    Kind::Get => get(out, s, op),
                    _ => changes += write(out, s, op) as u64,
                }
            }
            changes
        }))
    })?;
    if changes > 0 {
        ex.notify(crate::shard::notify::STRING, "setbit", key);
        ex.dirty(key, changes);
    }
    Ok(())
}

fn get(out: &mut crate::resp::Out<'_>, s: &[u8], op: &Op) {
    if op.signed {
        out.int(bits::get_signed(s, op.offset, op.bits));
    } else {
        out.int(bits::get_unsigned(s, op.offset, op.bits) as i64);
    }
}

/// One SET or INCRBY: replies with the old value (SET) or the new one (INCRBY), or null when
/// it overflows under FAIL (nothing written). True when it wrote.
fn write(out: &mut crate::resp::Out<'_>, s: &mut [u8], op: &Op) -> bool {
    let incr = op.kind == Kind::Incr;
    let (reply, stored) = if op.signed {
        let old = bits::get_signed(s, op.offset, op.bits);
        let (base, add) = if incr { (old, op.value) } else { (op.value, 0) };
        let (over, limit) = bits::signed_overflow(base, add, op.bits, op.overflow);
        let new = if over {
            limit
        } else {
            Some(base.wrapping_add(add))
        };
        (
            new.map(|n| if incr { n } else { old }),
            new.map(|n| n as u64),
        )
    } else {
        let old = bits::get_unsigned(s, op.offset, op.bits);
        let (base, add) = if incr {
            (old, op.value)
        } else {
            (op.value as u64, 0)
        };
        let (over, limit) = bits::unsigned_overflow(base, add, op.bits, op.overflow);
        let new = if over {
            limit
        } else {
            Some(base.wrapping_add(add as u64))
        };
        (new.map(|n| if incr { n as i64 } else { old as i64 }), new)
    };
    match (reply, stored) {
        (Some(r), Some(v)) => {
            out.int(r);
            bits::set_field(s, op.offset, op.bits, v);
            true
        }
        _ => {
            out.null();
            false
        }
    }
}

/// COMMAND GETKEYSANDFLAGS for BITFIELD: read-only access while the line holds only GETs and
/// OVERFLOWs (as Redis' `bitfieldGetKeys` decides), read-write otherwise.
pub(super) fn key_flags(line: Args<'_>) -> u16 {
    use crate::commands::spec::keyflag;
    let mut i = 2;
    while i < line.len() {
        let left = line.len() - i - 1;
        let word = line.get(i);
        if word.eq_ignore_ascii_case(b"get") && left >= 2 {
            i += 3;
        } else if word.eq_ignore_ascii_case(b"overflow") && left >= 1 {
            i += 2;
        } else {
            return keyflag::RW_ACCESS_UPDATE;
        }
    }
    keyflag::RO | keyflag::ACCESS
}
