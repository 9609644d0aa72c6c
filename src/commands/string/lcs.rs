//! LCS: longest common subsequence of two strings, bounded by `LCS_MAX_CELLS`.

use super::*;

// ---------------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------------

/// The bytes of a string key for LCS: absent reads as empty, another type is an error.
fn lcs_input(ex: &mut Exec<'_>, key: &[u8]) -> Result<Vec<u8>, ()> {
    let now = ex.now_ms;
    match ex.db(key).lookup_read(key, now) {
        None => Ok(Vec::new()),
        Some(e) => as_str(e.value()).map(|s| s.to_vec()).map_err(|_| ()),
    }
}

#[derive(Default)]
struct LcsOpts {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: u64,
}

fn parse_lcs_opts(args: Args<'_>) -> Result<LcsOpts, ReplyError> {
    let mut o = LcsOpts::default();
    let mut cur = ArgCursor::new(args, 3);
    while !cur.is_done() {
        if cur.flag("IDX") {
            o.idx = true;
        } else if cur.flag("LEN") {
            o.len = true;
        } else if cur.flag("WITHMATCHLEN") {
            o.with_match_len = true;
        } else if let Some(v) = cur.opt_value("MINMATCHLEN")? {
            o.min_match_len = i64_arg(v)?.max(0) as u64;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    if o.idx && o.len {
        return Err(ReplyError::other(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    Ok(o)
}

/// The LCS length table: cell (i, j) holds the LCS length of a[..i] and b[..j], row-major
/// with rows of `b.len() + 1` cells. Refuses tables above `LCS_MAX_CELLS`.
fn lcs_table(a: &[u8], b: &[u8]) -> Result<Vec<u32>, ReplyError> {
    let too_big =
        || ReplyError::other("ERR Insufficient memory, failed allocating transient memory for LCS");
    let cells = (a.len() as u64 + 1)
        .checked_mul(b.len() as u64 + 1)
        .filter(|&c| c <= LCS_MAX_CELLS)
        .ok_or_else(too_big)?;
    let mut t: Vec<u32> = Vec::new();
    t.try_reserve_exact(cells as usize).map_err(|_| too_big())?;
    t.resize(cells as usize, 0);
    let w = b.len() + 1;
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    Ok(t)
}

/// One common run: (a_start, a_end, b_start, b_end), inclusive.
type Run = (usize, usize, usize, usize);

/// Walks the table back from the end, rebuilding the subsequence and the runs of contiguous
/// matches (last run first), keeping runs of at least `min_len` bytes.
fn lcs_walk(a: &[u8], b: &[u8], t: &[u32], min_len: u64) -> (Vec<u8>, Vec<Run>) {
    let w = b.len() + 1;
    let total = t[a.len() * w + b.len()] as usize;
    let mut seq = vec![0u8; total];
    let mut runs = Vec::new();
    let mut open: Option<Run> = None;
    let (mut i, mut j, mut pos) = (a.len(), b.len(), total);
    let mut flush = |open: &mut Option<Run>| {
        if let Some(r) = open.take() {
            if (r.1 - r.0 + 1) as u64 >= min_len {
                runs.push(r);
            }
        }
    };
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            pos -= 1;
            seq[pos] = a[i - 1];
            let r = open.get_or_insert((i - 1, i - 1, j - 1, j - 1));
            (r.0, r.2) = (i - 1, j - 1);
            i -= 1;
            j -= 1;
            if i == 0 || j == 0 {
                flush(&mut open);
            }
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            flush(&mut open);
        }
    }
    (seq, runs)
}

pub(super) fn lcs(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let a = lcs_input(ex, args.get(1));
    let b = lcs_input(ex, args.get(2));
    let (Ok(a), Ok(b)) = (a, b) else {
        return Err(ReplyError::other(
            "ERR The specified keys must contain string values",
        ));
    };
    let o = parse_lcs_opts(args)?;
    let t = lcs_table(&a, &b)?;
    let total = t[t.len() - 1];
    if o.len {
        ex.out.int(total as i64);
        return Ok(());
    }
    let (seq, runs) = lcs_walk(&a, &b, &t, o.min_match_len);
    if !o.idx {
        ex.out.bulk(&seq);
        return Ok(());
    }
    let out = &mut ex.out;
    out.map(2);
    out.bulk(b"matches");
    out.array(runs.len());
    for (a0, a1, b0, b1) in runs {
        out.array(2 + o.with_match_len as usize);
        out.array(2);
        out.int(a0 as i64);
        out.int(a1 as i64);
        out.array(2);
        out.int(b0 as i64);
        out.int(b1 as i64);
        if o.with_match_len {
            out.int((a1 - a0 + 1) as i64);
        }
    }
    out.bulk(b"len");
    out.int(total as i64);
    Ok(())
}
