//! The cluster bus wire format of Redis 7.0 (protocol version 1): the 2256-byte header, gossip
//! entries, ping extensions and the bodies of every message type, encoded and decoded. Pure
//! bytes in and out; it never touches sockets or the node table. Offsets are the ones in
//! cluster-spec.md section 5 and are pinned by the tests below.

use crate::cluster::node::{valid_id, SlotBits};
use crate::constants::SLOT_COUNT;

/// Bytes of the fixed header every message starts with.
pub const HEADER_LEN: usize = 2256;
/// Bytes of one gossip entry.
pub const GOSSIP_LEN: usize = 104;
/// Total length of an UPDATE message (the largest fixed body).
pub const UPDATE_LEN: usize = 4352;
/// Length of a FAIL message.
pub const FAIL_LEN: usize = HEADER_LEN + 40;
const SIG: &[u8; 4] = b"RCmb";
const VERSION: u16 = 1;
const IP_LEN: usize = 46;
const SLOTS_LEN: usize = SLOT_COUNT / 8;

/// Message type numbers.
pub mod mtype {
    pub const PING: u16 = 0;
    pub const PONG: u16 = 1;
    pub const MEET: u16 = 2;
    pub const FAIL: u16 = 3;
    pub const PUBLISH: u16 = 4;
    pub const AUTH_REQUEST: u16 = 5;
    pub const AUTH_ACK: u16 = 6;
    pub const UPDATE: u16 = 7;
    pub const MFSTART: u16 = 8;
    pub const MODULE: u16 = 9;
    pub const PUBLISHSHARD: u16 = 10;
    /// Types at or above this are unknown to 7.0.
    pub const COUNT: u16 = 11;
}

/// Bits of `mflags[0]`.
pub mod mflag {
    pub const PAUSED: u8 = 1;
    pub const FORCEACK: u8 = 2;
    pub const EXT_DATA: u8 = 4;
}

const EXT_HOSTNAME: u16 = 0;

/// The header fields, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub mtype: u16,
    pub port: u16,
    pub current_epoch: u64,
    pub config_epoch: u64,
    pub offset: u64,
    pub sender: String,
    pub myslots: SlotBits,
    /// Master id when the sender is a replica with a known master.
    pub slaveof: Option<String>,
    /// Announced IP; empty = "use the socket peer address".
    pub myip: String,
    pub pport: u16,
    pub cport: u16,
    pub flags: u16,
    /// The sender's cluster state is fail (informational).
    pub state_fail: bool,
    pub mflags: u8,
}

/// One gossip entry: the sender's view of another node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gossip {
    pub id: String,
    pub ping_sent_s: u32,
    pub pong_received_s: u32,
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    pub flags: u16,
    pub pport: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// PING, PONG, MEET: gossip entries and the announced hostname (empty = none).
    Ping {
        gossip: Vec<Gossip>,
        hostname: String,
    },
    Fail {
        id: String,
    },
    /// PUBLISH and PUBLISHSHARD.
    Publish {
        channel: Vec<u8>,
        message: Vec<u8>,
    },
    Update {
        config_epoch: u64,
        id: String,
        slots: SlotBits,
    },
    /// AUTH_REQUEST, AUTH_ACK, MFSTART, and MODULE (whose payload slotd ignores).
    Empty,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub hdr: Header,
    pub body: Body,
}

/// Why a received message is dropped (logged by the caller).
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    Short,
    Signature,
    /// Not protocol version 1: ignored, as Redis does.
    Version(u16),
    UnknownType(u16),
    Length {
        mtype: u16,
        expected: usize,
        got: usize,
    },
    BadExtension,
    BadNodeId,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Short => write!(f, "message shorter than the header"),
            DecodeError::Signature => write!(f, "bad signature"),
            DecodeError::Version(v) => write!(f, "unsupported protocol version {v}"),
            DecodeError::UnknownType(t) => write!(f, "unknown message type {t}"),
            DecodeError::Length {
                mtype,
                expected,
                got,
            } => write!(f, "type {mtype}: length {got}, expected {expected}"),
            DecodeError::BadExtension => write!(f, "malformed ping extension"),
            DecodeError::BadNodeId => write!(f, "malformed node id"),
        }
    }
}

