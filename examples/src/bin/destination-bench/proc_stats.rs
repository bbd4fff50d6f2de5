//! This process's CPU time and peak resident memory, from `/proc/self` (Linux; zeros elsewhere).

/// CPU time (user + system) and peak RSS of this process so far.
pub(crate) struct ProcStats {
    pub(crate) cpu_ms: f64,
    pub(crate) peak_rss_kib: u64,
}

/// Reads `/proc/self/stat` (utime, stime in clock ticks of 1/100 s, Linux's `USER_HZ`) and
/// `/proc/self/status` (`VmHWM`).
pub(crate) fn own() -> ProcStats {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the command name (which may hold spaces) start at field 3.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    let peak_rss_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    ProcStats {
        cpu_ms: ticks as f64 * 10.0,
        peak_rss_kib,
    }
}
