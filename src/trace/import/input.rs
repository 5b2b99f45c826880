//! Opening importer inputs and reading them line by line in bounded memory.
//!
//! An input is a file path, or `-` for standard input. Gzip input is
//! recognised by its magic bytes (`1f 8b`), whatever the file is called, and
//! decompressed on the fly; concatenated gzip members are read in turn.
//! Lines end at `\n` (a preceding `\r` is removed). A line longer than
//! [`MAX_LINE_BYTES`] is not kept in memory: its first bytes are kept and the
//! rest is skipped, and the caller is told it was cut.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

/// Longest line an importer looks at, in bytes (1 MiB). An Azure Functions
/// row (1 440 counts) is about 10 kB; anything near this limit is not a
/// record of any supported format.
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// Read buffer size, bytes.
const BUFFER_BYTES: usize = 64 * 1024;

/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens `path` (or standard input for `-`) for line reading, decompressing
/// gzip input.
///
/// # Errors
/// The I/O error of opening the file or reading its first bytes.
pub(crate) fn open(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let raw: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path)?)
    };
    wrap(raw)
}

/// Buffers `raw` and, if it starts with the gzip magic bytes, decompresses it.
///
/// # Errors
/// The I/O error of reading the first bytes.
pub(crate) fn wrap(mut raw: Box<dyn Read>) -> io::Result<Box<dyn BufRead>> {
    let mut head = [0u8; GZIP_MAGIC.len()];
    let mut filled = 0;
    while filled < head.len() {
        match raw.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let is_gzip = head[..filled] == GZIP_MAGIC;
    // Put the peeked bytes back in front of the rest.
    let joined = io::Cursor::new(head[..filled].to_vec()).chain(raw);
    let buffered = BufReader::with_capacity(BUFFER_BYTES, joined);
    if is_gzip {
        let decoder = MultiGzDecoder::new(buffered);
        Ok(Box::new(BufReader::with_capacity(BUFFER_BYTES, decoder)))
    } else {
        Ok(Box::new(buffered))
    }
}

/// How a line read by [`LineReader::next_line`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnd {
    /// The whole line is in the buffer.
    Complete,
    /// The line was longer than [`MAX_LINE_BYTES`]; only its start is in the
    /// buffer.
    Cut,
}

/// Reads lines from a [`BufRead`] into a reusable buffer, never holding more
/// than [`MAX_LINE_BYTES`] of one line, and counts them.
pub(crate) struct LineReader {
    inner: Box<dyn BufRead>,
    /// 1-based number of the line last returned (0 before the first).
    line: u64,
    /// Longest line kept, bytes.
    max_bytes: usize,
}

impl LineReader {
    /// Reads from `inner`.
    pub fn new(inner: Box<dyn BufRead>) -> Self {
        Self::with_limit(inner, MAX_LINE_BYTES)
    }

    /// Reads from `inner`, keeping at most `max_bytes` of a line.
    pub(crate) fn with_limit(inner: Box<dyn BufRead>, max_bytes: usize) -> Self {
        LineReader {
            inner,
            line: 0,
            max_bytes,
        }
    }

    /// 1-based number of the line last returned.
    pub(crate) fn line_number(&self) -> u64 {
        self.line
    }

    /// The reader, positioned after the line last returned.
    pub(crate) fn into_inner(self) -> Box<dyn BufRead> {
        self.inner
    }

    /// Reads the next line into `buf` (cleared first) without its line end.
    /// Returns `None` at the end of the input.
    ///
    /// # Errors
    /// The I/O error of the underlying reader (including corrupt gzip data).
    pub(crate) fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<LineEnd>> {
        buf.clear();
        let mut cut = false;
        let mut saw_any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            saw_any = true;
            let (chunk, consumed, done) = match memchr_newline(available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            let room = self.max_bytes.saturating_sub(buf.len());
            if chunk.len() > room {
                buf.extend_from_slice(&chunk[..room]);
                cut = true;
            } else {
                buf.extend_from_slice(chunk);
            }
            self.inner.consume(consumed);
            if done {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        if !cut && buf.last() == Some(&b'\r') {
            buf.pop();
        }
        self.line += 1;
        Ok(Some(if cut { LineEnd::Cut } else { LineEnd::Complete }))
    }
}

/// Index of the first `\n` in `bytes`.
fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn reader(bytes: &[u8]) -> LineReader {
        LineReader::new(wrap(Box::new(io::Cursor::new(bytes.to_vec()))).unwrap())
    }

    fn all_lines(mut r: LineReader) -> Vec<(u64, String, LineEnd)> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(end) = r.next_line(&mut buf).unwrap() {
            out.push((
                r.line_number(),
                String::from_utf8_lossy(&buf).into_owned(),
                end,
            ));
        }
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn lines_are_numbered_and_lose_their_line_ends() {
        let lines = all_lines(reader(b"a\r\nbb\n\nc"));
        let texts: Vec<_> = lines.iter().map(|(n, t, _)| (*n, t.as_str())).collect();
        assert_eq!(texts, vec![(1, "a"), (2, "bb"), (3, ""), (4, "c")]);
        assert!(all_lines(reader(b"")).is_empty());
        assert_eq!(all_lines(reader(b"\n")).len(), 1);
    }

    #[test]
    fn gzip_input_is_recognised_by_its_magic_bytes() {
        let packed = gzip(b"first\nsecond\n");
        let lines = all_lines(reader(&packed));
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].1, "second");
        // Two gzip members one after the other read as one stream.
        let mut two = gzip(b"a\n");
        two.extend(gzip(b"b\n"));
        let texts: Vec<_> = all_lines(reader(&two)).into_iter().map(|l| l.1).collect();
        assert_eq!(texts, vec!["a", "b"]);
        // A plain file that merely starts with 0x1f is text.
        assert_eq!(all_lines(reader(b"\x1fx\n"))[0].1, "\u{1f}x");
    }

    #[test]
    fn corrupt_gzip_is_an_io_error_not_a_panic() {
        let mut packed = gzip(b"some text that compresses\n");
        let n = packed.len();
        packed[n / 2] ^= 0xff;
        packed.truncate(n - 3);
        let mut r = reader(&packed);
        let mut buf = Vec::new();
        let mut result = Ok(Some(LineEnd::Complete));
        while let Ok(Some(_)) = result {
            result = r.next_line(&mut buf);
        }
        assert!(result.is_err());
    }

    #[test]
    fn overlong_lines_are_cut_and_the_next_line_is_intact() {
        let mut text = vec![b'x'; 100];
        text.extend_from_slice(b"\nshort\n");
        let r = LineReader::with_limit(wrap(Box::new(io::Cursor::new(text))).unwrap(), 10);
        let lines = all_lines(r);
        assert_eq!(lines[0], (1, "x".repeat(10), LineEnd::Cut));
        assert_eq!(lines[1], (2, "short".to_string(), LineEnd::Complete));
    }
}
