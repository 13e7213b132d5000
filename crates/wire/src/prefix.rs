//! Address prefixes (`198.51.100.0/24`, `2001:db8::/32`), shared by the filter language and
//! the classifier's notion of the sensor's own addresses.

use std::net::IpAddr;

/// True when `a` lies inside `net/len` (never across address families).
pub fn contains(net: IpAddr, len: u8, a: IpAddr) -> bool {
    match (net, a) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - len.min(32) as u32)
            };
            u32::from(n) & m == u32::from(a) & m
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len.min(128) as u32)
            };
            u128::from(n) & m == u128::from(a) & m
        }
        _ => false,
    }
}

/// Parses `198.51.100.0/24`, `2001:db8::/32` or a bare address (a /32 or /128).
pub fn parse(s: &str) -> Result<(IpAddr, u8), String> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = a
        .parse()
        .map_err(|_| format!("'{s}' is not an address or prefix (e.g. 198.51.100.0/24)"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match l {
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|&l| l <= max)
            .ok_or_else(|| format!("'{s}': prefix length must be 0..={max}"))?,
        None => max,
    };
    Ok((addr, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_contain() {
        let (n, l) = parse("198.51.100.0/24").unwrap();
        assert!(contains(n, l, "198.51.100.7".parse().unwrap()));
        assert!(!contains(n, l, "198.51.101.7".parse().unwrap()));
        assert!(!contains(n, l, "::1".parse().unwrap()));
        assert_eq!(parse("2001:db8::1").unwrap().1, 128);
        assert!(parse("10.0.0.0/33").is_err());
        assert!(parse("nonsense").is_err());
        assert!(contains(
            "0.0.0.0".parse().unwrap(),
            0,
            "8.8.8.8".parse().unwrap()
        ));
    }
}
