//! Length-prefixed frames: `len: u32 big-endian || len bytes`, bounded per channel.

use std::io;

use futures::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::channel::Channel;
use crate::limits::FRAME_HEADER_BYTES;

/// The byte the receiving side writes once it has taken an inbound stream, before any frame.
/// The opener sends nothing until it has read it, so a stream that the receiving libp2p stack
/// dropped (it drops streams that arrive faster than they are accepted) is noticed and reopened
/// instead of silently losing the first frames.
pub(crate) const READY: u8 = 0x01;

/// Initial capacity of a frame's buffer; it grows with the bytes actually received, so a
/// length prefix alone cannot make the receiver allocate the channel's whole limit.
const INITIAL_FRAME_CAPACITY: usize = 64 * 1024;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The length prefix announces more than the channel allows. A protocol violation: the
    /// stream is dropped and the sender penalized.
    #[error("frame of {len} bytes is over the {channel} channel's limit of {max} bytes")]
    Oversized {
        /// The channel.
        channel: Channel,
        /// The announced length.
        len: u32,
        /// The channel's limit.
        max: u32,
    },
    /// The stream ended inside a frame.
    #[error("stream ended inside a frame")]
    Truncated,
    /// The stream failed.
    #[error("stream error: {0}")]
    Io(#[from] io::Error),
}

/// Reads one frame of `channel` from a peer's stream. `Ok(None)` is a clean end of stream
/// between frames. A length over the channel's limit is refused before any of the body is read,
/// and the buffer grows with the bytes that actually arrive, never with the announced length.
/// Public so that the frame decoder can be fuzzed on its own (`fuzz/`).
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    channel: Channel,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut header = [0u8; FRAME_HEADER_BYTES];
    let mut filled = 0;
    while filled < header.len() {
        let read = reader.read(&mut header[filled..]).await?;
        if read == 0 {
            return if filled == 0 {
                Ok(None)
            } else {
                Err(FrameError::Truncated)
            };
        }
        filled += read;
    }
    let len = u32::from_be_bytes(header);
    let max = channel.max_message_bytes();
    if len > max {
        return Err(FrameError::Oversized { channel, len, max });
    }
    let len_bytes =
        usize::try_from(len).map_err(|_| FrameError::Oversized { channel, len, max })?;
    let mut payload = Vec::with_capacity(len_bytes.min(INITIAL_FRAME_CAPACITY));
    reader
        .take(u64::from(len))
        .read_to_end(&mut payload)
        .await?;
    if payload.len() != len_bytes {
        return Err(FrameError::Truncated);
    }
    Ok(Some(payload))
}

/// Writes one frame (without flushing). Refuses payloads whose length does not fit the prefix;
/// the channel's limit is checked by the caller, so tests can write oversized frames.
pub async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame longer than 4 GiB"))?;
    writer.write_all(&len.to_be_bytes()).await?;
    writer.write_all(payload).await
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use futures::io::Cursor;

    use super::*;

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        for payload in payloads {
            block_on(write_frame(&mut out, payload)).unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn round_trip_in_order_then_clean_end() {
        let bytes = framed(&[b"one", b"", b"three"]);
        assert_eq!(&bytes[..7], &[0, 0, 0, 3, b'o', b'n', b'e']);
        let mut reader = Cursor::new(bytes);
        let mut read = || block_on(read_frame(&mut reader, Channel::Consensus)).unwrap();
        assert_eq!(read().as_deref(), Some(&b"one"[..]));
        assert_eq!(read().as_deref(), Some(&b""[..]));
        assert_eq!(read().as_deref(), Some(&b"three"[..]));
        assert_eq!(read(), None);
    }

    #[test]
    fn limit_is_inclusive_and_checked_before_reading_the_body() {
        let max = Channel::Consensus.max_message_bytes();
        let at_limit = vec![7u8; usize::try_from(max).unwrap()];
        let mut reader = Cursor::new(framed(&[&at_limit]));
        let frame = block_on(read_frame(&mut reader, Channel::Consensus)).unwrap();
        assert_eq!(frame.map(|f| f.len()), Some(at_limit.len()));

        // Only the header of an oversized frame: the error comes without waiting for the body.
        let mut reader = Cursor::new((max + 1).to_be_bytes().to_vec());
        match block_on(read_frame(&mut reader, Channel::Consensus)) {
            Err(FrameError::Oversized {
                channel,
                len,
                max: limit,
            }) => {
                assert_eq!((channel, len, limit), (Channel::Consensus, max + 1, max));
            }
            other => panic!("expected an oversized frame, got {other:?}"),
        }
        // The same length is fine on a channel with a larger limit, but the body is missing.
        let mut reader = Cursor::new((max + 1).to_be_bytes().to_vec());
        assert!(matches!(
            block_on(read_frame(&mut reader, Channel::Blocks)),
            Err(FrameError::Truncated)
        ));
    }

    #[test]
    fn truncated_header_and_body_are_errors() {
        for cut in [1, 3, 5, 7] {
            let mut bytes = framed(&[b"four"]);
            bytes.truncate(cut);
            let mut reader = Cursor::new(bytes);
            assert!(
                matches!(
                    block_on(read_frame(&mut reader, Channel::Sync)),
                    Err(FrameError::Truncated)
                ),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn huge_length_prefix_does_not_allocate_it() {
        // u32::MAX is over every limit; a prefix just under the blocks limit with no body must
        // fail as truncated, having allocated only what arrived.
        let mut reader = Cursor::new(u32::MAX.to_be_bytes().to_vec());
        assert!(matches!(
            block_on(read_frame(&mut reader, Channel::Blocks)),
            Err(FrameError::Oversized { .. })
        ));
        let len = Channel::Blocks.max_message_bytes();
        let mut bytes = len.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[1, 2, 3]);
        let mut reader = Cursor::new(bytes);
        assert!(matches!(
            block_on(read_frame(&mut reader, Channel::Blocks)),
            Err(FrameError::Truncated)
        ));
    }
}
