//! Geohash arithmetic as Redis 7.0 does it, bit for bit: the 52-bit interleaved hash of a
//! (longitude, latitude) pair that is stored as a sorted-set score, its decoding back to the
//! centre of its cell, the eight neighbouring cells, the nine cells that cover a circle or a
//! box (`geohashCalculateAreasByShapeWGS84`), the haversine distance on Redis' earth radius,
//! and GEOHASH's 11-character base32 text. Pure functions; `commands::geo` uses them.
//!
//! Every floating-point step keeps Redis' order of operations, so that scores, decoded
//! coordinates and distances are the same doubles redis-server computes.

/// Bits per coordinate in a stored score (a score holds `2 * STEP_MAX` = 52 bits).
pub const STEP_MAX: u8 = 26;
pub const LON_MIN: f64 = -180.0;
pub const LON_MAX: f64 = 180.0;
/// Redis limits latitudes to the square of the Web Mercator projection.
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// The earth's quadratic mean radius Redis uses, in meters.
pub const EARTH_RADIUS_M: f64 = 6372797.560856;
/// Degrees to radians as Redis' helpers compute it (`M_PI / 180.0` in double arithmetic).
const DEG_TO_RAD: f64 = std::f64::consts::PI / 180.0;
/// Half the circumference in Web Mercator meters: the step estimate doubles up to it.
const MERCATOR_MAX: f64 = 20037726.37;

/// A range of one coordinate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// Longitudes of stored points.
pub const LON_RANGE: Range = Range {
    min: LON_MIN,
    max: LON_MAX,
};
/// Latitudes of stored points.
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};
/// The standard geohash latitude range (GEOHASH's text re-encodes on it).
const LAT_RANGE_STANDARD: Range = Range {
    min: -90.0,
    max: 90.0,
};

/// A cell: `step` bits per coordinate, interleaved (latitude on even bits, longitude on odd).
/// The zero hash (no bits, step 0) is Redis' "no cell".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    pub const NONE: Hash = Hash { bits: 0, step: 0 };

    pub fn is_none(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash as a 52-bit score prefix (Redis' `geohashAlign52Bits`).
    pub fn align52(self) -> u64 {
        self.bits << (52 - 2 * self.step as u32)
    }

    /// The scores of the points inside this cell: `min <= score < max`.
    pub fn score_range(self) -> (u64, u64) {
        let next = Hash {
            bits: self.bits.wrapping_add(1),
            step: self.step,
        };
        (self.align52(), next.align52())
    }
}

/// A decoded cell: its hash and the rectangle it covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    pub hash: Hash,
    pub lon: Range,
    pub lat: Range,
}

/// True when GEOADD accepts the pair (Redis' "invalid longitude,latitude pair" check).
pub fn valid_lon_lat(lon: f64, lat: f64) -> bool {
    (LON_MIN..=LON_MAX).contains(&lon) && (LAT_MIN..=LAT_MAX).contains(&lat)
}

/// Spreads the 32 bits of `v` onto the even bits of a u64.
fn spread(v: u32) -> u64 {
    let mut x = v as u64;
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bits of `v` into a u32 (the inverse of `spread`).
fn gather(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0xFFFF_FFFF) as u32
}

/// The cell of `step` bits per coordinate holding (lon, lat) in the given ranges; None
/// outside Redis' limits or the ranges (Redis' `geohashEncode` failing).
pub fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Hash> {
    if step == 0 || step > 32 || !valid_lon_lat(lon, lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * cells;
    let lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min) * cells;
    // C converts the offsets to uint32_t: truncation, as `as` does in range.
    let bits = spread(lat_off as u32) | (spread(lon_off as u32) << 1);
    Some(Hash { bits, step })
}

/// `encode` on the ranges of stored points.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<Hash> {
    encode(LON_RANGE, LAT_RANGE, lon, lat, step)
}

/// The score GEOADD stores for a valid pair.
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode_wgs84(lon, lat, STEP_MAX).map(Hash::align52)
}

/// The rectangle a cell covers (Redis' `geohashDecode`); None for the zero hash.
pub fn decode(lon_r: Range, lat_r: Range, hash: Hash) -> Option<Area> {
    if hash.is_none() {
        return None;
    }
    let lat_cell = gather(hash.bits);
    let lon_cell = gather(hash.bits >> 1);
    let cells = (1u64 << hash.step) as f64;
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    let at = |min: f64, i: u64, scale: f64| min + (i as f64 / cells) * scale;
    Some(Area {
        hash,
        lat: Range {
            min: at(lat_r.min, lat_cell as u64, lat_scale),
            max: at(lat_r.min, lat_cell as u64 + 1, lat_scale),
        },
        lon: Range {
            min: at(lon_r.min, lon_cell as u64, lon_scale),
            max: at(lon_r.min, lon_cell as u64 + 1, lon_scale),
        },
    })
}