/// Reads the total length from the first 8 bytes; `None` when they are not a bus message
/// start (bad signature or a length below the header size): the link must be dropped.
pub fn frame_len(first8: &[u8; 8]) -> Option<usize> {
    if &first8[..4] != SIG {
        return None;
    }
    let len = u32::from_be_bytes([first8[4], first8[5], first8[6], first8[7]]) as usize;
    (len >= HEADER_LEN).then_some(len)
}

// ---- encoding ----

fn put_str(buf: &mut [u8], s: &str) {
    let n = s.len().min(buf.len());
    buf[..n].copy_from_slice(&s.as_bytes()[..n]);
}

fn encode_header(h: &Header, buf: &mut [u8], count: u16, extensions: u16) {
    buf[0..4].copy_from_slice(SIG);
    buf[8..10].copy_from_slice(&VERSION.to_be_bytes());
    buf[10..12].copy_from_slice(&h.port.to_be_bytes());
    buf[12..14].copy_from_slice(&h.mtype.to_be_bytes());
    buf[14..16].copy_from_slice(&count.to_be_bytes());
    buf[16..24].copy_from_slice(&h.current_epoch.to_be_bytes());
    buf[24..32].copy_from_slice(&h.config_epoch.to_be_bytes());
    buf[32..40].copy_from_slice(&h.offset.to_be_bytes());
    put_str(&mut buf[40..80], &h.sender);
    buf[80..2128].copy_from_slice(h.myslots.bytes());
    if let Some(m) = &h.slaveof {
        put_str(&mut buf[2128..2168], m);
    }
    put_str(&mut buf[2168..2168 + IP_LEN - 1], &h.myip);
    buf[2214..2216].copy_from_slice(&extensions.to_be_bytes());
    buf[2246..2248].copy_from_slice(&h.pport.to_be_bytes());
    buf[2248..2250].copy_from_slice(&h.cport.to_be_bytes());
    buf[2250..2252].copy_from_slice(&h.flags.to_be_bytes());
    buf[2252] = h.state_fail as u8;
    buf[2253] = h.mflags;
}

fn encode_gossip(g: &Gossip, buf: &mut [u8]) {
    put_str(&mut buf[0..40], &g.id);
    buf[40..44].copy_from_slice(&g.ping_sent_s.to_be_bytes());
    buf[44..48].copy_from_slice(&g.pong_received_s.to_be_bytes());
    put_str(&mut buf[48..48 + IP_LEN - 1], &g.ip);
    buf[94..96].copy_from_slice(&g.port.to_be_bytes());
    buf[96..98].copy_from_slice(&g.cport.to_be_bytes());
    buf[98..100].copy_from_slice(&g.flags.to_be_bytes());
    buf[100..102].copy_from_slice(&g.pport.to_be_bytes());
}

/// The HOSTNAME extension: 8-byte header, then the name and a NUL, padded to 8 bytes.
fn hostname_ext(name: &str) -> Vec<u8> {
    let len = (8 + name.len() + 1).div_ceil(8) * 8;
    let mut e = vec![0u8; len];
    e[0..4].copy_from_slice(&(len as u32).to_be_bytes());
    e[4..6].copy_from_slice(&EXT_HOSTNAME.to_be_bytes());
    e[8..8 + name.len()].copy_from_slice(name.as_bytes());
    e
}

/// The message as bytes on the wire. `mflags` EXT_DATA and the counts are derived here.
pub fn encode(m: &Message) -> Vec<u8> {
    let mut h = m.hdr.clone();
    let mut count = 0u16;
    let mut exts = 0u16;
    let mut body = Vec::new();
    match &m.body {
        Body::Ping { gossip, hostname } => {
            count = gossip.len().min(u16::MAX as usize) as u16;
            body.resize(count as usize * GOSSIP_LEN, 0);
            for (i, g) in gossip.iter().take(count as usize).enumerate() {
                encode_gossip(g, &mut body[i * GOSSIP_LEN..(i + 1) * GOSSIP_LEN]);
            }
            if !hostname.is_empty() {
                body.extend_from_slice(&hostname_ext(hostname));
                exts = 1;
                h.mflags |= mflag::EXT_DATA;
            }
        }
        Body::Fail { id } => {
            body.resize(40, 0);
            put_str(&mut body, id);
        }
        Body::Publish { channel, message } => {
            body.extend_from_slice(&(channel.len() as u32).to_be_bytes());
            body.extend_from_slice(&(message.len() as u32).to_be_bytes());
            body.extend_from_slice(channel);
            body.extend_from_slice(message);
        }
        Body::Update {
            config_epoch,
            id,
            slots,
        } => {
            body.resize(UPDATE_LEN - HEADER_LEN, 0);
            body[0..8].copy_from_slice(&config_epoch.to_be_bytes());
            put_str(&mut body[8..48], id);
            body[48..48 + SLOTS_LEN].copy_from_slice(slots.bytes());
        }
        Body::Empty => {}
    }
    let mut out = vec![0u8; HEADER_LEN];
    encode_header(&h, &mut out, count, exts);
    out.extend_from_slice(&body);
    let total = out.len() as u32;
    out[4..8].copy_from_slice(&total.to_be_bytes());
    out
}

