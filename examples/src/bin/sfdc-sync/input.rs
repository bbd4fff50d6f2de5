//! Streaming event input: NDJSON, a JSON array, or a Segment batch object `{"batch": [...]}`.
//!
//! The reader scans bytes and parses one event at a time, so memory stays flat in the input
//! size. The format follows from the first non-whitespace byte: `[` is an array; `{` starts a
//! sequence of top-level objects (NDJSON, one per line, or pretty-printed), where an object
//! with a `"batch"` array contributes that array's elements instead of itself.

use std::io::BufRead;

use serde_json::{Map, Value};

/// A malformed input, with the 1-based line where it was found.
#[derive(Debug)]
pub(crate) struct InputError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "input line {}: {}", self.line, self.message)
    }
}

/// One event with the 1-based input line where it starts.
#[derive(Debug)]
pub(crate) struct InputEvent {
    pub(crate) line: usize,
    pub(crate) value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    TopLevel,
    /// Inside an array of events; `in_object` when the array is a batch object's `batch`.
    InArray {
        in_object: bool,
    },
}

/// Iterator over the events of a reader.
#[derive(Debug)]
pub(crate) struct EventReader<R> {
    reader: R,
    line: usize,
    state: State,
    failed: bool,
}

impl<R: BufRead> EventReader<R> {
    /// Reads events from `reader`.
    pub(crate) fn new(reader: R) -> Self {
        EventReader {
            reader,
            line: 1,
            state: State::TopLevel,
            failed: false,
        }
    }

