//! Where the machine's CPU time went during a measurement: the server instances, the load
//! generator (this process, with the SMTP sink), the PostgreSQL backends serving the run's
//! database, anything else (PostgreSQL's shared background processes included), and idle. With the
//! load generator on the same 2 cores as the server, this tells a CPU-bound server from a
//! waiting one, and shows other work that skewed a run.

use serde::Serialize;

/// Cumulative CPU ticks at one moment (units cancel out: only shares are reported).
#[derive(Debug, Clone, Default)]
pub struct CpuSample {
    total: u64,
    idle: u64,
    servers: u64,
    bench: u64,
    postgres: u64,
}

impl CpuSample {
    /// Reads /proc for the machine, the `servers`, this process and the PostgreSQL backends
    /// connected to `database` (none when `None`).
    pub fn take(servers: &[u32], database: Option<&str>) -> Self {
        let (total, idle) = machine_ticks().unwrap_or_default();
        Self {
            total,
            idle,
            servers: servers.iter().filter_map(|pid| process_ticks(*pid)).sum(),
            bench: process_ticks(std::process::id()).unwrap_or(0),
            postgres: database.map_or(0, postgres_ticks),
        }
    }

    /// The shares of the machine's capacity used between `self` and `later`.
    pub fn until(&self, later: &CpuSample) -> CpuUse {
        let total = later.total.saturating_sub(self.total).max(1) as f64;
        let share = |before: u64, after: u64| after.saturating_sub(before) as f64 / total * 100.0;
        let servers = share(self.servers, later.servers);
        let bench = share(self.bench, later.bench);
        let postgres = share(self.postgres, later.postgres);
        let idle = share(self.idle, later.idle);
        CpuUse {
            servers_pct: servers,
            bench_pct: bench,
            postgres_pct: postgres,
            other_pct: (100.0 - idle - servers - bench - postgres).max(0.0),
            idle_pct: idle,
        }
    }
}

/// Shares of the whole machine (all CPUs = 100 %).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CpuUse {
    /// The server instances.
    pub servers_pct: f64,
    /// The load generator and the SMTP sink.
    pub bench_pct: f64,
    /// PostgreSQL's backends connected to the run's database.
    pub postgres_pct: f64,
    /// Everything else (the kernel's own work, other programs).
    pub other_pct: f64,
    /// Idle and waiting for I/O.
    pub idle_pct: f64,
}

/// (all ticks, idle + iowait ticks) of the `cpu` line of /proc/stat.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    Some((total, idle))
}

/// utime + stime + cutime + cstime of a process: its own CPU time and that of its children
/// that have exited (PostgreSQL's backends, once gone, count in the postmaster's).
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    ticks_of_stat(&stat)
}

fn ticks_of_stat(stat: &str) -> Option<u64> {
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14–17 of proc(5) are 12–15 here (the state is field 3, index 0).
    let sum = fields
        .get(11..15)?
        .iter()
        .filter_map(|f| f.parse::<i64>().ok())
        .sum::<i64>();
    u64::try_from(sum).ok()
}

/// CPU ticks of the PostgreSQL backends connected to `database`: their process title
/// (`postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE`) names it. The pool keeps its connections,
/// so backends that exit during a measurement are rare.
fn postgres_ticks(database: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|entry| {
            std::fs::read(entry.path().join("cmdline")).is_ok_and(|title| {
                let title = String::from_utf8_lossy(&title).replace('\0', " ");
                title.starts_with("postgres: ")
                    && title.split_whitespace().any(|word| word == database)
            })
        })
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter_map(|stat| ticks_of_stat(&stat))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_read_after_the_command_name() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 5 0 0";
        assert_eq!(ticks_of_stat(stat), Some(13));
    }

    #[test]
    fn the_machine_and_this_process_are_readable() {
        assert!(process_ticks(std::process::id()).is_some());
        assert!(machine_ticks().is_some_and(|(total, idle)| total >= idle));
    }
}
