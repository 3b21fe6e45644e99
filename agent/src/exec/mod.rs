//! The command catalogue (agent.md §9–10, api-ops.md §3.7): routes a command to its executor.
