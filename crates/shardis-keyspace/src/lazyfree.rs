//! Freeing big values off the request path: a collection with many elements is handed to a
//! background thread to drop, so deleting or overwriting it never stalls the event loop that
//! ran the command (Redis's lazyfree). Small values are dropped in place: a hand-off costs
//! more than their free.

use crate::{Entry, Shard, Value};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

/// Collections with more elements than this are freed in the background, as in Redis
/// (LAZYFREE_THRESHOLD).
const THRESHOLD: usize = 64;

/// Anything to drop on the lazy-free thread.
type Garbage = Box<dyn Send>;

fn sender() -> &'static Mutex<Sender<Garbage>> {
    static TX: OnceLock<Mutex<Sender<Garbage>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = channel::<Garbage>();
        std::thread::Builder::new()
            .name("shardis-lazyfree".into())
            .spawn(move || rx.into_iter().for_each(drop))
            .expect("spawn the lazy-free thread");
        Mutex::new(tx)
    })
}

fn send(g: Garbage) {
    let tx = sender().lock().unwrap_or_else(|e| e.into_inner()).clone();
    // If the thread is gone (process exit), the value is simply dropped here.
    let _ = tx.send(g);
}

/// The number of elements freeing `v` touches.
pub fn weight(v: &Value) -> usize {
    match v {
        Value::Str(_) => 1,
        Value::Hash(h) => h.len(),
        Value::List(l) => l.len(),
        Value::Set(s) => s.len(),
        Value::ZSet(z) => z.len(),
    }
}

/// Drops a replaced or deleted value, in the background when it is big.
pub fn free_value(v: Value) {
    if weight(&v) > THRESHOLD {
        send(Box::new(v));
    }
}

/// Drops a removed entry, in the background when its value is big.
pub fn free_entry(e: Box<Entry>) {
    if weight(&e.value) > THRESHOLD {
        send(Box::new(e));
    }
}

/// Drops flushed shards in the background (FLUSHDB/FLUSHALL ASYNC).
pub fn free_shards(s: Vec<Shard>) {
    send(Box::new(s));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::{End, List};

    #[test]
    fn big_values_are_freed_on_the_background_thread() {
        struct Probe(std::sync::mpsc::Sender<String>);
        impl Drop for Probe {
            fn drop(&mut self) {
                let name = std::thread::current().name().unwrap_or("").to_string();
                let _ = self.0.send(name);
            }
        }
        let (tx, rx) = channel();
        send(Box::new(Probe(tx)));
        assert_eq!(rx.recv().unwrap(), "shardis-lazyfree");
        let mut l = List::default();
        (0..1000).for_each(|i| l.push(End::Right, i.to_string().as_bytes()));
        assert_eq!(weight(&Value::List(Box::new(l))), 1000);
    }
}
