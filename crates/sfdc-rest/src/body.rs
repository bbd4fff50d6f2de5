//! Request bodies: buffered [`Bytes`] or a stream made afresh for every attempt.

use std::fmt;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;

/// Makes a fresh streaming body for one attempt of a request.
///
/// [`crate::RequestBuilder::body_stream`] calls it once per attempt (first send, every retry the
/// policy allows, the replay after a token refresh), because a stream can be consumed only once.
/// It must yield the same bytes every time, exactly as many as the declared content length.
///
/// ```
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use sfdc_rest::BodyFactory;
///
/// let factory: BodyFactory = Arc::new(|| {
///     let chunks = [Ok(Bytes::from_static(b"Name\n")), Ok(Bytes::from_static(b"Acme\n"))];
///     Box::pin(futures::stream::iter(chunks))
/// });
/// # let _ = factory;
/// ```
pub type BodyFactory = Arc<dyn Fn() -> BodyStream + Send + Sync>;

/// One attempt's streaming request body: chunks of bytes, or the I/O error that ends the upload.
pub type BodyStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

/// The default size from which JSON request bodies are gzip-compressed (32 KiB; see
/// [`crate::ClientBuilder::request_compression`]).
pub const DEFAULT_REQUEST_COMPRESSION: usize = 32 * 1024;

/// Compresses a request body with gzip at the fastest level (JSON of records shrinks several
/// times even so, and the client's CPU stays low).
pub(crate) fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// The body of a request being prepared.
#[derive(Clone)]
pub(crate) enum RequestBody {
    /// Held in memory; cloned (cheaply) per attempt.
    Buffered(Bytes),
    /// Produced by the factory per attempt, `len` bytes long.
    Streamed { len: u64, factory: BodyFactory },
}

impl RequestBody {
    /// The body length in bytes (the `Content-Length` sent).
    pub(crate) fn len(&self) -> u64 {
        match self {
            Self::Buffered(b) => b.len() as u64,
            Self::Streamed { len, .. } => *len,
        }
    }

    /// A body for one attempt: a clone of the buffer, or a fresh stream from the factory.
    pub(crate) fn for_attempt(&self) -> reqwest::Body {
        match self {
            Self::Buffered(b) => reqwest::Body::from(b.clone()),
            Self::Streamed { factory, .. } => reqwest::Body::wrap_stream(factory()),
        }
    }

    /// Whether the body is streamed (so `Content-Length` must be set explicitly).
    pub(crate) fn is_streamed(&self) -> bool {
        matches!(self, Self::Streamed { .. })
    }
}

impl fmt::Debug for RequestBody {
    /// Shows the kind and length only, never the content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Buffered(b) => f.debug_tuple("Buffered").field(&b.len()).finish(),
            Self::Streamed { len, .. } => f.debug_tuple("Streamed").field(len).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_length_not_content() {
        let buffered = RequestBody::Buffered(Bytes::from_static(b"secret,csv"));
        assert_eq!(format!("{buffered:?}"), "Buffered(10)");
        let factory: BodyFactory = Arc::new(|| {
            Box::pin(futures::stream::iter([Ok(Bytes::from_static(
                b"secret,csv",
            ))]))
        });
        let streamed = RequestBody::Streamed { len: 10, factory };
        assert_eq!(format!("{streamed:?}"), "Streamed(10)");
        assert_eq!(streamed.len(), 10);
        assert!(streamed.is_streamed());
        assert!(!buffered.is_streamed());
    }

    #[test]
    fn gzip_round_trips() {
        use std::io::Read;
        let json = br#"{"records":[{"LastName":"Doe"}]}"#.repeat(100);
        let packed = gzip(&json).unwrap();
        assert!(packed.len() * 5 < json.len(), "{} bytes", packed.len());
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(packed.as_slice())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, json);
    }
}