// ---- decoding ----

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn be64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(a)
}

/// A NUL-padded text field (up to the first NUL), lossy for non-UTF-8 bytes.
fn get_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn get_id(b: &[u8]) -> Result<String, DecodeError> {
    let id = get_str(&b[..40]);
    if valid_id(&id) {
        Ok(id)
    } else {
        Err(DecodeError::BadNodeId)
    }
}

/// All-zero `slaveof` means "a master".
fn get_opt_id(b: &[u8]) -> Result<Option<String>, DecodeError> {
    if b[..40].iter().all(|&c| c == 0) {
        Ok(None)
    } else {
        get_id(b).map(Some)
    }
}

fn decode_header(b: &[u8]) -> Result<Header, DecodeError> {
    Ok(Header {
        mtype: be16(b, 12),
        port: be16(b, 10),
        current_epoch: be64(b, 16),
        config_epoch: be64(b, 24),
        offset: be64(b, 32),
        sender: get_id(&b[40..80])?,
        myslots: SlotBits::from_bytes(&b[80..2128]),
        slaveof: get_opt_id(&b[2128..2168])?,
        myip: get_str(&b[2168..2168 + IP_LEN]),
        pport: be16(b, 2246),
        cport: be16(b, 2248),
        flags: be16(b, 2250),
        state_fail: b[2252] != 0,
        mflags: b[2253],
    })
}

fn decode_gossip(b: &[u8]) -> Result<Gossip, DecodeError> {
    Ok(Gossip {
        id: get_id(&b[0..40])?,
        ping_sent_s: be32(b, 40),
        pong_received_s: be32(b, 44),
        ip: get_str(&b[48..48 + IP_LEN]),
        port: be16(b, 94),
        cport: be16(b, 96),
        flags: be16(b, 98),
        pport: be16(b, 100),
    })
}

/// Walks the extensions after the gossip section; returns the hostname (empty if none).
fn decode_extensions(ext: &[u8], count: u16) -> Result<String, DecodeError> {
    let mut at = 0usize;
    let mut hostname = String::new();
    for _ in 0..count {
        if ext.len() - at < 8 {
            return Err(DecodeError::BadExtension);
        }
        let len = be32(ext, at) as usize;
        if len < 8 || !len.is_multiple_of(8) || len > ext.len() - at {
            return Err(DecodeError::BadExtension);
        }
        if be16(ext, at + 4) == EXT_HOSTNAME {
            hostname = get_str(&ext[at + 8..at + len]);
        }
        at += len;
    }
    if at != ext.len() {
        return Err(DecodeError::BadExtension);
    }
    Ok(hostname)
}

fn expect_len(mtype: u16, expected: usize, got: usize) -> Result<(), DecodeError> {
    if expected == got {
        Ok(())
    } else {
        Err(DecodeError::Length {
            mtype,
            expected,
            got,
        })
    }
}