/// `decode` on the ranges of stored points.
pub fn decode_wgs84(hash: Hash) -> Option<Area> {
    decode(LON_RANGE, LAT_RANGE, hash)
}

/// The centre of a cell, clamped to the valid ranges: the coordinates GEOPOS reports.
pub fn centre(area: &Area) -> (f64, f64) {
    let lon = ((area.lon.min + area.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// A sorted-set score as the 64-bit integer C's `(uint64_t)score` gives on x86-64: exact for
/// the scores GEOADD stores, and the same wrap-around as redis-server for any other score.
fn score_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    // cvttsd2si answers 0x8000000000000000 for anything it cannot represent (NaN included).
    let cvt = |v: f64| {
        if v.is_nan() || !(-TWO_63..TWO_63).contains(&v) {
            i64::MIN
        } else {
            v as i64
        }
    };
    if score < TWO_63 {
        cvt(score) as u64
    } else {
        (cvt(score - TWO_63) as u64) ^ (1 << 63)
    }
}

/// The (longitude, latitude) a stored score stands for: its cell's centre.
pub fn decode_score(score: f64) -> (f64, f64) {
    let hash = Hash {
        bits: score_bits(score),
        step: STEP_MAX,
    };
    match decode_wgs84(hash) {
        Some(area) => centre(&area),
        // Step 26 is never the zero hash.
        None => unreachable!("a step-26 hash always decodes"),
    }
}

/// GEOHASH's text for a stored score: the point re-encoded on the standard -90..90 latitude
/// range, 10 base32 characters of its 52 bits and a final '0' (Redis pads the 11th).
pub fn geohash_text(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    let bits = encode(LON_RANGE, LAT_RANGE_STANDARD, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().take(10).enumerate() {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    out
}

const ODD_BITS: u64 = 0xaaaa_aaaa_aaaa_aaaa;
const EVEN_BITS: u64 = 0x5555_5555_5555_5555;

/// Moves a cell one step along the coordinate whose bits `mine` selects (ODD_BITS: the
/// longitude, EVEN_BITS: the latitude), up (`forward`) or down, wrapping around.
fn move_cell(hash: Hash, mine: u64, forward: bool) -> Hash {
    let shift = 64 - 2 * hash.step as u32;
    let other = !mine;
    let own = hash.bits & mine;
    // Filling the other coordinate's bits with ones makes a carry or borrow cross them.
    let fill = other >> shift;
    let moved = if forward {
        own.wrapping_add(fill + 1)
    } else {
        (own | fill).wrapping_sub(fill + 1)
    };
    Hash {
        bits: (moved & (mine >> shift)) | (hash.bits & other),
        step: hash.step,
    }
}

/// One column east (`east`) or west, across the antimeridian too.
fn move_lon(hash: Hash, east: bool) -> Hash {
    move_cell(hash, ODD_BITS, east)
}

/// One row north (`north`) or south.
fn move_lat(hash: Hash, north: bool) -> Hash {
    move_cell(hash, EVEN_BITS, north)
}

/// The eight cells around a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neighbours {
    pub north: Hash,
    pub south: Hash,
    pub east: Hash,
    pub west: Hash,
    pub north_east: Hash,
    pub north_west: Hash,
    pub south_east: Hash,
    pub south_west: Hash,
}

pub fn neighbours(h: Hash) -> Neighbours {
    Neighbours {
        north: move_lat(h, true),
        south: move_lat(h, false),
        east: move_lon(h, true),
        west: move_lon(h, false),
        north_east: move_lat(move_lon(h, true), true),
        north_west: move_lat(move_lon(h, false), true),
        south_east: move_lat(move_lon(h, true), false),
        south_west: move_lat(move_lon(h, false), false),
    }
}

fn deg_rad(deg: f64) -> f64 {
    deg * DEG_TO_RAD
}

fn rad_deg(rad: f64) -> f64 {
    rad / DEG_TO_RAD
}

/// The distance in meters between two latitudes on one meridian: the haversine formula
/// reduced to its exact form when the longitudes are equal (as redis-server 7.0.15 does).
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The great-circle distance in meters (haversine, Redis' formula and earth radius; equal
/// longitudes take `lat_distance`, as redis-server 7.0.15 does).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// The step (bits per coordinate) whose cells are about as large as a search radius.
pub fn estimate_step(range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return STEP_MAX;
    }
    let mut range_m = range_m;
    let mut step: i32 = 1;
    while range_m < MERCATOR_MAX {
        range_m *= 2.0;
        step += 1;
    }
    // Leave room so that the range falls inside the nine cells in most cases.
    step -= 2;
    // Meridians converge towards the poles: wider cells there.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, STEP_MAX as i32) as u8
}

/// What a search covers: a circle or an axis-aligned box, its sizes in the unit typed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// A search: its centre, its shape and the unit's size in meters (`conversion`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Search {
    pub lon: f64,
    pub lat: f64,
    pub shape: Shape,
    pub conversion: f64,
}

/// The bounding box of a search as (min lon, min lat, max lon, max lat); a box's east and
/// west edges bend with the latitude, so the wider of its top and bottom edges counts.
pub fn bounding_box(s: &Search) -> [f64; 4] {
    let (half_h, half_w) = match s.shape {
        Shape::Radius(r) => (s.conversion * r, s.conversion * r),
        Shape::Box { width, height } => {
            (s.conversion * (height / 2.0), s.conversion * (width / 2.0))
        }
    };
    let lat_delta = rad_deg(half_h / EARTH_RADIUS_M);
    let lon_delta_top = rad_deg(half_w / EARTH_RADIUS_M / deg_rad(s.lat + lat_delta).cos());
    let lon_delta_bottom = rad_deg(half_w / EARTH_RADIUS_M / deg_rad(s.lat - lat_delta).cos());
    let lon_delta = if s.lat < 0.0 {
        lon_delta_bottom
    } else {
        lon_delta_top
    };
    [
        s.lon - lon_delta,
        s.lat - lat_delta,
        s.lon + lon_delta,
        s.lat + lat_delta,
    ]
}

/// The nine cells to scan for a search, in Redis' order: the centre's cell, then north,
/// south, east, west, north-east, north-west, south-east, south-west. Cells the search
/// cannot reach are `Hash::NONE`.
pub fn search_cells(s: &Search) -> [Hash; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(s);
    let radius_m = match s.shape {
        Shape::Radius(r) => r,
        Shape::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * s.conversion;
    let mut step = estimate_step(radius_m, s.lat);
    let cell = |step| {
        let hash = encode_wgs84(s.lon, s.lat, step).unwrap_or(Hash { bits: 0, step });
        let area = decode_wgs84(hash);
        (hash, neighbours(hash), area)
    };
    let (mut hash, mut nb, mut area) = cell(step);
    // Near a cell's edge the estimated step may leave part of the search outside the nine
    // cells: then one step coarser.
    let reach = |h: Hash| decode_wgs84(h);
    let too_fine = reach(nb.north).is_some_and(|a| a.lat.max < max_lat)
        || reach(nb.south).is_some_and(|a| a.lat.min > min_lat)
        || reach(nb.east).is_some_and(|a| a.lon.max < max_lon)
        || reach(nb.west).is_some_and(|a| a.lon.min > min_lon);
    if step > 1 && too_fine {
        step -= 1;
        (hash, nb, area) = cell(step);
    }
    if step >= 2 {
        if let Some(a) = area {
            if a.lat.min < min_lat {
                (nb.south, nb.south_west, nb.south_east) = (Hash::NONE, Hash::NONE, Hash::NONE);
            }
            if a.lat.max > max_lat {
                (nb.north, nb.north_east, nb.north_west) = (Hash::NONE, Hash::NONE, Hash::NONE);
            }
            if a.lon.min < min_lon {
                (nb.west, nb.south_west, nb.north_west) = (Hash::NONE, Hash::NONE, Hash::NONE);
            }
            if a.lon.max > max_lon {
                (nb.east, nb.south_east, nb.north_east) = (Hash::NONE, Hash::NONE, Hash::NONE);
            }
        }
    }
    [
        hash,
        nb.north,
        nb.south,
        nb.east,
        nb.west,
        nb.north_east,
        nb.north_west,
        nb.south_east,
        nb.south_west,
    ]
}

/// The distance in meters from the search's centre to (lon, lat) when the point lies inside
/// the search's shape, None otherwise (Redis' `geoWithinShape` after decoding).
pub fn within(s: &Search, lon: f64, lat: f64) -> Option<f64> {
    match s.shape {
        Shape::Radius(r) => {
            let d = distance(s.lon, s.lat, lon, lat);
            // A NaN distance (antipodes) is not "farther": Redis keeps it.
            let farther = d > r * s.conversion;
            (!farther).then_some(d)
        }
        Shape::Box { width, height } => {
            let (width_m, height_m) = (width * s.conversion, height * s.conversion);
            // The cheaper latitude test first, as Redis 7.0.15 orders them.
            if lat_distance(lat, s.lat) > height_m / 2.0 {
                return None;
            }
            if distance(lon, lat, s.lon, lat) > width_m / 2.0 {
                return None;
            }
            Some(distance(s.lon, s.lat, lon, lat))
        }
    }
}

#[cfg(test)]
mod tests;
