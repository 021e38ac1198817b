//! The process metrics of `/metrics` (`process_*`, unprefixed, as every Prometheus client names them):
//! resident memory, CPU seconds, open and allowed file descriptors, start time. Read from `/proc` at
//! scrape time by the `procfs` crate; on other systems there are none.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

/// The process collector, registered at the root of the registry (no `aduan_` prefix).
#[derive(Debug, Default)]
pub struct ProcessCollector;

#[cfg(target_os = "linux")]
impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        use procfs::process::{LimitValue, Process};
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::counter::ConstCounter;
        use prometheus_client::metrics::gauge::ConstGauge;

        fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: f64) -> Result<(), std::fmt::Error> {
            let g = ConstGauge::new(v);
            g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
        }

        // A /proc that cannot be read (a hardened container) leaves the metrics out, not the scrape.
        let Ok(me) = Process::myself() else { return Ok(()) };
        if let Ok(stat) = me.stat() {
            let ticks = procfs::ticks_per_second().max(1) as f64;
            let cpu = ConstCounter::new((stat.utime + stat.stime) as f64 / ticks);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "User and system CPU time spent, in seconds",
                None,
                cpu.metric_type(),
            )?)?;
            let rss = (stat.rss * procfs::page_size()) as f64;
            gauge(&mut encoder, "process_resident_memory_bytes", "Resident memory size, in bytes", rss)?;
            gauge(&mut encoder, "process_virtual_memory_bytes", "Virtual memory size, in bytes", stat.vsize as f64)?;
            if let Ok(boot) = procfs::boot_time_secs() {
                let start = boot as f64 + stat.starttime as f64 / ticks;
                gauge(
                    &mut encoder,
                    "process_start_time_seconds",
                    "Start time since the Unix epoch, in seconds",
                    start,
                )?;
            }
        }
        if let Ok(n) = me.fd_count() {
            gauge(&mut encoder, "process_open_fds", "Open file descriptors", n as f64)?;
        }
        if let Ok(LimitValue::Value(max)) = me.limits().map(|l| l.max_open_files.soft_limit) {
            gauge(&mut encoder, "process_max_fds", "The limit of open file descriptors", max as f64)?;
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
impl Collector for ProcessCollector {
    fn encode(&self, _encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        Ok(())
    }
}