/// Decodes one whole message (`b.len()` is its `totlen`), validating lengths per type exactly
/// as Redis does before acting on anything.
pub fn decode(b: &[u8]) -> Result<Message, DecodeError> {
    if b.len() < HEADER_LEN {
        return Err(DecodeError::Short);
    }
    if &b[..4] != SIG {
        return Err(DecodeError::Signature);
    }
    let version = be16(b, 8);
    if version != VERSION {
        return Err(DecodeError::Version(version));
    }
    let mtype = be16(b, 12);
    if mtype >= mtype::COUNT {
        return Err(DecodeError::UnknownType(mtype));
    }
    let total = b.len();
    let body = match mtype {
        mtype::PING | mtype::PONG | mtype::MEET => decode_ping(b)?,
        mtype::FAIL => {
            expect_len(mtype, FAIL_LEN, total)?;
            Body::Fail {
                id: get_id(&b[HEADER_LEN..])?,
            }
        }
        mtype::PUBLISH | mtype::PUBLISHSHARD => {
            let fixed = HEADER_LEN + 8;
            if total < fixed {
                return Err(DecodeError::Short);
            }
            let clen = be32(b, HEADER_LEN) as usize;
            let mlen = be32(b, HEADER_LEN + 4) as usize;
            expect_len(
                mtype,
                fixed.saturating_add(clen).saturating_add(mlen),
                total,
            )?;
            Body::Publish {
                channel: b[fixed..fixed + clen].to_vec(),
                message: b[fixed + clen..].to_vec(),
            }
        }
        mtype::UPDATE => {
            expect_len(mtype, UPDATE_LEN, total)?;
            let d = &b[HEADER_LEN..];
            Body::Update {
                config_epoch: be64(d, 0),
                id: get_id(&d[8..48])?,
                slots: SlotBits::from_bytes(&d[48..48 + SLOTS_LEN]),
            }
        }
        mtype::MODULE => {
            if total < HEADER_LEN + 13 {
                return Err(DecodeError::Short);
            }
            let len = be32(b, HEADER_LEN + 8) as usize;
            expect_len(mtype, (HEADER_LEN + 13).saturating_add(len), total)?;
            Body::Empty
        }
        _ => {
            expect_len(mtype, HEADER_LEN, total)?;
            Body::Empty
        }
    };
    Ok(Message {
        hdr: decode_header(b)?,
        body,
    })
}

