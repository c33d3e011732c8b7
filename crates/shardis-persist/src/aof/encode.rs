//! Encoding commands the way Redis appends them to an AOF file (catAppendOnlyGenericCommand, feedAppendOnlyFile).
//!
//! This file must not depend on command semantics: it writes whatever arguments it is given.

/// Appends `*<argc>\r\n` and `$<len>\r\n<arg>\r\n` for every argument.
pub fn encode_command(buf: &mut Vec<u8>, args: &[&[u8]]) {
    let total: usize = args.iter().map(|a| a.len() + 16).sum::<usize>() + 16;
    buf.reserve(total);
    encode_command_from(buf, args.iter().copied());
}

/// [`encode_command`] for arguments that are not in a slice (a command's own arguments).
pub fn encode_command_from<'a>(buf: &mut Vec<u8>, args: impl ExactSizeIterator<Item = &'a [u8]>) {
    let mut num = itoa::Buffer::new();
    buf.push(b'*');
    buf.extend_from_slice(num.format(args.len()).as_bytes());
    buf.extend_from_slice(b"\r\n");
    for arg in args {
        buf.push(b'$');
        buf.extend_from_slice(num.format(arg.len()).as_bytes());
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(arg);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Appends the SELECT Redis writes before a command for a different db than the last one.
pub fn encode_select(buf: &mut Vec<u8>, db: u32) {
    let mut num = itoa::Buffer::new();
    encode_command(buf, &[b"SELECT", num.format(db).as_bytes()]);
}

/// Appends the `#TS:<unix seconds>\r\n` annotation Redis writes with aof-timestamp-enabled.
pub fn encode_timestamp_annotation(buf: &mut Vec<u8>, unix_seconds: i64) {
    buf.extend_from_slice(b"#TS:");
    buf.extend_from_slice(itoa::Buffer::new().format(unix_seconds).as_bytes());
    buf.extend_from_slice(b"\r\n");
}
