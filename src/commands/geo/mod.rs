//! Geo commands over sorted sets (Redis 7.0 semantics, replies and error texts): GEOADD,
//! GEODIST, GEOHASH, GEOPOS, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and
//! their `_RO` forms. A point is a sorted-set member whose score is its 52-bit geohash
//! (`types::geohash`); every number these commands print is the double redis-server prints.
//!
//! GEOADD runs ZADD with the scores it computed and is journaled as that ZADD, as Redis 7.0
//! propagates it; the STORE forms are journaled as written (or, across shards, as the
//! resulting keys), like the sorted-set STORE commands.

use super::kit::number::{f64_arg, parse_f64};
use super::{CmdResult, Exec};
use crate::resp::{Args, Out, ReplyError};
use crate::shard::db::Db;
use crate::shard::value::ValueRef;
use crate::types::geohash;
use crate::types::zset::ZSetValue;

mod add;
mod order;
mod read;
mod search;
mod table;

pub use table::COMMANDS;

/// The sorted set at `key` for reading; None when absent, WRONGTYPE for other values.
fn zset_at<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d ZSetValue>, ReplyError> {
    match db.lookup_read(key, now_ms) {
        None => Ok(None),
        Some(e) => match e.value() {
            ValueRef::ZSet(z) => Ok(Some(z)),
            _ => Err(ReplyError::WrongType),
        },
    }
}

/// A unit's size in meters (Redis' `extractUnitOrReply`).
fn unit_meters(u: &[u8]) -> Result<f64, ReplyError> {
    if u.eq_ignore_ascii_case(b"m") {
        Ok(1.0)
    } else if u.eq_ignore_ascii_case(b"km") {
        Ok(1000.0)
    } else if u.eq_ignore_ascii_case(b"ft") {
        Ok(0.3048)
    } else if u.eq_ignore_ascii_case(b"mi") {
        Ok(1609.34)
    } else {
        Err(ReplyError::other(
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ))
    }
}

/// A double argument with Redis' own message for this argument ("ERR need numeric radius").
fn number(raw: &[u8], err: &'static str) -> Result<f64, ReplyError> {
    parse_f64(raw).ok_or_else(|| ReplyError::other(err))
}

/// A longitude and latitude pair, checked against the valid area (GEOADD, FROMLONLAT,
/// GEORADIUS' centre).
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), ReplyError> {
    let (lon, lat) = (f64_arg(lon)?, f64_arg(lat)?);
    if !geohash::valid_lon_lat(lon, lat) {
        return Err(ReplyError::other(format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok((lon, lat))
}

/// Writes a coordinate as Redis' `addReplyHumanLongDouble`: `%.17Lf` without trailing zeros,
/// a bulk string in RESP2 and a double in RESP3.
fn write_coord(out: &mut Out<'_>, v: f64) {
    let mut buf = [0u8; 64];
    let text = coord_text(v, &mut buf);
    if out.resp3() {
        out.raw(b",");
        out.raw(text);
        out.raw(b"\r\n");
    } else {
        out.bulk(text);
    }
}

/// `%.17f` of `v` with trailing zeros (and a bare point) removed, "-0" as "0".
fn coord_text(v: f64, buf: &mut [u8; 64]) -> &[u8] {
    use std::io::Write;
    let mut w = &mut buf[..];
    let _ = write!(w, "{v:.17}");
    let left = w.len();
    let mut n = 64 - left;
    if buf[..n].contains(&b'.') {
        while buf[n - 1] == b'0' {
            n -= 1;
        }
        if buf[n - 1] == b'.' {
            n -= 1;
        }
    }
    if &buf[..n] == b"-0" {
        return b"0";
    }
    &buf[..n]
}

/// Writes a distance as redis-server 7.0.15 does (its `fixedpoint_d2string` with 4 digits),
/// always a bulk string: the value times 10^4 rounded half to even as `llrint` rounds it,
/// printed with four decimals. That rounding of the scaled double differs from `%.4f` on
/// the last digit now and then; a NaN prints as `llrint`'s out-of-range value does.
fn write_distance(out: &mut Out<'_>, d: f64) {
    let mut buf = [0u8; 32];
    let text = distance_text(d, &mut buf);
    out.bulk(text);
}

fn distance_text(d: f64, buf: &mut [u8; 32]) -> &[u8] {
    use std::io::Write;
    if d == 0.0 {
        return b"0.0000";
    }
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let scaled = (d * 10000.0).round_ties_even();
    // x86's conversion answers i64::MIN for NaN and anything out of range.
    let v = if (-TWO_63..TWO_63).contains(&scaled) {
        scaled as i64
    } else {
        i64::MIN
    };
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.unsigned_abs();
    let mut w = &mut buf[..];
    let _ = write!(w, "{sign}{}.{:04}", abs / 10000, abs % 10000);
    let n = 32 - w.len();
    &buf[..n]
}

#[cfg(test)]
mod tests;
