//! The cluster settings CONFIG SET may change while the node runs (`cluster-node-timeout`,
//! `cluster-allow-replica-migration`, `cluster-replica-no-failover`, ...). Redis reads them
//! live; slotd copies them into the cluster state at start and again on every bus cron run
//! (read outside the cluster lock, applied under it), so a change takes effect within one
//! cron period. `cluster-replica-no-failover` also sets this node's `nofailover` flag, which
//! every ping header carries to the other nodes (Redis' clusterUpdateMyselfFlags).

use crate::cluster::node::flag;
use crate::cluster::state::{ClusterState, EndpointType};
use crate::config::Config;

/// A snapshot of the run-time cluster settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub node_timeout_ms: u64,
    pub endpoint_type: EndpointType,
    pub allow_replica_migration: bool,
    pub replica_no_failover: bool,
    pub replica_validity_factor: u64,
    pub migration_barrier: usize,
    pub repl_ping_period_ms: u64,
    pub require_full_coverage: bool,
    pub allow_reads_when_down: bool,
}

/// The settings as the configuration holds them now.
pub fn read(cfg: &Config) -> Policy {
    Policy {
        node_timeout_ms: cfg.cluster_node_timeout_ms,
        endpoint_type: match cfg.stored("cluster-preferred-endpoint-type", "ip").as_str() {
            "hostname" => EndpointType::Hostname,
            "unknown-endpoint" => EndpointType::Unknown,
            _ => EndpointType::Ip,
        },
        allow_replica_migration: cfg.stored_bool("cluster-allow-replica-migration", true),
        replica_no_failover: cfg.stored_bool("cluster-replica-no-failover", false),
        replica_validity_factor: cfg.stored_i64("cluster-replica-validity-factor", 10).max(0)
            as u64,
        migration_barrier: cfg.stored_i64("cluster-migration-barrier", 1).max(0) as usize,
        repl_ping_period_ms: cfg.stored_i64("repl-ping-replica-period", 10).max(1) as u64 * 1000,
        require_full_coverage: cfg.cluster_require_full_coverage,
        allow_reads_when_down: cfg.cluster_allow_reads_when_down,
    }
}

impl ClusterState {
    /// The settings the state runs with now.
    pub fn policy(&self) -> Policy {
        Policy {
            node_timeout_ms: self.node_timeout_ms,
            endpoint_type: self.endpoint_type,
            allow_replica_migration: self.allow_replica_migration,
            replica_no_failover: self.replica_no_failover,
            replica_validity_factor: self.replica_validity_factor,
            migration_barrier: self.migration_barrier,
            repl_ping_period_ms: self.repl_ping_period_ms,
            require_full_coverage: self.require_full_coverage,
            allow_reads_when_down: self.allow_reads_when_down,
        }
    }

    /// Takes `p`; a no-op when nothing changed. The `nofailover` flag change is saved to
    /// nodes.conf and published, as Redis does.
    pub fn apply_policy(&mut self, p: Policy) {
        let flags_before = self.myself_node().flags;
        if self.policy() == p && self.myself_flags_follow(&p) == flags_before {
            return;
        }
        self.node_timeout_ms = p.node_timeout_ms;
        self.endpoint_type = p.endpoint_type;
        self.allow_replica_migration = p.allow_replica_migration;
        self.replica_no_failover = p.replica_no_failover;
        self.replica_validity_factor = p.replica_validity_factor;
        self.migration_barrier = p.migration_barrier;
        self.repl_ping_period_ms = p.repl_ping_period_ms;
        self.require_full_coverage = p.require_full_coverage;
        self.allow_reads_when_down = p.allow_reads_when_down;
        let flags = self.myself_flags_follow(&p);
        if flags != flags_before {
            self.myself_mut_pub().flags = flags;
            self.save_later(false);
        }
        self.touch();
    }

    /// Our flags with `nofailover` as `p` says.
    fn myself_flags_follow(&self, p: &Policy) -> u16 {
        let f = self.myself_node().flags & !flag::NOFAILOVER;
        if p.replica_no_failover {
            f | flag::NOFAILOVER
        } else {
            f
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_failover_sets_and_clears_our_flag() {
        let mut st = ClusterState::new("a".repeat(40));
        let mut p = st.policy();
        p.replica_no_failover = true;
        let v = st.version;
        st.apply_policy(p.clone());
        assert!(st.myself_node().has(flag::NOFAILOVER));
        assert!(st
            .node_line(st.myself)
            .contains("myself,master,nofailover "));
        assert!(st.todo_save && st.version > v);
        let v = st.version;
        st.apply_policy(p.clone());
        assert_eq!(st.version, v, "unchanged settings publish nothing");
        p.replica_no_failover = false;
        p.allow_replica_migration = false;
        st.apply_policy(p);
        assert!(!st.myself_node().has(flag::NOFAILOVER));
        assert!(!st.allow_replica_migration);
    }
}
