//! The bus core: one glommio executor, in cluster mode only, beside the shard threads. It owns
//! the cluster cron (every 100 ms). Until the bus protocol lands (MEET, gossip, failure
//! detection), the cron keeps nodes.conf durable: a save that failed (a full disk, say) is
//! retried until it succeeds. The only glommio code in slotd.

use crate::global::Global;
use glommio::{LocalExecutorBuilder, Placement};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Cluster cron period (Redis runs clusterCron 10 times a second).
const CRON_PERIOD_MS: u64 = 100;
/// Registered-buffer memory for the executor: the bus does no O_DIRECT file I/O, so the
/// minimum (glommio-notes.md section 1: the default 10 MiB would exceed RLIMIT_MEMLOCK).
const IO_MEMORY_BYTES: usize = 64 * 1024;
/// Preemption bound so a busy bus task cannot delay timers (glommio-notes.md section 3).
const PREEMPT_TIMER_MS: u64 = 2;

/// Starts the bus core; it stops on its own once the server is shutting down.
pub fn spawn(global: Arc<Global>) -> Result<glommio::ExecutorJoinHandle<()>, String> {
    LocalExecutorBuilder::new(Placement::Unbound)
        .name("slotd-bus")
        .io_memory(IO_MEMORY_BYTES)
        .preempt_timer(Duration::from_millis(PREEMPT_TIMER_MS))
        .spawn(move || async move {
            while !global.shutting_down.load(Ordering::SeqCst) {
                glommio::timer::sleep(Duration::from_millis(CRON_PERIOD_MS)).await;
                cron(&global);
            }
        })
        .map_err(|e| format!("starting the cluster bus executor: {e}"))
}

fn cron(global: &Global) {
    let Some(cluster) = global.cluster.as_ref() else {
        return;
    };
    let mut st = cluster.lock().unwrap_or_else(|e| e.into_inner());
    if st.save_failed {
        match st.save() {
            Ok(()) => crate::log::notice("Cluster configuration saved after an earlier failure"),
            Err(e) => crate::log::debug(&format!("Still unable to save nodes.conf: {e}")),
        }
    }
}
