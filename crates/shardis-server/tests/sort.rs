//! SORT and SORT_RO against redis-server: numeric and ALPHA, BY (keys, hash fields, nosort),
//! GET (incl. `#`), LIMIT, DESC, STORE, and their errors.

mod common;
use common::*;

fn load(p: &mut Pair) {
    let setup: &[&[&str]] = &[
        &["RPUSH", "nums", "3", "1", "2", "10", "-5", "2.5"],
        &["RPUSH", "words", "pear", "apple", "fig", "Banana", "apple"],
        &["RPUSH", "mixed", "1", "x", "2"],
        &["SADD", "sn", "5", "3", "9", "1"],
        &["SADD", "sw", "b", "a", "c"],
        &[
            "MSET", "w_3", "30", "w_1", "10", "w_2", "20", "w_10", "5", "w_-5", "50",
        ],
        &["MSET", "name_1", "one", "name_2", "two", "name_3", "three"],
        &["HSET", "h_1", "rank", "9", "label", "uno"],
        &["HSET", "h_2", "rank", "7", "label", "dos"],
        &["HSET", "h_3", "rank", "8"],
        &["SET", "str", "x"],
        &["ZADD", "z", "3", "c", "1", "a", "2", "b", "2", "bb"],
        &["ZADD", "zn", "1", "30", "2", "10", "3", "20"],
    ];
    for c in setup {
        let (a, b) = p.both(c);
        assert_eq!(b, a, "{c:?}");
    }
}

#[test]
fn sort_matches_redis() {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    load(&mut p);
    let cases: &[&[&str]] = &[
        &["SORT", "nums"],
        &["SORT", "nums", "DESC"],
        &["SORT", "nums", "LIMIT", "1", "3"],
        &["SORT", "nums", "LIMIT", "-1", "2"],
        &["SORT", "nums", "LIMIT", "4", "-1"],
        &["SORT", "nums", "LIMIT", "10", "5"],
        &["SORT", "nums", "LIMIT", "0", "0"],
        &["SORT", "words"],
        &["SORT", "words", "ALPHA"],
        &["SORT", "words", "ALPHA", "DESC", "LIMIT", "1", "2"],
        &["SORT", "mixed"],
        &["SORT", "mixed", "ALPHA"],
        &["SORT", "sn"],
        &["SORT", "sw", "ALPHA"],
        &["SORT", "sw"],
        &["SORT", "nums", "BY", "w_*"],
        &["SORT", "nums", "BY", "w_*", "DESC"],
        &["SORT", "nums", "BY", "nosort"],
        &["SORT", "nums", "BY", "nosort", "LIMIT", "1", "2"],
        &["SORT", "nums", "BY", "w_*", "GET", "#", "GET", "name_*"],
        &["SORT", "nums", "GET", "name_*", "GET", "h_*->label"],
        &["SORT", "nums", "BY", "h_*->rank", "GET", "#"],
        &[
            "SORT",
            "nums",
            "BY",
            "h_*->rank",
            "GET",
            "h_*->label",
            "GET",
            "h_*->",
        ],
        &["SORT", "words", "BY", "nokey_*", "ALPHA"],
        &["SORT", "nums", "BY", "nokey_*"],
        &["SORT", "nums", "STORE", "dst"],
        &["LRANGE", "dst", "0", "-1"],
        &["SORT", "words", "ALPHA", "GET", "#", "STORE", "dst2"],
        &["LRANGE", "dst2", "0", "-1"],
        &["SORT", "sn", "BY", "nosort", "STORE", "dst3"],
        &["LRANGE", "dst3", "0", "-1"],
        &["SORT", "nokey", "STORE", "dst"],
        &["EXISTS", "dst"],
        &["SORT", "nokey"],
        &["SORT", "str"],
        &["SORT", "nums", "LIMIT", "1"],
        &["SORT", "nums", "LIMIT", "a", "1"],
        &["SORT", "nums", "BOGUS"],
        &["SORT_RO", "nums", "DESC"],
        &["SORT_RO", "nums", "STORE", "x"],
        &["SORT_RO", "words", "ALPHA", "BY", "w_*"],
        &["SORT", "z", "ALPHA"],
        &["SORT", "z", "BY", "nosort"],
        &["SORT", "z", "BY", "nosort", "DESC"],
        &["SORT", "z", "BY", "nosort", "LIMIT", "1", "2"],
        &["SORT", "zn"],
        &["SORT", "zn", "BY", "nosort", "STORE", "zdst"],
        &["LRANGE", "zdst", "0", "-1"],
    ];
    for c in cases {
        let (a, b) = p.both(c);
        assert_eq!(b, a, "{c:?}");
    }
    // An unsorted set's order is Redis's own hash order: compare as sets.
    let (a, b) = p.both(&["SORT", "sw", "BY", "nosort"]);
    assert_eq!(sorted_reply(&b), sorted_reply(&a));
}