fn decode_ping(b: &[u8]) -> Result<Body, DecodeError> {
    let mtype = be16(b, 12);
    let count = be16(b, 14) as usize;
    let gossip_end = HEADER_LEN + count * GOSSIP_LEN;
    if b.len() < gossip_end {
        return Err(DecodeError::Length {
            mtype,
            expected: gossip_end,
            got: b.len(),
        });
    }
    let ext_data = b[2253] & mflag::EXT_DATA != 0;
    let hostname = if ext_data {
        decode_extensions(&b[gossip_end..], be16(b, 2214))?
    } else {
        expect_len(mtype, gossip_end, b.len())?;
        String::new()
    };
    let gossip = (0..count)
        .map(|i| decode_gossip(&b[HEADER_LEN + i * GOSSIP_LEN..]))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Body::Ping { gossip, hostname })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(mtype: u16) -> Header {
        let mut slots = SlotBits::default();
        (0..=5460).for_each(|s| slots.set(s, true));
        Header {
            mtype,
            port: 30001,
            current_epoch: 6,
            config_epoch: 1,
            offset: 1234,
            sender: "a".repeat(40),
            myslots: slots,
            slaveof: None,
            myip: String::new(),
            pport: 0,
            cport: 40001,
            flags: 0x0111,
            state_fail: false,
            mflags: 0,
        }
    }

    fn gossip(id: char) -> Gossip {
        Gossip {
            id: id.to_string().repeat(40),
            ping_sent_s: 0,
            pong_received_s: 0x6b05_c5a8,
            ip: "127.0.0.1".into(),
            port: 30004,
            cport: 40004,
            flags: 2,
            pport: 0,
        }
    }

    #[test]
    fn meet_layout_matches_redis_bytes() {
        // Guards the offsets observed on a 7.0.15 MEET (cluster-spec 5.2).
        let m = Message {
            hdr: header(mtype::MEET),
            body: Body::Ping {
                gossip: vec![gossip('b'), gossip('c'), gossip('d')],
                hostname: String::new(),
            },
        };
        let b = encode(&m);
        assert_eq!(
            &b[..16],
            &[0x52, 0x43, 0x6d, 0x62, 0, 0, 0x0a, 0x08, 0, 1, 0x75, 0x31, 0, 2, 0, 3]
        );
        assert_eq!(&b[2246..2256], &[0, 0, 0x9c, 0x41, 0x01, 0x11, 0, 0, 0, 0]);
        assert_eq!(&b[80..80 + 682], &[0xff; 682][..]);
        assert_eq!(b[80 + 682], 0x1f);
        assert_eq!(b[80 + 683], 0);
        let g = &b[HEADER_LEN..HEADER_LEN + GOSSIP_LEN];
        assert_eq!(&g[94..100], &[0x75, 0x34, 0x9c, 0x44, 0, 2]);
        assert_eq!(decode(&b).expect("decodes"), m);
        assert_eq!(frame_len(b[..8].try_into().expect("8")), Some(2568));
    }

    #[test]
    fn hostname_extension_roundtrips() {
        // Guards the extension framing (16-char name -> 32-byte extension, EXT_DATA set).
        let mut m = Message {
            hdr: header(mtype::PING),
            body: Body::Ping {
                gossip: vec![gossip('b'), gossip('c'), gossip('d')],
                hostname: "node-two.example".into(),
            },
        };
        let b = encode(&m);
        assert_eq!(b.len(), 2600);
        assert_eq!(b[2253], mflag::EXT_DATA);
        m.hdr.mflags = mflag::EXT_DATA;
        assert_eq!(decode(&b).expect("decodes"), m);
        // Extensions without EXT_DATA fail the length check, as in Redis.
        let mut bad = b.clone();
        bad[2253] = 0;
        assert!(matches!(decode(&bad), Err(DecodeError::Length { .. })));
        // A length that is not a multiple of 8 is refused.
        let mut bad = b;
        bad[2568 + 3] = 31;
        assert_eq!(decode(&bad), Err(DecodeError::BadExtension));
    }

    #[test]
    fn other_bodies_roundtrip() {
        // Guards FAIL, PUBLISH, UPDATE and empty bodies and their exact lengths.
        let mut slots = SlotBits::default();
        slots.set(16383, true);
        for (body, len) in [
            (Body::Fail { id: "f".repeat(40) }, FAIL_LEN),
            (
                Body::Publish {
                    channel: b"news".to_vec(),
                    message: b"hello".to_vec(),
                },
                HEADER_LEN + 8 + 9,
            ),
            (
                Body::Update {
                    config_epoch: 9,
                    id: "e".repeat(40),
                    slots,
                },
                UPDATE_LEN,
            ),
            (Body::Empty, HEADER_LEN),
        ] {
            let mtype = match body {
                Body::Fail { .. } => mtype::FAIL,
                Body::Publish { .. } => mtype::PUBLISH,
                Body::Update { .. } => mtype::UPDATE,
                _ => mtype::AUTH_REQUEST,
            };
            let m = Message {
                hdr: header(mtype),
                body,
            };
            let b = encode(&m);
            assert_eq!(b.len(), len);
            assert_eq!(decode(&b).expect("decodes"), m);
        }
    }

    #[test]
    fn malformed_messages_are_refused_not_panicking() {
        // Guards the receiver against truncated, oversized and garbage input.
        let m = Message {
            hdr: header(mtype::PING),
            body: Body::Ping {
                gossip: vec![gossip('b')],
                hostname: String::new(),
            },
        };
        let b = encode(&m);
        for cut in [0, 7, 100, HEADER_LEN - 1, HEADER_LEN, b.len() - 1] {
            assert!(decode(&b[..cut]).is_err(), "cut at {cut}");
        }
        let mut v = b.clone();
        v[8..10].copy_from_slice(&2u16.to_be_bytes());
        assert_eq!(decode(&v), Err(DecodeError::Version(2)));
        let mut v = b.clone();
        v[12..14].copy_from_slice(&11u16.to_be_bytes());
        assert_eq!(decode(&v), Err(DecodeError::UnknownType(11)));
        let mut v = b.clone();
        v[40] = b'A';
        assert_eq!(decode(&v), Err(DecodeError::BadNodeId));
        let mut v = b.clone();
        v[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
        assert!(decode(&v).is_err());
        assert_eq!(frame_len(b"RCmb\0\0\0\x10"), None);
        assert_eq!(frame_len(b"XXXX\0\0\x10\0"), None);
        // A PUBLISH whose inner lengths overflow the message.
        let mut p = vec![0u8; HEADER_LEN + 8];
        p[..HEADER_LEN].copy_from_slice(&b[..HEADER_LEN]);
        p[12..14].copy_from_slice(&mtype::PUBLISH.to_be_bytes());
        p[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode(&p).is_err());
        // Random bytes after a valid signature never panic.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200 {
            let mut v = b.clone();
            for _ in 0..8 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = (x as usize) % v.len();
                v[at] = (x >> 32) as u8;
            }
            let _ = decode(&v);
        }
    }
}
