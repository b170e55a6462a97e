//! Network targets as plugins and policies write them: `host:port`, IPv6 as `[addr]:port`.

/// Splits `host:port` (IPv6 as `[addr]:port`), checking the port.
///
/// # Errors
///
/// A message saying what a target must look like.
pub fn parse_target(target: &str) -> Result<(&str, u16), String> {
    let bad = || format!("connect target `{target}` must be host:port (IPv6 as [addr]:port)");
    let (host, port) = target.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host, port))
}

pub(crate) fn same_target(a: &str, b: &str) -> bool {
    match (parse_target(a), parse_target(b)) {
        (Ok((ha, pa)), Ok((hb, pb))) => pa == pb && ha.eq_ignore_ascii_case(hb),
        _ => false,
    }
}
