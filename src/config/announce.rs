//! What a node may announce about itself: Redis 7.0's rules for `cluster-announce-hostname`
//! and the shape of a bus address. Every place a hostname or an address enters (the config
//! file, arguments, CONFIG SET, bus messages, nodes.conf) checks here, so that nodes.conf never
//! holds a line slotd cannot read back (a space or a newline in a hostname would split it).

use crate::constants::CLUSTER_HOSTNAME_MAX_BYTES;

/// Why `name` cannot be an announced hostname, in Redis 7.0's words (length is checked
/// first, as Redis does). The empty name means "no hostname" and is valid.
pub fn check_hostname(name: &str) -> Result<(), String> {
    if name.len() > CLUSTER_HOSTNAME_MAX_BYTES {
        return Err(format!(
            "Hostnames must be less than {} characters",
            CLUSTER_HOSTNAME_MAX_BYTES + 1
        ));
    }
    let allowed = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
    if !name.bytes().all(allowed) {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots".into());
    }
    Ok(())
}

/// The stored value of `cluster-announce-hostname` (config file, arguments, CONFIG SET).
pub fn hostname_setting(value: &str) -> Result<String, String> {
    check_hostname(value).map(|()| value.to_string())
}

/// A node address as the bus carries it (the header's `myip`, a gossip entry's `ip`): a
/// literal IPv4 or IPv6 address. Redis formats these with inet_ntop; anything else is forged
/// or corrupt and must not reach the node table.
pub fn valid_bus_ip(ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_rules_match_redis() {
        // Guards the exact texts and limits redis-server 7.0.15 applies to CONFIG SET.
        assert!(check_hostname("").is_ok());
        assert!(check_hostname("-a.b-").is_ok());
        assert!(check_hostname("node-1.example.com").is_ok());
        assert!(check_hostname(&"a".repeat(255)).is_ok());
        let long = "Hostnames must be less than 256 characters";
        assert_eq!(check_hostname(&"a".repeat(256)), Err(long.to_string()));
        let chars = "Hostnames may only contain alphanumeric characters, hyphens or dots";
        for bad in ["a b", "a\nb", "a_b", "é", "a,b", "a:b", "a@b", "a\0b"] {
            assert_eq!(check_hostname(bad), Err(chars.to_string()), "{bad:?}");
        }
    }

    #[test]
    fn bus_addresses_are_literal_ips() {
        // Guards against forged addresses (spaces, names) entering the node table.
        assert!(valid_bus_ip("127.0.0.1"));
        assert!(valid_bus_ip("::1"));
        for bad in ["", "a b", "localhost", "1.2.3.4 x", "1.2.3.4\n"] {
            assert!(!valid_bus_ip(bad), "{bad:?}");
        }
    }
}