    fn error(&self, message: impl Into<String>) -> InputError {
        InputError {
            line: self.line,
            message: message.into(),
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, InputError> {
        match self.reader.fill_buf() {
            Ok(buf) => Ok(buf.first().copied()),
            Err(e) => Err(self.error(format!("read error: {e}"))),
        }
    }

    fn bump(&mut self) -> Result<Option<u8>, InputError> {
        let byte = self.peek()?;
        if let Some(b) = byte {
            self.reader.consume(1);
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(byte)
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, InputError> {
        while let Some(b) = self.peek()? {
            if b.is_ascii_whitespace() {
                self.bump()?;
            } else {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    fn expect(&mut self, wanted: u8) -> Result<(), InputError> {
        match self.skip_ws()? {
            Some(b) if b == wanted => {
                self.bump()?;
                Ok(())
            }
            Some(b) => Err(self.error(format!(
                "expected '{}', found '{}'",
                wanted as char, b as char
            ))),
            None => Err(self.error(format!("expected '{}', found end of input", wanted as char))),
        }
    }

    /// Copies one JSON value's bytes (string, object, array or scalar) into `out`.
    fn capture(&mut self, out: &mut Vec<u8>) -> Result<(), InputError> {
        let first = self
            .skip_ws()?
            .ok_or_else(|| self.error("expected a value, found end of input"))?;
        match first {
            b'"' => self.capture_string(out),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        None => return Err(self.error("unterminated object or array")),
                        Some(b'"') => self.capture_string(out)?,
                        Some(b) => {
                            self.bump()?;
                            out.push(b);
                            match b {
                                b'{' | b'[' => depth += 1,
                                b'}' | b']' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        return Ok(());
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
            _ => {
                while let Some(b) = self.peek()? {
                    if b.is_ascii_whitespace() || matches!(b, b',' | b']' | b'}') {
                        break;
                    }
                    self.bump()?;
                    out.push(b);
                }
                Ok(())
            }
        }
    }

    fn capture_string(&mut self, out: &mut Vec<u8>) -> Result<(), InputError> {
        // The opening quote.
        if let Some(b) = self.bump()? {
            out.push(b);
        }
        let mut escaped = false;
        loop {
            let b = self
                .bump()?
                .ok_or_else(|| self.error("unterminated string"))?;
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                return Ok(());
            }
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        bytes: &[u8],
        line: usize,
    ) -> Result<T, InputError> {
        serde_json::from_slice(bytes).map_err(|e| InputError {
            line,
            message: format!("invalid JSON: {e}"),
        })
    }

    /// Reads a top-level object. Returns `None` when it was a batch object whose array is now
    /// open (the state is then [`State::InArray`]).
    fn top_level_object(&mut self) -> Result<Option<InputEvent>, InputError> {
        let line = self.line;
        self.expect(b'{')?;
        let mut map = Map::new();
        let mut buf = Vec::new();
        loop {
            match self.skip_ws()? {
                Some(b'}') => {
                    self.bump()?;
                    return Ok(Some(InputEvent {
                        line,
                        value: Value::Object(map),
                    }));
                }
                Some(b',') => {
                    self.bump()?;
                    continue;
                }
                Some(b'"') => {}
                _ => return Err(self.error("expected a key or '}'")),
            }
            buf.clear();
            self.capture_string(&mut buf)?;
            let key_line = self.line;
            let key: String = self.parse(&buf, key_line)?;
            self.expect(b':')?;
            if key == "batch" && self.skip_ws()? == Some(b'[') {
                self.bump()?;
                self.state = State::InArray { in_object: true };
                return Ok(None);
            }
            buf.clear();
            let value_line = self.line;
            self.capture(&mut buf)?;
            let value: Value = self.parse(&buf, value_line)?;
            map.insert(key, value);
        }
    }

    /// Skips the remaining keys of a batch object after its `batch` array.
    fn finish_batch_object(&mut self) -> Result<(), InputError> {
        let mut buf = Vec::new();
        loop {
            match self.skip_ws()? {
                Some(b'}') => {
                    self.bump()?;
                    return Ok(());
                }
                Some(b',') => {
                    self.bump()?;
                }
                Some(b'"') => {
                    buf.clear();
                    self.capture_string(&mut buf)?;
                    self.expect(b':')?;
                    buf.clear();
                    self.capture(&mut buf)?;
                }
                _ => return Err(self.error("expected a key or '}' after the batch array")),
            }
        }
    }

    fn next_event(&mut self) -> Result<Option<InputEvent>, InputError> {
        loop {
            match self.state {
                State::TopLevel => match self.skip_ws()? {
                    None => return Ok(None),
                    Some(b'[') => {
                        self.bump()?;
                        self.state = State::InArray { in_object: false };
                    }
                    Some(b'{') => {
                        if let Some(event) = self.top_level_object()? {
                            return Ok(Some(event));
                        }
                    }
                    Some(b) => {
                        return Err(self.error(format!(
                            "expected an event object or an array, found '{}'",
                            b as char
                        )));
                    }
                },
                State::InArray { in_object } => {
                    if self.skip_ws()? == Some(b',') {
                        self.bump()?;
                    }
                    if self.skip_ws()? == Some(b']') {
                        self.bump()?;
                        if in_object {
                            self.finish_batch_object()?;
                        }
                        self.state = State::TopLevel;
                        continue;
                    }
                    let line = self.line;
                    let mut buf = Vec::new();
                    self.capture(&mut buf)?;
                    let value = self.parse(&buf, line)?;
                    return Ok(Some(InputEvent { line, value }));
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for EventReader<R> {
    type Item = Result<InputEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_event() {
            Ok(event) => event.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(usize, Value)> {
        EventReader::new(text.as_bytes())
            .map(|r| r.map(|e| (e.line, e.value)).unwrap())
            .collect()
    }

    #[test]
    fn ndjson_array_and_batch_read_the_same_events_with_lines() {
        let ndjson = "{\"type\":\"identify\",\"messageId\":\"a\"}\n\n{\"type\":\"track\",\"messageId\":\"b\\\"}\"}\n";
        let events = read(ndjson);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].0, 1);
        assert_eq!(events[1].0, 3);
        assert_eq!(events[1].1["messageId"], "b\"}");

        let array = "[\n {\"messageId\":\"a\"},\n {\"messageId\":\"b\", \"n\": [1,{\"x\":2}]}\n]";
        let events = read(array);
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].0, 3);
        assert_eq!(events[1].1["n"][1]["x"], 2);

        let batch = "{\"sentAt\": \"now\", \"batch\": [{\"messageId\":\"a\"}, {\"messageId\":\"b\"}], \"context\": {\"x\": [1]}}";
        let events = read(batch);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].1["messageId"], "a");
    }

    #[test]
    fn malformed_input_is_an_error_with_its_line() {
        let err = EventReader::new("{\"a\":1}\n{\"a\": }\n".as_bytes())
            .find_map(|r| r.err())
            .unwrap();
        assert_eq!(err.line, 2);
    }
}
