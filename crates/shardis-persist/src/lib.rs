//! Persistence (stub lib.rs on this branch; the real one comes from the rdb branch).
pub mod aof;
